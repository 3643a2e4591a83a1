// A service manager played by a test: a notify socket that records sd_notify messages and keeps FDSTORE descriptors, and a launcher that passes LISTEN_FDS.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { bindUnix, receiveDatagram } from '../actors/daemon/sdNotify.js';
import { bin } from './bin.js';

/** One notification: its `KEY=value` lines, and the descriptors it carried. */
export interface Notification {
  fields: Record<string, string>;
  fds: number[];
}

/** A stored descriptor, as systemd's fd store keeps it. */
export interface StoredFd {
  name: string;
  fd: number;
}

/** The test's service manager. */
export interface TestServiceManager {
  /** `$NOTIFY_SOCKET` for the service. */
  socket: string;
  /** Every notification received, in order. */
  readonly messages: Notification[];
  /** The fd store: FDSTORE=1 adds (one per name, as the daemon names them), FDSTOREREMOVE=1 removes. */
  readonly store: StoredFd[];
  /** Notifications that have `key`, optionally with `value`. */
  with(key: string, value?: string): Notification[];
  /**
   * Starts the service: `node bin/rproc-supervisor.js ARGS…` (ARGS begin with `daemon`) through `sh`, which
   * sets LISTEN_PID to its own pid and execs, with `listen` (a listening socket's fd) then the stored
   * descriptors at fd 3… (LISTEN_FDS, LISTEN_FDNAMES), NOTIFY_SOCKET, and `env`.
   */
  launch(
    args: string[],
    options?: { listen?: { fd: number; name: string }; stored?: boolean; env?: Record<string, string> },
  ): ChildProcess;
  /** Closes every stored descriptor (a unit that stopped or failed for good). */
  closeStore(): void;
  /** Stops receiving; closes the stored descriptors. */
  close(): void;
}

/** Parses a notification's text: `KEY=value` per line (sd_notify(3)). */
export function parseNotification(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Binds the notify socket at `path` (a path, or `@abstract`) and starts receiving. */
export function startServiceManager(path: string): TestServiceManager {
  const bound = bindUnix(path, 'datagram');
  if (!bound.ok) throw new Error(`${bound.error.code}: ${bound.error.detail}`);
  const fd = bound.value;
  const messages: Notification[] = [];
  const store: StoredFd[] = [];
  const receive = () => {
    for (;;) {
      const r = receiveDatagram(fd);
      if (!r.ok || !r.value) return;
      const fields = parseNotification(r.value.text);
      messages.push({ fields, fds: r.value.fds });
      if (fields.FDSTORE === '1' && fields.FDNAME) {
        for (const got of r.value.fds) {
          const same = store.findIndex((s) => s.name === fields.FDNAME);
          if (same >= 0) {
            closeSync(store[same]?.fd as number);
            store.splice(same, 1);
          }
          store.push({ name: fields.FDNAME, fd: got });
        }
      } else {
        for (const got of r.value.fds) closeSync(got);
        if (fields.FDSTOREREMOVE === '1' && fields.FDNAME)
          for (let i = store.length - 1; i >= 0; i--)
            if (store[i]?.name === fields.FDNAME) {
              closeSync(store[i]?.fd as number);
              store.splice(i, 1);
            }
      }
    }
  };
  const timer = setInterval(receive, 5);
  const closeStore = () => {
    for (const s of store.splice(0)) closeSync(s.fd);
  };
  return {
    socket: path,
    messages,
    store,
    with: (key, value) =>
      messages.filter((m) => key in m.fields && (value === undefined || m.fields[key] === value)),
    launch(args, options = {}) {
      receive();
      const passed = [...(options.listen ? [options.listen] : []), ...(options.stored ? store : [])];
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        NOTIFY_SOCKET: path,
        ...options.env,
      };
      if (passed.length > 0) {
        env.LISTEN_FDS = String(passed.length);
        env.LISTEN_FDNAMES = passed.map((p) => p.name).join(':');
      }
      // LISTEN_PID is the pid of the process that reads it: sh's own, which exec keeps.
      const script = passed.length > 0 ? 'export LISTEN_PID=$$; exec "$@"' : 'exec "$@"';
      return spawn('sh', ['-c', script, 'sh', process.execPath, bin, ...args], {
        stdio: ['ignore', 'ignore', 'pipe', ...passed.map((p) => p.fd)],
        env,
      });
    },
    closeStore,
    close() {
      clearInterval(timer);
      receive();
      closeStore();
      closeSync(fd);
    },
  };
}
