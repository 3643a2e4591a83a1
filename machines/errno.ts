// Errno data: the kernel's error codes as values, and the Result type every twin operation returns.

/** The errno names the remoteproc userspace ABI can return (kernel-semantics §8.12), plus VFS ones. */
export const ERRNOS = [
  'EBUSY',
  'EINVAL',
  'ENODEV',
  'ENOENT',
  'EACCES',
  'EFAULT',
  'EINTR',
  'ENXIO',
  'EBADF',
  'ENOMEM',
  'EPERM',
  'ETIMEDOUT',
  'ESRCH',
  'EIO',
  'ENOTTY',
] as const;

/** One errno name, e.g. `'EBUSY'`. */
export type Errno = (typeof ERRNOS)[number];

/**
 * An error as data: the kernel's errno, the operation that failed and, optionally, what the kernel
 * would have logged.
 *
 * @example
 * const err: RprocError = { code: 'EBUSY', op: 'sysfs.write', detail: "can't change firmware while running" };
 */
export interface RprocError {
  code: Errno;
  op: string;
  detail?: string;
}

/** The outcome of an operation: a value, or an {@link RprocError}. Only programmer errors throw. */
export type Result<T = undefined> = { ok: true; value: T } | { ok: false; error: RprocError };

/** Builds a successful {@link Result}. */
export function ok(): Result<undefined>;
export function ok<T>(value: T): Result<T>;
export function ok<T>(value?: T): Result<T | undefined> {
  return { ok: true, value };
}

/** Builds a failed {@link Result} carrying `code`. */
export function fail<T = never>(code: Errno, op: string, detail?: string): Result<T> {
  return { ok: false, error: detail === undefined ? { code, op } : { code, op, detail } };
}
