// peerGroups: the supplementary groups of a Unix socket's peer — SO_PEERGROUPS through koffi, else /proc/<pid>/status.

import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { libc, socketFd } from '../libc.js';

const SOL_SOCKET = 1;
/** Linux 4.13 and later: the peer's supplementary groups, as the kernel recorded them at connect time. */
const SO_PEERGROUPS = 59;

type GetSockOptBuf = (fd: number, level: number, name: number, out: Buffer, len: number[]) => number;
let getsockopt: GetSockOptBuf | null = null;

function load(): GetSockOptBuf {
  if (!getsockopt) {
    getsockopt = libc().lib.func(
      'int getsockopt(int fd, int level, int name, void *buf, _Inout_ uint32_t *len)',
    ) as GetSockOptBuf;
  }
  return getsockopt;
}

/** SO_PEERGROUPS of descriptor `fd`: the groups, or null when the kernel does not have the option. */
function soPeerGroups(fd: number): number[] | null {
  const call = load();
  let size = 64 * 4;
  // ERANGE tells the size needed in `len`; a peer's groups can change only before it connects.
  for (let attempt = 0; attempt < 4; attempt++) {
    const buf = Buffer.alloc(size);
    const len = [size];
    if (call(fd, SOL_SOCKET, SO_PEERGROUPS, buf, len) === 0) {
      const n = Math.floor((len[0] ?? 0) / 4);
      return Array.from({ length: n }, (_, i) => buf.readUInt32LE(i * 4));
    }
    if ((len[0] ?? 0) <= size) return null;
    size = len[0] ?? size;
  }
  return null;
}

/** The `Groups:` line of `/proc/<pid>/status`, or null. */
export function procGroups(
  pid: number,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): number[] | null {
  let text: string;
  try {
    text = read(`/proc/${pid}/status`);
  } catch {
    return null;
  }
  const line = text.split('\n').find((l) => l.startsWith('Groups:'));
  if (line === undefined) return null;
  return line
    .slice('Groups:'.length)
    .trim()
    .split(/\s+/)
    .filter((g) => g !== '')
    .map(Number)
    .filter((g) => Number.isInteger(g) && g >= 0);
}

/**
 * The supplementary groups of an accepted Unix socket's peer. SO_PEERGROUPS first: the kernel copies
 * them from the peer's credentials at connect time, as SO_PEERCRED's uid and gid, so nothing can change
 * them afterwards and no pid can be reused in between. Only on a kernel without it (before 4.13) the
 * `Groups:` of `/proc/<pid>/status` of SO_PEERCRED's pid, read now: racy (the peer may have exited and
 * its pid been reused, and the groups read are then another process's), hence only the fallback.
 * getgrouplist(3) is not used: it says which
 * groups the user's name is in (NSS), not which groups the connecting process has. Null when neither
 * can be read.
 */
export function peerGroups(socket: Socket, pid: number | null): number[] | null {
  const fd = socketFd(socket);
  if (fd !== null) {
    const groups = soPeerGroups(fd);
    if (groups) return groups;
  }
  return pid !== null && pid > 0 ? procGroups(pid) : null;
}
