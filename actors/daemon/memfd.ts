// memfd: an anonymous memory file (memfd_create(2), through koffi) for state a service manager keeps in its fd store across a restart.

import { fstatSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import { fail, ok, type Result } from '../../machines/errno.js';
import { errnoName } from '../drivers/ioctl.js';
import { libc as loadLibc } from '../libc.js';

const MFD_CLOEXEC = 1;
let memfdCreate: ((name: string, flags: number) => number) | null = null;

/** A new memory file named `name` (shown in /proc/PID/fd as `/memfd:name`), close-on-exec. */
export function createMemfd(name: string): Result<number> {
  const { koffi, lib } = loadLibc();
  memfdCreate ??= lib.func(
    'int memfd_create(const char *name, unsigned int flags)',
  ) as unknown as typeof memfdCreate;
  const fd = memfdCreate?.(name, MFD_CLOEXEC) ?? -1;
  if (fd < 0) {
    const n = koffi.errno();
    return fail(errnoName(n), 'memfd_create', `errno ${n}`);
  }
  return ok(fd);
}

/** Replaces the whole content of the file `fd` with `text` (written from offset 0, then truncated). */
export function writeWhole(fd: number, text: string): void {
  const b = Buffer.from(text);
  let at = 0;
  while (at < b.length) at += writeSync(fd, b, at, b.length - at, at);
  ftruncateSync(fd, b.length);
}

/** The whole content of the file `fd`, read from offset 0. */
export function readWhole(fd: number): string {
  const size = fstatSync(fd).size;
  const b = Buffer.alloc(size);
  let at = 0;
  while (at < size) {
    const n = readSync(fd, b, at, size - at, at);
    if (n === 0) break;
    at += n;
  }
  return b.subarray(0, at).toString('utf8');
}
