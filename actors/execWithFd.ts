// execWithFd: replace this process with a command through execve (koffi), one descriptor inherited, blocking.

import { constants } from 'node:os';
import { fail, ok, type Result } from '../machines/errno.js';
import { errnoName } from './drivers/ioctl.js';
import { libc } from './libc.js';

/** fcntl commands and flags (asm-generic, the same on x86-64, arm64 and armhf). */
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const FD_CLOEXEC = 1;
const O_NONBLOCK = 0o4000;
/** `SIG_DFL`, and `SIG_SETMASK` for sigprocmask. */
const SIG_DFL = null;
const SIG_SETMASK = 2;

interface ExecCalls {
  fcntl: (fd: number, cmd: number, arg: number) => number;
  signal: (sig: number, handler: null) => unknown;
  sigprocmask: (how: number, set: Buffer, old: null) => number;
  execvpe: (file: string, argv: Array<string | null>, envp: Array<string | null>) => number;
  errno: () => number;
}

let calls: ExecCalls | null = null;

function load(): ExecCalls {
  if (!calls) {
    const { koffi, lib } = libc();
    calls = {
      fcntl: lib.func('int fcntl(int fd, int cmd, int arg)') as ExecCalls['fcntl'],
      signal: lib.func('void *signal(int sig, void *handler)') as ExecCalls['signal'],
      sigprocmask: lib.func(
        'int sigprocmask(int how, const void *set, void *old)',
      ) as ExecCalls['sigprocmask'],
      execvpe: lib.func(
        'int execvpe(const char *file, const char **argv, const char **envp)',
      ) as ExecCalls['execvpe'],
      errno: () => koffi.errno(),
    };
  }
  return calls;
}

/** The errno of the last call as data, for `op`. */
function failed(c: ExecCalls, op: string, detail: string): Result<never> {
  const n = c.errno();
  const name = Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;
  return fail(errnoName(n), op, `${detail}: ${name}`);
}

/** Clears close-on-exec and O_NONBLOCK on `fd`; the flags it had, to put back, or a failure. */
function inherit(c: ExecCalls, fd: number): Result<{ fd: number; fdFlags: number; flFlags: number }> {
  const fdFlags = c.fcntl(fd, F_GETFD, 0);
  if (fdFlags < 0 || c.fcntl(fd, F_SETFD, fdFlags & ~FD_CLOEXEC) < 0) return failed(c, 'fcntl', `fd ${fd}`);
  const flFlags = c.fcntl(fd, F_GETFL, 0);
  if (flFlags < 0 || c.fcntl(fd, F_SETFL, flFlags & ~O_NONBLOCK) < 0) return failed(c, 'fcntl', `fd ${fd}`);
  return ok({ fd, fdFlags, flFlags });
}

/**
 * Replaces the calling process with `file` (looked up on `PATH` as `execvp` does) run with `argv` and
 * the environment `env`, keeping descriptor `fd` and the standard streams 0–2 open across the exec:
 * their close-on-exec flag is cleared and they are made blocking (O_NONBLOCK cleared on their open file
 * descriptions, as libuv does for a spawned child's standard streams: Node's sockets and pipes are
 * non-blocking, most programs expect blocking descriptors). Signals Node ignores (SIGPIPE, SIGXFSZ) are
 * set back to their default and the signal mask emptied first, as a shell's child would have them.
 * Every other descriptor Node opened is close-on-exec, so the new program holds only its standard
 * streams and `fd`. Returns only on failure, with errno data (ENOENT: no such command; EACCES: not
 * executable); the descriptors' flags are then put back.
 */
export function execWithFd(
  file: string,
  argv: string[],
  env: Record<string, string>,
  fd: number,
): Result<never> {
  const c = load();
  const kept: Array<{ fd: number; fdFlags: number; flFlags: number }> = [];
  const restore = () => {
    for (const k of kept) {
      c.fcntl(k.fd, F_SETFL, k.flFlags);
      c.fcntl(k.fd, F_SETFD, k.fdFlags);
    }
  };
  for (const keep of [0, 1, 2, fd]) {
    const r = inherit(c, keep);
    // A closed standard stream stays closed (EBADF), as it would for a shell's child.
    if (!r.ok && keep !== fd) continue;
    if (!r.ok) {
      restore();
      return r;
    }
    kept.push(r.value);
  }
  for (const sig of [constants.signals.SIGPIPE, constants.signals.SIGXFSZ]) c.signal(sig, SIG_DFL);
  c.sigprocmask(SIG_SETMASK, Buffer.alloc(128), null);
  const envp = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  c.execvpe(file, [...argv, null], [...envp, null]);
  const err = failed(c, 'execve', file);
  restore();
  return err;
}
