// DaemonClient: a client of the lease protocol, for `hold`, `status` and tests.

import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import {
  type ClientFrame,
  type ErrorReply,
  frame,
  LineSplitter,
  leaseLostReason,
  type PushedEvent,
  type Reply,
  type RequestId,
} from './protocol.js';

/** A request as {@link DaemonClient.request} takes it: a protocol request without `id` (added) or `v`. */
export type ClientRequest = WithoutId<ClientFrame>;
type WithoutId<F> = F extends unknown ? Omit<F, 'id' | 'v'> : never;

/** The replies the client resolves with: the protocol's {@link Reply} for the request's op. */
export type { Reply } from './protocol.js';

/**
 * One connection to the daemon. `request` sends a frame and resolves with the reply of the same `id`
 * (narrow it on `ok`); pushed events (frames with `event`, a {@link PushedEvent}) are emitted as
 * `event`, a `lease.lost` `reason` of a version 1.0 daemon by its new name (`expired` → `ttl-expired`,
 * `lost` → `daemon-gone`); `close` is emitted when the daemon goes (a lease held or watched on this
 * connection is then lost, `daemon-gone`). A reply the client cannot match is `unsolicited`.
 * When the connection ends, pending requests resolve with ECONNRESET.
 *
 * @example
 * const c = await DaemonClient.connect('/run/rproc-supervisor.sock');
 * const r = await c.request({ op: 'acquire', processor: 'm4', client: 'audio' });
 */
export class DaemonClient extends EventEmitter {
  #nextId = 1;
  #pending = new Map<RequestId, (r: Reply) => void>();

  private constructor(readonly socket: Socket) {
    super();
    socket.setEncoding('utf8');
    const splitter = new LineSplitter(
      (line) => {
        let msg: Reply | PushedEvent;
        try {
          msg = JSON.parse(line);
        } catch {
          return;
        }
        if ('event' in msg) {
          // A version 1.0 daemon's reasons, by today's names (docs/protocol.md, Changes).
          if (msg.event === 'lease.lost' && typeof msg.reason === 'string')
            msg.reason = leaseLostReason(msg.reason) as typeof msg.reason;
          this.emit('event', msg);
        } else if (msg.id !== undefined && this.#pending.has(msg.id)) {
          this.#pending.get(msg.id)?.(msg);
          this.#pending.delete(msg.id);
        } else this.emit('unsolicited', msg);
      },
      () => socket.destroy(),
    );
    socket.on('data', (c: string) => splitter.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      const reset: ErrorReply = {
        ok: false,
        error: { code: 'ECONNRESET', message: 'daemon closed the connection' },
      };
      for (const resolve of this.#pending.values()) resolve(reset);
      this.#pending.clear();
      this.emit('close');
    });
  }

  /** Connects to the daemon's socket; rejects with the socket error (ENOENT, ECONNREFUSED, EACCES…). */
  static connect(path: string): Promise<DaemonClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once('connect', () => resolve(new DaemonClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a request (an `id` is added) and resolves with its reply. */
  request<R extends ClientRequest>(body: R): Promise<Reply<R['op']>> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve as (r: Reply) => void);
      this.socket.write(frame({ ...body, id } as ClientFrame));
    });
  }

  /** Closes the connection (its leases end). */
  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}
