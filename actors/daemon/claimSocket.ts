// claimSocket: take a Unix socket path for a server — remove what a killed server left, refuse a live one or a non-socket.

import { lstat, unlink } from 'node:fs/promises';
import { createConnection } from 'node:net';

/** True when something answers on `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Makes `path` free to listen on: a stale socket (nothing answers: its server was killed) is removed;
 * a live one is an error with code EADDRINUSE, naming `what` answers there. An existing path that is
 * not a socket (a regular file, a directory, a symbolic link) is an error with code ENOTSOCK, and is
 * never removed.
 */
export async function claimSocket(path: string, what = 'another server'): Promise<void> {
  const found = await lstat(path).catch(() => null);
  if (!found) return;
  if (!found.isSocket()) {
    throw Object.assign(new Error(`ENOTSOCK: ${path} exists and is not a socket; it is left as it is`), {
      code: 'ENOTSOCK',
    });
  }
  if (await answers(path)) {
    throw Object.assign(new Error(`EADDRINUSE: ${what} answers on ${path}`), { code: 'EADDRINUSE' });
  }
  await unlink(path).catch(() => {});
}
