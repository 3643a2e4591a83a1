// ioctl: `ioctl(2)` with an int32 argument, through koffi (libc), with errno as data.

import { constants } from 'node:os';
import { type Errno, fail, ok, type Result, toErrno } from '../../machines/errno.js';
import { libc as loadLibc } from '../libc.js';

type IoctlFn = (fd: number, request: number, arg: number[]) => number;
type IoctlNullFn = (fd: number, request: number, arg: null) => number;

let loaded: { ioctl: IoctlFn; ioctlNull: IoctlNullFn; errno: () => number } | null = null;

/** Loads libc's `ioctl` once. koffi ships its binaries inside the npm package. */
function libc(): { ioctl: IoctlFn; ioctlNull: IoctlNullFn; errno: () => number } {
  if (!loaded) {
    const { koffi, lib } = loadLibc();
    loaded = {
      ioctl: lib.func('int ioctl(int fd, unsigned long request, _Inout_ int *arg)') as IoctlFn,
      ioctlNull: lib.func('int ioctl(int fd, unsigned long request, void *arg)') as IoctlNullFn,
      errno: () => koffi.errno(),
    };
  }
  return loaded;
}

const NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The errno name of a number (`25` → `ENOTTY`); numbers outside the ABI's list become EIO. */
export function errnoName(n: number): Errno {
  return toErrno(NAMES.get(n) ?? '');
}

/**
 * `ioctl(fd, request, &arg)` with an int32 `arg`; resolves to the value the kernel left in `arg` (what
 * a `_IOR` request returns). A failure is errno data, e.g. ENOTTY on a regular file, EINVAL for a
 * request the remoteproc cdev does not know.
 */
export function ioctlInt(fd: number, request: number, arg = 0): Result<number> {
  const { ioctl } = libc();
  const box = [arg | 0];
  const r = ioctl(fd, request >>> 0, box);
  return r < 0 ? ioctlError(request) : ok(box[0] ?? 0);
}

/** `ioctl(fd, request, NULL)`: what a caller with a bad argument pointer gets (EFAULT from a SET). */
export function ioctlNullArg(fd: number, request: number): Result<number> {
  const r = libc().ioctlNull(fd, request >>> 0, null);
  return r < 0 ? ioctlError(request) : ok(r);
}

function ioctlError(request: number): Result<never> {
  const n = libc().errno();
  return fail(
    errnoName(n),
    'ioctl',
    `request 0x${(request >>> 0).toString(16)}: errno ${n} (${NAMES.get(n) ?? '?'})`,
  );
}
