// peerCred: the pid, uid and gid of a Unix socket's peer (SO_PEERCRED), through koffi.

import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** A peer's credentials, as the kernel recorded them at connect time. */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

type GetSockOpt = (fd: number, level: number, name: number, out: PeerCred, len: number[]) => number;
let getsockopt: GetSockOpt | null = null;

function load(): GetSockOpt {
  if (!getsockopt) {
    const koffi = createRequire(import.meta.url)('koffi') as {
      struct(name: string, def: Record<string, string>): unknown;
      load(path: string): { func(signature: string): GetSockOpt };
    };
    koffi.struct('rproc_ucred', { pid: 'int', uid: 'uint32', gid: 'uint32' });
    getsockopt = koffi
      .load('libc.so.6')
      .func('int getsockopt(int fd, int level, int name, _Out_ rproc_ucred *cred, _Inout_ uint32 *len)');
  }
  return getsockopt;
}

/**
 * Reads SO_PEERCRED of an accepted Unix socket. Uses the socket's descriptor (`_handle.fd`, present in
 * Node though undocumented); returns null when it cannot be read.
 */
export function peerCred(socket: Socket): PeerCred | null {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return null;
  const cred: PeerCred = { pid: 0, uid: 0, gid: 0 };
  const len = [12];
  return load()(fd, SOL_SOCKET, SO_PEERCRED, cred, len) === 0 ? cred : null;
}
