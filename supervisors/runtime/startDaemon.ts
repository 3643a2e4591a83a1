// startDaemon: the lease protocol server on a Unix socket, in front of a Supervisor.

import type { Socket } from 'node:net';
import { crashPoint } from '../../actors/crashPoint.js';
import { type PeerCred, peerCred } from '../../actors/daemon/peerCred.js';
import { peerGroups } from '../../actors/daemon/peerGroups.js';
import { type PeerLimits, peerLimits } from '../../actors/daemon/peerLimits.js';
import {
  clientLabelError,
  type LeaseLostReason,
  type Request,
  type StatusBody,
  wireError,
} from '../../actors/daemon/protocol.js';
import {
  type ConnectionHandler,
  type ProtocolConnection,
  serveProtocol,
} from '../../actors/daemon/serveProtocol.js';
import { fail } from '../../machines/errno.js';
import type { AcquireOptions, Lease, Supervisor } from './createSupervisor.js';
import { DaemonLeases, type PushTo, watcher } from './daemonLeases.js';
import { statusPage } from './daemonStatus.js';
import type { ResumeBook, ResumeEntry } from './resumeBook.js';

/** A structured log line. */
export type DaemonLog = (entry: { level: 'info' | 'warn'; msg: string; [k: string]: unknown }) => void;

/** Options of {@link startDaemon}. */
export interface DaemonOptions {
  supervisor: Supervisor;
  socketPath: string;
  /**
   * When either list is given, a peer must match one of them: its uid, or its gid or one of its
   * supplementary groups (SO_PEERGROUPS).
   */
  allowUids?: number[];
  allowGids?: number[];
  /** The socket's mode. @default 0o660 */
  socketMode?: number;
  /** The socket's group (chown). @default this process's gid */
  socketGid?: number;
  /** A peer's supplementary groups. @default SO_PEERGROUPS, else /proc/<pid>/status (peerGroups) */
  groups?: (socket: Socket, pid: number | null) => number[] | null;
  log?: DaemonLog;
  /** @default SO_PEERCRED through koffi */
  credentials?: (socket: Socket) => PeerCred | null;
  /** Bounds on each peer (docs/protocol.md, Limits). @default DEFAULT_PEER_LIMITS */
  limits?: Partial<PeerLimits>;
  /** Connections open at once at most, all peers together (the daemon's descriptors). @default none */
  maxConnections?: number;
  /**
   * An `acquire` of a processor that is not there waits this long for it to appear (hotplug) before
   * ENODEV (`--probe-timeout`). @default 0: ENODEV at once
   */
  probeTimeoutMs?: number;
  /**
   * A listening socket passed by the service manager (socket activation, docs/systemd.md): served in
   * place of binding `socketPath`, which is then only its name; it is never unlinked.
   */
  listenFd?: number;
  /**
   * Resume tokens (docs/systemd.md): with it every granted lease's reply carries `resume`, and the
   * `resume` op takes back a lease of the previous incarnation. Without it `resume` answers ENOENT.
   */
  resume?: ResumeBook;
}

/** A running daemon. */
export interface Daemon {
  socketPath: string;
  /** Stops accepting, ends every connection (their leases end), removes the socket. */
  close(): Promise<void>;
}

/**
 * The `status` reply: `{ processors: [ { name, device, state, crashes, leases: [ { client, pid, since,
 * lease } ] } ] }`, `since` in ms since the epoch.
 */
export function statusFrame(supervisor: Supervisor): StatusBody {
  const s = supervisor.status();
  return {
    strategy: s.strategy,
    processors: s.processors.map((p) => ({
      name: p.name,
      device: p.device,
      state: p.state,
      crashes: p.crashes,
      policy: p.policy,
      failed: p.failed,
      leases: p.leases.map((l) => ({
        client: l.client,
        pid: l.pid ?? null,
        since: Math.round(performance.timeOrigin + l.since),
        lease: l.id,
        reference: l.reference,
      })),
    })),
    hotplug: s.hotplug,
  };
}

/**
 * Why an `acquire` is refused before it reaches the supervisor, as a wire error: a client label that is
 * not printable text of at most 64 characters (EINVAL), or a connection at its lease bound (EMFILE).
 */
export function acquireRefusal(
  r: Extract<Request, { op: 'acquire' }>,
  held: number,
  limits: Pick<PeerLimits, 'maxLeasesPerPeer'>,
): { code: string; message: string } | null {
  const label = r.client === undefined ? null : clientLabelError(r.client);
  if (label) return { code: 'EINVAL', message: `EINVAL: ${label}` };
  if (held >= limits.maxLeasesPerPeer)
    return {
      code: 'EMFILE',
      message: `EMFILE: this connection holds ${held} leases, the most allowed (--max-leases-per-peer)`,
    };
  return null;
}

/**
 * Serves the lease protocol (docs/protocol.md) on `socketPath` (mode 0660). Each connection's leases
 * end when it ends, whatever ended it; a malformed frame gets an error reply and closes that connection
 * only. A stale socket left by a killed daemon is removed; a live one is an error (EADDRINUSE).
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { supervisor, socketPath } = options;
  const probeTimeoutMs = options.probeTimeoutMs ?? 0;
  const log = options.log ?? (() => {});
  const credentials = options.credentials ?? peerCred;
  const groups = options.groups ?? peerGroups;
  const restricted = (options.allowUids?.length ?? 0) + (options.allowGids?.length ?? 0) > 0;
  const all = new DaemonLeases();
  const limits = peerLimits(options.limits);
  const perUid = new Map<number, number>();
  const book = options.resume;
  // Two-phase stop: who is told of an announced stop (every connection holding one of the processor's
  // leases, and every subscriber), and which announced stops still wait for each connection's ack.
  const connections = new Map<string, { leases: Map<string, Lease>; subscribed: () => boolean }>();
  const awaited = new Map<string, Set<string>>();
  let nextConnection = 1;
  const unhookStopping = supervisor.onStopping((e, ids) => {
    const parties = [...connections]
      .filter(([, c]) => c.subscribed() || ids.some((id) => c.leases.has(id)))
      .map(([id]) => id);
    for (const id of parties) awaited.set(id, (awaited.get(id) ?? new Set()).add(e.processor));
    return parties;
  });

  const accept = (conn: ProtocolConnection): ConnectionHandler | null => {
    const { socket, send, end } = conn;
    const cred = credentials(socket);
    const who = cred ? { pid: cred.pid, uid: cred.uid, gid: cred.gid } : {};
    if (restricted) {
      const gids = options.allowGids ?? [];
      const allowed =
        cred &&
        ((options.allowUids ?? []).includes(cred.uid) ||
          gids.includes(cred.gid) ||
          (gids.length > 0 && (groups(socket, cred.pid) ?? []).some((g) => gids.includes(g))));
      if (!allowed) {
        log({ level: 'warn', msg: 'peer refused by the allow-lists', ...who });
        send({ ok: false, error: { code: 'EACCES', message: 'uid/gid not allowed by this daemon' } });
        end();
        return null;
      }
    }
    const uid = cred?.uid;
    if (uid !== undefined) {
      const open = perUid.get(uid) ?? 0;
      if (open >= limits.maxConnectionsPerUid) {
        log({ level: 'warn', msg: 'peer refused: too many connections for its uid', open, ...who });
        send({
          ok: false,
          error: { code: 'EAGAIN', message: `uid ${uid} has ${open} connections open, the most allowed` },
        });
        end();
        return null;
      }
      perUid.set(uid, open + 1);
    }
    const leases = new Map<string, Lease>();
    /** Acquires of this connection waiting for their processor to appear (--probe-timeout): they count as leases. */
    let probing = 0;
    const party = `connection-${nextConnection++}`;
    connections.set(party, { leases, subscribed: () => unsubscribe !== null });
    const push: PushTo = (e) => send(e);
    // The leases this connection watches: live ones only (an ended lease leaves the set).
    const watching = watcher(push);
    let unsubscribe: (() => void) | null = null;

    /** The token of a granted lease: a new one, or the one it was resumed with (its uid, processor, label kept). */
    const resumeToken = (lease: Lease, resumed?: { entry: ResumeEntry; token: string }) => {
      if (!book) return null;
      const entry: ResumeEntry = {
        lease: lease.id,
        uid: cred?.uid ?? null,
        processor: lease.processor.device,
        client: lease.client,
        ttlMs: resumed?.entry.ttlMs ?? null,
        ...(resumed?.entry.firmware ? { firmware: resumed.entry.firmware } : {}),
      };
      if (!resumed) return book.issue(entry);
      book.resumed(entry, resumed.token);
      return resumed.token;
    };
    /** A `resume` being handled as the `acquire` of its lease (read by that acquire at once). */
    const resuming = new Map<Request['id'], { entry: ResumeEntry; token: string }>();

    const handle = async (r: Request) => {
      switch (r.op) {
        case 'resume': {
          const taken = book
            ? book.take(r.token, cred?.uid ?? null)
            : fail<ResumeEntry>(
                'ENOENT',
                'resume',
                'this daemon keeps no leases across a restart (no service manager fd store)',
              );
          if (!taken.ok) {
            send({ id: r.id, ok: false, error: wireError(taken.error, 'resume') });
            return;
          }
          const e = taken.value;
          const ttlMs = r.ttlMs !== undefined ? r.ttlMs : e.ttlMs;
          resuming.set(r.id, { entry: e, token: r.token });
          return handle({
            op: 'acquire',
            id: r.id,
            processor: e.processor,
            client: r.client ?? e.client,
            ...(e.firmware ? { firmware: e.firmware } : {}),
            ...(ttlMs !== null ? { ttlMs } : {}),
          });
        }
        case 'acquire': {
          const resumed = resuming.get(r.id);
          resuming.delete(r.id);
          const refusal = acquireRefusal(r, leases.size + probing, limits);
          if (refusal) {
            send({ id: r.id, ok: false, error: refusal });
            return;
          }
          let answered = false;
          const options: AcquireOptions = {
            ttlMs: r.ttlMs ?? null,
            onEvent: (event, d) => {
              if (!got.ok) return;
              const id = got.value.id;
              // Acquire means usable: the reply waits for the processor to run (or its boot to fail).
              if (event === 'granted') {
                answered = true;
                const token = resumeToken(got.value, resumed);
                send({
                  id: r.id,
                  ok: true,
                  lease: id,
                  processor: got.value.processor,
                  ...(token ? { resume: token } : {}),
                });
              } else if (event === 'failed') {
                book?.end(id);
                leases.delete(id);
                all.delete(id);
                const error = wireError(d.error ?? { code: 'EIO' }, `boot of ${r.processor} failed`);
                send({ id: r.id, ok: false, error: { ...error, during: 'boot' } });
              } else if (event === 'lost') {
                book?.end(id);
                leases.delete(id);
                // Lost before it was usable (its processor removed, its TTL run out during the boot):
                // the acquire is answered with why, as the client has no lease id to match an event to.
                // No reason: its holder's connection ended it (the holder is gone; watchers are told).
                if (d.reason && !answered) {
                  const message = `ENODEV: lease ${id} on ${r.processor} lost (${d.reason}) before the processor ran`;
                  send({ id: r.id, ok: false, error: { code: 'ENODEV', message } });
                } else if (d.reason)
                  all.push(id, {
                    event: 'lease.lost',
                    lease: id,
                    processor: d.processor,
                    reason: d.reason as LeaseLostReason,
                  });
                else
                  all.pushWatchers(id, {
                    event: 'lease.ended',
                    lease: id,
                    processor: d.processor,
                    end: 'closed',
                  });
                all.delete(id);
              } else if (event === 'processor.stopping') {
                const reason = d.reason as 'last-release' | 'shutdown' | 'escalation';
                all.push(id, {
                  event,
                  lease: id,
                  processor: d.processor,
                  reason,
                  deadlineMs: d.deadlineMs ?? 0,
                });
              } else if (event === 'processor.failed') {
                const action = d.action ?? 'stop';
                all.push(id, { event, lease: id, processor: d.processor, reason: 'crash-limit', action });
              } else all.push(id, { event, lease: id, processor: d.processor });
            },
          };
          if (r.client) options.client = r.client;
          if (r.firmware) options.firmware = r.firmware;
          if (cred) options.peer = cred;
          // --probe-timeout: a processor not there yet may appear (hotplug) while the acquire waits.
          if (probeTimeoutMs > 0) {
            probing++;
            const present = await supervisor.whenPresent(r.processor, probeTimeoutMs).finally(() => {
              probing--;
            });
            if (!present.ok) {
              send({ id: r.id, ok: false, error: wireError(present.error, r.processor) });
              return;
            }
            if (socket.destroyed) return;
          }
          if (resumed) options.id = resumed.entry.lease;
          const got = supervisor.tryAcquire(r.processor, options);
          if (!got.ok) {
            send({ id: r.id, ok: false, error: wireError(got.error, r.processor) });
            return;
          }
          const lease = got.value;
          crashPoint('acquire');
          if (socket.destroyed) {
            lease.lose();
            return;
          }
          leases.set(lease.id, lease);
          all.add(lease, cred?.uid ?? null, push);
          return;
        }
        case 'release': {
          const lease = leases.get(r.lease);
          if (!lease) {
            send({
              id: r.id,
              ok: false,
              error: { code: 'EPERM', message: `no lease ${r.lease} on this connection` },
            });
            return;
          }
          leases.delete(r.lease);
          book?.end(r.lease);
          const ended = { event: 'lease.ended', lease: r.lease, processor: lease.processor.device } as const;
          all.pushWatchers(r.lease, { ...ended, end: 'released' });
          all.delete(r.lease);
          await lease.release();
          crashPoint('release');
          send({ id: r.id, ok: true });
          return;
        }
        case 'status': {
          const page = statusPage(statusFrame(supervisor), r, limits);
          if (!page.ok) send({ id: r.id, ok: false, error: wireError(page.error, 'status') });
          else send({ id: r.id, ok: true, status: page.value });
          return;
        }
        case 'subscribe':
          unsubscribe ??= supervisor.onEvent((e) => {
            // A subscriber that does not keep up is dropped, not buffered.
            if (conn.unsent <= limits.maxSubscriberBacklog) return send({ ...e });
            unsubscribe?.();
            log({ level: 'warn', msg: 'subscriber dropped: it does not read', unsent: conn.unsent, ...who });
            send({ event: 'subscription.dropped', reason: 'slow-reader' });
          });
          send({ id: r.id, ok: true });
          return;
        case 'ping':
          for (const l of leases.values()) l.ping();
          for (const id of watching.watching) all.get(id)?.ping();
          send({ id: r.id, ok: true });
          return;
        case 'crash': {
          const c = await supervisor.crash(r.processor, r.reason);
          if (!c.ok) send({ id: r.id, ok: false, error: wireError(c.error, r.processor) });
          else send({ id: r.id, ok: true, processor: c.value });
          return;
        }
        case 'add-processor':
        case 'remove-processor': {
          const message = `EOPNOTSUPP: ${r.op} is a mounted twin's op (its --socket): a daemon's processors come and go with the kernel's (hotplug)`;
          send({ id: r.id, ok: false, error: { code: 'EOPNOTSUPP', message } });
          return;
        }
        case 'ack': {
          const a = supervisor.ack(r.processor, party);
          if (!a.ok) {
            send({ id: r.id, ok: false, error: wireError(a.error, r.processor) });
            return;
          }
          awaited.get(party)?.delete(a.value.device);
          send({ id: r.id, ok: true, pending: a.value.pending });
          return;
        }
        case 'watch': {
          const w = all.watch(r.lease, cred?.uid ?? null, watching);
          if (!w.ok) {
            send({ id: r.id, ok: false, error: wireError(w.error, r.lease) });
            return;
          }
          send({ id: r.id, ok: true, processor: w.value.processor });
          return;
        }
      }
    };

    return {
      request: (r) => void handle(r),
      refused: (message) =>
        log({ level: 'warn', msg: 'protocol error, closing connection', error: message, ...who }),
      closed: () => {
        if (uid !== undefined) {
          const open = (perUid.get(uid) ?? 1) - 1;
          if (open > 0) perUid.set(uid, open);
          else perUid.delete(uid);
        }
        unsubscribe?.();
        // A party gone is no party to wait for: its pending acknowledgements are given.
        connections.delete(party);
        for (const device of awaited.get(party) ?? []) supervisor.ack(device, party);
        awaited.delete(party);
        for (const id of [...watching.watching]) all.unwatch(id, watching);
        // EOF on any death of the holder: its leases end.
        for (const l of leases.values()) l.lose();
        leases.clear();
      },
    };
  };

  const server = await serveProtocol(
    socketPath,
    'another daemon',
    accept,
    {
      maxUnsentBytes: limits.maxUnsentBytes,
      frameTimeoutMs: limits.frameTimeoutMs,
      ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
      onLimit: ({ msg, ...rest }, socket) => {
        const cred = socket ? credentials(socket) : null;
        log({ level: 'warn', msg, ...rest, ...(cred ? { pid: cred.pid, uid: cred.uid } : {}) });
      },
    },
    {
      ...(options.socketMode !== undefined ? { mode: options.socketMode } : {}),
      ...(options.socketGid !== undefined ? { gid: options.socketGid } : {}),
      ...(options.listenFd !== undefined ? { fd: options.listenFd } : {}),
    },
  );
  log({ level: 'info', msg: 'listening', socket: socketPath });
  return {
    socketPath,
    async close() {
      // The shutdown's stops are announced while the connections are open, so their holders and
      // subscribers can acknowledge (at most stopAckTimeoutMs); then holders and watchers learn why
      // before the connections close (replies leave on setImmediate).
      await supervisor.announceShutdown();
      unhookStopping();
      all.shutdown();
      await new Promise((r) => setImmediate(r));
      await server.close();
    },
  };
}
