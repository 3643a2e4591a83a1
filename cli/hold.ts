// `rproc-supervisor hold`: holds a lease while a command runs, the way flock and systemd-inhibit do.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { clientLabelError, MAX_CLIENT_LABEL } from '../actors/daemon/protocol.js';
import { checkTtl, MAX_TTL_MS } from '../machines/leaseMachine.js';
import { commandArgs } from './commandArgs.js';
import { defaultSocket } from './defaults.js';
import { EXIT, signalExit } from './exitCodes.js';
import { type CliIo, errnoOf } from './io.js';

export const HOLD_HELP = `Usage: rproc-supervisor hold <processor> [--firmware F] [--socket P] [--ttl MS] [--reconnect] -- CMD [ARGS…]

Holds a lease on <processor> (remoteprocN or its name) while CMD runs. The lease's connection is passed
to CMD as an inherited descriptor, its number in $RPROC_LEASE_FD, so the lease lives until the last of
this wrapper and CMD is gone: a SIGKILL of the wrapper alone does not end it; a SIGKILL of CMD after the
wrapper is gone does. SIGINT and SIGTERM are forwarded to CMD.

Options:
  --firmware F   firmware to boot if the processor has to be started
  --socket P     default $XDG_RUNTIME_DIR/rproc-supervisor.sock, else /run/rproc-supervisor.sock
  --ttl MS       the lease ends after MS without a ping; the wrapper pings every MS/3 (CMD may ping
                 through $RPROC_LEASE_FD: write {"op":"ping","id":1} and a newline)
  --reconnect    after a daemon restart, acquire again (the new connection is the wrapper's only)
  -h, --help     show this help

Exit status: CMD's (128+n if a signal ended it); 69 (EX_UNAVAILABLE) if the daemon cannot be reached
(CMD is not run); 1 if the lease is refused; 2 for bad usage.
`;

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
    },
    true,
  );
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as {
    firmware?: string;
    socket?: string;
    ttl?: string;
    reconnect?: boolean;
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
  const socketPath = values.socket ?? defaultSocket();
  const acquire = async (): Promise<DaemonClient | number> => {
    let client: DaemonClient;
    try {
      client = await DaemonClient.connect(socketPath);
    } catch (err) {
      io.stderr(`rproc-supervisor hold: cannot reach the daemon at ${socketPath}: ${errnoOf(err)}\n`);
      return EXIT.unavailable;
    }
    const r = await client.request({
      op: 'acquire',
      processor,
      client: holdLabel(cmd[0] ?? 'hold'),
      ...(values.firmware ? { firmware: values.firmware } : {}),
      ...(ttlMs ? { ttlMs } : {}),
    });
    if (!r.ok) {
      client.close();
      io.stderr(`rproc-supervisor hold: ${processor}: ${r.error.code}: ${r.error.message}\n`);
      return r.error.code === 'ECONNRESET' || r.error.code === 'EACCES' ? EXIT.unavailable : EXIT.failed;
    }
    return client;
  };
  const first = await acquire();
  if (typeof first === 'number') return first;
  let client = first;
  let pinger: NodeJS.Timeout | undefined;
  if (ttlMs)
    pinger = setInterval(() => void client.request({ op: 'ping' }), Math.max(1, Math.floor(ttlMs / 3)));

  // The connection's descriptor becomes CMD's fd 3: the kernel keeps the socket open until both are gone.
  const child = spawn(cmd[0] as string, cmd.slice(1), {
    stdio: ['inherit', 'inherit', 'inherit', client.socket],
    env: { ...process.env, RPROC_LEASE_FD: '3' },
  });
  // Passing a socket to a child pauses it in the parent; keep reading, to see replies and the daemon's EOF.
  client.socket.resume();
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  if (values.reconnect) {
    const again = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      setTimeout(async () => {
        const next = await acquire();
        if (typeof next === 'number') return again();
        client = next;
        client.on('close', again);
      }, 300);
    };
    client.on('close', again);
  }
  return new Promise((resolve) => {
    child.on('error', (err) => {
      io.stderr(`rproc-supervisor hold: ${cmd[0]}: ${errnoOf(err)}\n`);
      client.close();
      clearInterval(pinger);
      resolve(EXIT.notFound);
    });
    child.on('exit', (code, signal) => {
      clearInterval(pinger);
      client.close();
      resolve(code ?? signalExit(signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
