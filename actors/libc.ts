// libc: the C library through koffi, loaded once on first use, for the calls Node has no API for (ioctl, SO_PEERCRED, mount, rlimits, getgrnam).

import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type * as Koffi from 'koffi';

/** koffi and libc, as {@link libc} returns them. */
export interface Libc {
  koffi: typeof Koffi;
  lib: ReturnType<typeof Koffi.load>;
}

let loaded: Libc | null = null;

/**
 * koffi and `libc.so.6`, loaded on the first call only (koffi ships its binaries inside the npm
 * package; a command that needs none of these calls never loads it).
 */
export function libc(): Libc {
  if (!loaded) {
    const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
    loaded = { koffi, lib: koffi.load('libc.so.6') };
  }
  return loaded;
}

/**
 * The descriptor of a connected Node socket (`_handle.fd`, present in Node though undocumented), or
 * null when it has none (closed, or not a descriptor-backed handle).
 */
export function socketFd(socket: Socket): number | null {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}
