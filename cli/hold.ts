// `rproc-supervisor hold`: holds a lease while a command runs, the way flock and systemd-inhibit do.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import {
  clientLabelError,
  MAX_CLIENT_LABEL,
  type PushedEvent,
  type WireError,
} from '../actors/daemon/protocol.js';
import { checkTtl, MAX_TTL_MS } from '../machines/leaseMachine.js';
import { commandArgs } from './commandArgs.js';
import { defaultSocket } from './defaults.js';
import { EXIT, signalExit } from './exitCodes.js';
import { EXEC_EXCLUDES, execHeld } from './holdExec.js';
import { type CliIo, errnoOf } from './io.js';

export const HOLD_HELP = `Usage: rproc-supervisor hold <processor> [--firmware F] [--socket P] [--ttl MS] [--reconnect]
                             [--on-lost term|kill|ignore] [--exec] -- CMD [ARGS…]

Holds a lease on <processor> (remoteprocN or its name) while CMD runs. The lease's connection is passed
to CMD as an inherited descriptor, its number in $RPROC_LEASE_FD, so the lease lives until the last of
this wrapper and CMD is gone: a SIGKILL of the wrapper alone does not end it; a SIGKILL of CMD after the
wrapper is gone does. When CMD exits (any status; not killed by a signal), the wrapper first releases
the lease, so the processor stops at once rather than after its offGraceMs (a death's grace). The wrapper never reads that descriptor: it is CMD's. It watches the lease on a
connection of its own, and when the lease is lost (the daemon gone, the TTL expired, the processor
stopped by someone else or removed) it prints "rproc-supervisor hold: lease lost (REASON)", signals CMD
(--on-lost) and exits 69 once CMD has ended. SIGINT and SIGTERM are forwarded to CMD.

Options:
  --firmware F        firmware to boot if the processor has to be started
  --socket P          default $XDG_RUNTIME_DIR/rproc-supervisor.sock, else /run/rproc-supervisor.sock
  --ttl MS            the lease ends after MS without a ping; the wrapper pings every MS/3 on its own
                      connection (CMD may ping too, through $RPROC_LEASE_FD: write {"op":"ping","id":1}
                      and a newline)
  --reconnect         on a loss, get the lease back (every 300 ms, for up to 10 s) before acting on it:
                      first with the daemon's resume token (the same lease, from a daemon restarted
                      under systemd's fd store, docs/systemd.md), else by a new acquire; the new
                      lease's connection is the wrapper's only
  --on-lost A         what a lost lease does to CMD: term (default: SIGTERM), kill (SIGKILL), ignore
  --exec              once the processor runs, replace hold with CMD (execve, as flock -F): no wrapper
                      process remains; the lease lives exactly as long as CMD and whatever inherits
                      $RPROC_LEASE_FD (blocking). Gives up the wrapper's work: a lost lease is not acted
                      on, there is no --reconnect, and with --ttl only CMD's own pings keep the lease
  -h, --help          show this help

Exit status: CMD's (128+n if a signal ended it); 69 (EX_UNAVAILABLE) if the daemon cannot be reached,
the processor failed to boot or did not boot in time (CMD is not run), or the lease was lost (once CMD
has ended); 1 if the lease is refused; 127 if CMD cannot be run; 2 for bad usage.
`;

/** How long `--reconnect` tries to get a lost lease back, and how often. */
const RECONNECT_FOR_MS = 10_000;
const RECONNECT_EVERY_MS = 300;

/** What `--on-lost` sends CMD. */
const ON_LOST: Record<string, NodeJS.Signals | null> = { term: 'SIGTERM', kill: 'SIGKILL', ignore: null };

/** A lease acquired: its connection and its id. */
interface Held {
  client: DaemonClient;
  lease: string;
  /** The daemon's resume token for it (a daemon with a service manager's fd store gives one). */
  resume?: string;
  /** It was resumed with a token rather than acquired anew. */
  resumed?: boolean;
  /** The losses heard on its connection until the wrapper tracks it. */
  heard: ReturnType<typeof hearLoss>;
}

/**
 * Whether a refused acquire means the processor is unavailable (exit 69) rather than refused (exit 1):
 * the daemon went, the peer is not allowed, the boot failed (`during: 'boot'`) or timed out.
 */
function unavailable(error: WireError): boolean {
  return ['ECONNRESET', 'EACCES', 'ETIMEDOUT'].includes(error.code) || error.during === 'boot';
}

/**
 * Records every `lease.lost` heard on the connections it is given (a lease's own connection from its
 * connect, then the watcher) while the wrapper is not tracking the lease yet: between the acquire's
 * answer and the watch the lease can already be gone (its processor removed, stopped by another), and
 * the event can come in the same data as the answer; a loss then must not go unsaid.
 */
function hearLoss(first: DaemonClient) {
  const lost = new Map<string, string>();
  const waiters: Array<() => void> = [];
  const conns: DaemonClient[] = [];
  const on = (e: PushedEvent) => {
    if (e.event !== 'lease.lost' || lost.has(e.lease) || lost.size >= 16) return;
    lost.set(e.lease, e.reason);
    for (const w of waiters.splice(0)) w();
  };
  const add = (c: DaemonClient) => {
    conns.push(c);
    c.on('event', on);
  };
  add(first);
  return {
    add,
    reason: (lease: string): string | null => lost.get(lease) ?? null,
    /** The reason once heard, or null after `ms`. */
    wait: (lease: string, ms: number): Promise<string | null> =>
      lost.has(lease)
        ? Promise.resolve(lost.get(lease) ?? null)
        : new Promise((resolve) => {
            const done = () => {
              clearTimeout(t);
              resolve(lost.get(lease) ?? null);
            };
            const t = setTimeout(() => {
              waiters.splice(waiters.indexOf(done), 1);
              resolve(null);
            }, ms);
            waiters.push(done);
          }),
    stop: () => {
      for (const c of conns.splice(0)) c.off('event', on);
    },
  };
}

/** How long a wrapper whose watch found its lease gone waits for the `lease.lost` that says why. */
const LOSS_REASON_WAIT_MS = 1000;

/**
 * Calls `onLoss` once when lease `lease` is lost as `conn` sees it: `lease.lost` with its reason, or the
 * connection's end (`daemon-gone`); a `lease.ended` (CMD released it) just stops the watching. Returns
 * the stop.
 */
function track(conn: DaemonClient, lease: string, onLoss: (reason: string) => void): () => void {
  let on = true;
  const off = () => {
    on = false;
    conn.off('event', event);
    conn.off('close', close);
  };
  const event = (e: PushedEvent) => {
    if (!on || !('lease' in e) || e.lease !== lease) return;
    if (e.event === 'lease.lost') {
      off();
      onLoss(e.reason);
    } else if (e.event === 'lease.ended') off();
  };
  const close = () => {
    if (!on) return;
    off();
    onLoss('daemon-gone');
  };
  conn.on('event', event);
  conn.on('close', close);
  return off;
}

/**
 * The client label of a lease held for `command`: the command itself when it is a valid label
 * (printable, at most 64 characters), else its last path component, cut to 64 with what is not
 * printable replaced by `?`.
 */
export function holdLabel(command: string): string {
  if (!clientLabelError(command)) return command;
  const base = command.slice(command.lastIndexOf('/') + 1) || 'hold';
  const label = [...base.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '?')].slice(0, MAX_CLIENT_LABEL).join('');
  return clientLabelError(label) ? 'hold' : label;
}

/** Runs `hold`. */
export async function holdCommand(args: string[], io: CliIo): Promise<number> {
  const dash = args.indexOf('--');
  const own = dash < 0 ? args : args.slice(0, dash);
  const cmd = dash < 0 ? [] : args.slice(dash + 1);
  const parsed = commandArgs(
    'hold',
    HOLD_HELP,
    io,
    own,
    {
      firmware: { type: 'string' },
      socket: { type: 'string' },
      ttl: { type: 'string' },
      reconnect: { type: 'boolean' },
      'on-lost': { type: 'string' },
      exec: { type: 'boolean' },
    },
    true,
  );
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as {
    firmware?: string;
    socket?: string;
    ttl?: string;
    reconnect?: boolean;
    'on-lost'?: string;
    exec?: boolean;
    help?: boolean;
  };
  const positionals = parsed.positionals;
  const [processor] = positionals;
  if (!processor || positionals.length !== 1 || cmd.length === 0) {
    io.stderr(`rproc-supervisor hold: expected <processor> -- CMD [ARGS…]\n\n${HOLD_HELP}`);
    return EXIT.usage;
  }
  const ttlMs = values.ttl === undefined ? null : Number(values.ttl);
  if (ttlMs !== null && !checkTtl(ttlMs).ok) {
    io.stderr(`rproc-supervisor hold: --ttl: expected an integer from 1 to ${MAX_TTL_MS} (ms)\n`);
    return EXIT.usage;
  }
  const onLost = values['on-lost'] ?? 'term';
  if (!(onLost in ON_LOST)) {
    io.stderr(`rproc-supervisor hold: --on-lost ${onLost}: expected term, kill or ignore\n`);
    return EXIT.usage;
  }
  const excluded = values.exec ? EXEC_EXCLUDES.find((f) => values[f] !== undefined) : undefined;
  if (excluded) {
    io.stderr(`rproc-supervisor hold: --exec cannot be combined with --${excluded} (no wrapper remains)\n`);
    return EXIT.usage;
  }
  const socketPath = values.socket ?? defaultSocket();
  const say = (line: string) => io.stderr(`rproc-supervisor hold: ${line}\n`);
  const acquire = async (quiet = false): Promise<Held | number> => {
    let client: DaemonClient;
    try {
      client = await DaemonClient.connect(socketPath);
    } catch (err) {
      if (!quiet) say(`cannot reach the daemon at ${socketPath}: ${errnoOf(err)}`);
      return EXIT.unavailable;
    }
    const heard = hearLoss(client);
    const r = await client.request({
      op: 'acquire',
      processor,
      client: holdLabel(cmd[0] ?? 'hold'),
      ...(values.firmware ? { firmware: values.firmware } : {}),
      ...(ttlMs ? { ttlMs } : {}),
    });
    if (!r.ok) {
      heard.stop();
      client.close();
      if (!quiet) say(`${processor}: ${r.error.code}: ${r.error.message}`);
      return unavailable(r.error) ? EXIT.unavailable : EXIT.failed;
    }
    return { client, lease: r.lease, heard, ...(r.resume ? { resume: r.resume } : {}) };
  };
  /** The latest resume token: `--reconnect` tries `resume` with it before a new acquire. */
  let token: string | undefined;
  /**
   * `resume` with the token (docs/systemd.md): the same lease back from a restarted daemon; null when
   * there is no token or the daemon refuses it (ENOENT past its grace, or EPROTO from a daemon
   * without the op): then a new acquire is made.
   */
  const resume = async (): Promise<Held | null> => {
    if (!token) return null;
    let client: DaemonClient;
    try {
      client = await DaemonClient.connect(socketPath);
    } catch {
      return null;
    }
    const heard = hearLoss(client);
    const r = await client.request({ op: 'resume', token, ...(ttlMs ? { ttlMs } : {}) });
    if (!r.ok) {
      heard.stop();
      client.close();
      // Unknown, used or past the grace: the token is spent.
      if (r.error.code !== 'ECONNRESET') token = undefined;
      return null;
    }
    return { client, lease: r.lease, resumed: true, heard, ...(r.resume ? { resume: r.resume } : {}) };
  };
  /**
   * Opens the wrapper's own connection and watches `held` on it: the watcher; null when the daemon
   * refuses `watch` (one without it answers EPROTO: CMD then runs unwatched); 'gone' when the daemon
   * went before the watch was in place (the lease is lost); `{ lost }` when the lease itself was lost
   * before the watch (the daemon knows it no more: ENOENT), with the reason its `lease.lost` gave.
   */
  const watch = async (held: Held): Promise<DaemonClient | null | 'gone' | { lost: string }> => {
    let w: DaemonClient | undefined;
    try {
      w = await DaemonClient.connect(socketPath);
      held.heard.add(w);
      const r = await w.request({ op: 'watch', lease: held.lease });
      if (held.client.socket.destroyed || (!r.ok && r.error.code === 'ECONNRESET')) throw r;
      if (r.ok) return w;
      w.close();
      if (r.error.code === 'ENOENT') {
        const reason = await held.heard.wait(held.lease, LOSS_REASON_WAIT_MS);
        held.heard.stop();
        held.client.close();
        return { lost: reason ?? 'ended before it was watched' };
      }
      say(`cannot watch ${held.lease} (${r.error.code}): a lost lease will not be acted on`);
      return null;
    } catch {
      held.heard.stop();
      w?.close();
      held.client.close();
      return 'gone';
    }
  };
  /**
   * `--reconnect`: acquires again every RECONNECT_EVERY_MS until `deadline` (ms since the epoch) or
   * until `givenUp()`: the new lease, or null.
   */
  const reacquire = async (deadline: number, givenUp = () => false): Promise<Held | null> => {
    while (!givenUp() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, RECONNECT_EVERY_MS));
      if (givenUp()) return null;
      const resumed = await resume();
      if (resumed) return resumed;
      const next = await acquire(true);
      if (typeof next !== 'number') return next;
    }
    return null;
  };
  const first0 = await acquire();
  if (typeof first0 === 'number') return first0;
  if (values.exec) {
    // No wrapper stays to act on a loss (docs/protocol.md, hold --exec): nothing to record.
    first0.heard.stop();
    return execHeld(first0.client, cmd, say);
  }
  let first: Held = first0;
  token = first.resume;
  // The lease's connection goes to CMD; the wrapper watches the lease on a connection of its own.
  let watcher = await watch(first);
  // A daemon gone, or the lease lost, before CMD runs: --reconnect tries again, as it does later.
  const deadline0 = Date.now() + RECONNECT_FOR_MS;
  const early = (w: typeof watcher): w is 'gone' | { lost: string } =>
    w === 'gone' || (w !== null && 'lost' in w);
  while (early(watcher) && values.reconnect) {
    const next = await reacquire(deadline0);
    if (!next) break;
    first = next;
    token = next.resume;
    watcher = await watch(first);
  }
  if (early(watcher)) {
    // CMD is not run: the lease it would have run under is gone.
    say(`lease lost (${watcher === 'gone' ? 'daemon-gone' : watcher.lost})`);
    return EXIT.unavailable;
  }
  let pingOn: DaemonClient | null = watcher;
  const owned = new Set<DaemonClient>(watcher ? [watcher] : []);
  let pinger: NodeJS.Timeout | undefined;
  if (ttlMs)
    pinger = setInterval(() => void pingOn?.request({ op: 'ping' }), Math.max(1, Math.floor(ttlMs / 3)));

  // The connection's descriptor becomes CMD's fd 3: the kernel keeps the socket open until both are gone.
  // Passing a socket to a child pauses it in the parent, and it stays paused: its frames are CMD's to read.
  const child = spawn(cmd[0] as string, cmd.slice(1), {
    stdio: ['inherit', 'inherit', 'inherit', first.client.socket],
    env: { ...process.env, RPROC_LEASE_FD: '3' },
  });
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));

  let lost: string | null = null;
  let untrack = () => {};
  /** The lease held now: the first, or the one --reconnect got back. */
  let current: Held = first;
  const act = (reason: string) => {
    lost = reason;
    say(`lease lost (${reason})`);
    const signal = ON_LOST[onLost];
    if (signal && !ended()) child.kill(signal);
  };
  const onLoss = async (reason: string) => {
    if (ended() || lost) return;
    pingOn = null;
    if (!values.reconnect) return act(reason);
    const next = await reacquire(Date.now() + RECONNECT_FOR_MS, ended);
    if (ended()) return next?.client.close();
    if (!next) return act(reason);
    current = next;
    token = next.resume;
    say(`lease ${next.resumed ? 'resumed' : 'acquired again'} (${next.lease}, after ${reason})`);
    owned.add(next.client);
    pingOn = next.client;
    follow(next, next.client);
  };
  /**
   * Tracks `held` on `conn` (none: a daemon without `watch`) and acts now on a loss heard before the
   * tracking began: in the same data as the acquire's or the watch's answer, or on CMD's connection
   * before it was handed over.
   */
  const follow = (held: Held, conn: DaemonClient | null) => {
    if (conn) untrack = track(conn, held.lease, (r) => void onLoss(r));
    held.heard.stop();
    const before = held.heard.reason(held.lease);
    if (before === null) return;
    untrack();
    void onLoss(before);
  };
  follow(first, watcher);

  /**
   * Releases `held` on its own connection (the only one allowed to) and waits for the answer, 1 s at
   * most. The first lease's connection was CMD's: the wrapper reads it again now that CMD is gone.
   */
  const release = async (held: Held) => {
    if (held.client.socket.destroyed) return;
    held.client.socket.resume();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      held.client.request({ op: 'release', lease: held.lease }).catch(() => {}),
      new Promise((r) => {
        timer = setTimeout(r, 1000);
      }),
    ]);
    clearTimeout(timer);
  };
  const finish = () => {
    clearInterval(pinger);
    untrack();
    for (const c of owned) c.close();
    first.client.close();
  };
  return new Promise((resolve) => {
    child.on('error', (err) => {
      say(`${cmd[0]}: ${errnoOf(err)}`);
      finish();
      resolve(EXIT.notFound);
    });
    child.on('exit', async (code, signal) => {
      // CMD exited (any status, not a signal): a clean release, so the processor stops at once (a
      // connection's end is a death: the daemon keeps the processor for its offGraceMs).
      if (!signal && !lost) await release(current);
      finish();
      if (lost) resolve(EXIT.unavailable);
      else resolve(code ?? signalExit(signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
