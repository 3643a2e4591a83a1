// claimSocket: take a Unix socket path for a server — remove what a killed server left, refuse a live one.

import { unlink } from 'node:fs/promises';
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
 * a live one is an error with code EADDRINUSE, naming `what` answers there.
 */
export async function claimSocket(path: string, what = 'another server'): Promise<void> {
  if (await answers(path)) {
    throw Object.assign(new Error(`EADDRINUSE: ${what} answers on ${path}`), { code: 'EADDRINUSE' });
  }
  await unlink(path).catch(() => {});
}
