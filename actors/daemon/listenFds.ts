// listenFds: descriptors passed by a service manager (sd_listen_fds(3)) — activation sockets and the fd store's descriptors, from fd 3 on.

import { fstatSync } from 'node:fs';
import { libc as loadLibc } from '../libc.js';

/** The first passed descriptor (`SD_LISTEN_FDS_START`). */
export const LISTEN_FDS_START = 3;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

/** One passed descriptor: its number, its name (`$LISTEN_FDNAMES`, else `unknown`) and what it is. */
export interface PassedFd {
  fd: number;
  name: string;
  /** `socket` for a socket (an activation socket), `file` for anything else (a stored device, a memfd). */
  kind: 'socket' | 'file';
}

let fcntl: ((fd: number, cmd: number, ...rest: unknown[]) => number) | null = null;

/** Sets close-on-exec on `fd` (what sd_listen_fds does): no child of this process inherits it. */
function setCloexec(fd: number): void {
  if (!fcntl) {
    const { lib } = loadLibc();
    fcntl = lib.func('int fcntl(int fd, int cmd, ...)') as unknown as typeof fcntl;
  }
  fcntl?.(fd, F_SETFD, 'int', FD_CLOEXEC);
}

/**
 * The descriptors a service manager passed this process: `$LISTEN_FDS` of them from fd 3, named by
 * `$LISTEN_FDNAMES` (colon-separated), when `$LISTEN_PID` is this process's pid; none otherwise (they
 * were meant for another process, or there is no service manager). Like sd_listen_fds(1), it unsets
 * the three variables and marks the descriptors close-on-exec.
 */
export function listenFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): PassedFd[] {
  const count = Number(env.LISTEN_FDS);
  const forUs = Number(env.LISTEN_PID) === pid;
  const names = (env.LISTEN_FDNAMES ?? '').split(':');
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (!forUs || !Number.isInteger(count) || count <= 0) return [];
  const out: PassedFd[] = [];
  for (let i = 0; i < count; i++) {
    const fd = LISTEN_FDS_START + i;
    let kind: PassedFd['kind'];
    try {
      kind = fstatSync(fd).isSocket() ? 'socket' : 'file';
    } catch {
      continue; // not open: nothing was passed there
    }
    setCloexec(fd);
    out.push({ fd, name: names[i] || 'unknown', kind });
  }
  return out;
}
