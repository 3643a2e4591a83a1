// DaemonClient: a client of the lease protocol, for `hold`, `status` and tests.

import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { frame, LineSplitter } from './protocol.js';

/** A reply frame. */
export interface Reply {
  id?: number | string;
  ok: boolean;
  error?: { code: string; message: string };
  [k: string]: unknown;
}

/**
 * One connection to the daemon. `request` sends a frame and resolves with the reply of the same `id`;
 * pushed events (frames with `event`) are emitted as `event`; `close` is emitted when the daemon goes.
 *
 * @example
 * const c = await DaemonClient.connect('/run/rproc-supervisor.sock');
 * const r = await c.request({ op: 'acquire', processor: 'm4', client: 'audio' });
 */
export class DaemonClient extends EventEmitter {
  #nextId = 1;
  #pending = new Map<number | string, (r: Reply) => void>();

  private constructor(readonly socket: Socket) {
    super();
    socket.setEncoding('utf8');
    const splitter = new LineSplitter(
      (line) => {
        let msg: Reply & { event?: string };
        try {
          msg = JSON.parse(line);
        } catch {
          return;
        }
        if (msg.event) this.emit('event', msg);
        else if (msg.id !== undefined && this.#pending.has(msg.id)) {
          this.#pending.get(msg.id)?.(msg);
          this.#pending.delete(msg.id);
        } else this.emit('unsolicited', msg);
      },
      () => socket.destroy(),
    );
    socket.on('data', (c: string) => splitter.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      for (const resolve of this.#pending.values())
        resolve({ ok: false, error: { code: 'ECONNRESET', message: 'daemon closed the connection' } });
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
  request(body: Record<string, unknown>): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.socket.write(frame({ ...body, id }));
    });
  }

  /** Closes the connection (its leases end). */
  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}
