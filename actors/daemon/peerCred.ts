// peerCred: the pid, uid and gid of a Unix socket's peer (SO_PEERCRED), through koffi.

import type { Socket } from 'node:net';
import { libc, socketFd } from '../libc.js';

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
    const { koffi, lib } = libc();
    koffi.struct('rproc_ucred', { pid: 'int', uid: 'uint32', gid: 'uint32' });
    getsockopt = lib.func(
      'int getsockopt(int fd, int level, int name, _Out_ rproc_ucred *cred, _Inout_ uint32 *len)',
    ) as GetSockOpt;
  }
  return getsockopt;
}

/**
 * Reads SO_PEERCRED of an accepted Unix socket. Uses the socket's descriptor (`_handle.fd`, present in
 * Node though undocumented); returns null when it cannot be read.
 */
export function peerCred(socket: Socket): PeerCred | null {
  const fd = socketFd(socket);
  if (fd === null) return null;
  const cred: PeerCred = { pid: 0, uid: 0, gid: 0 };
  const len = [12];
  return load()(fd, SOL_SOCKET, SO_PEERCRED, cred, len) === 0 ? cred : null;
}
