// inspectorGuard: the inspector's token and byte bounds — who may read it, and how much a page may cost.

import { randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of the newest history and events a joining page gets in `live.init` (each). */
export const INIT_BYTES = 1024 * 1024;
/** Bytes of live states the server keeps for pages that join late (besides {@link LIVE_HISTORY_BOUND}). */
export const LIVE_HISTORY_BYTES = 4 * 1024 * 1024;
/** Bytes of the inspection stream a live inspector keeps (besides its bound in events). */
export const LIVE_STREAM_BYTES = 8 * 1024 * 1024;
/** A page that leaves this many bytes unread on its socket is disconnected (it reconnects and starts over). */
export const PAGE_BUFFER_BYTES = 8 * 1024 * 1024;
/** Leases listed per processor in a live state; the rest are counted in `leasesOmitted`. */
export const LIVE_LEASES_SHOWN = 64;

/** A fresh random token: 128 bits, hex. */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The token of a request path `/<token>/…`, checked in constant time against `token`: the rest of the
 * path (`/`, `/app.js`, `/ws`) when it matches, else null.
 */
export function pathAfterToken(path: string, token: string): string | null {
  const slash = path.indexOf('/', 1);
  if (!path.startsWith('/') || slash < 0) return null;
  const given = Buffer.from(path.slice(1, slash));
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return path.slice(slash);
}

/**
 * The newest entries of `items` whose JSON fits in `budget` bytes (at least the newest one), and how
 * many older ones were left out.
 */
export function newestWithin<T>(
  items: readonly T[],
  budget: number,
  size: (item: T) => number,
): { kept: T[]; omitted: number } {
  let bytes = 0;
  let from = items.length;
  while (from > 0) {
    const b = size(items[from - 1] as T);
    if (from < items.length && bytes + b > budget) break;
    bytes += b;
    from--;
  }
  return { kept: items.slice(from), omitted: from };
}
