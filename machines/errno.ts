// Errno data: the kernel's error codes as values, and the Result type every twin operation returns.

/**
 * The errno names the remoteproc userspace ABI can return (kernel-semantics §8.12), plus VFS ones, plus
 * `EPROTO`: a lease-protocol frame that cannot be understood (docs/protocol.md).
 */
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
  'EPROTO',
  'ENOTSUP',
] as const;

/** One errno name, e.g. `'EBUSY'`. */
export type Errno = (typeof ERRNOS)[number];

/** `name` when it is one of {@link ERRNOS}, else `EIO` (an error the ABI does not use). */
export function toErrno(name: string): Errno {
  return (ERRNOS as readonly string[]).includes(name) ? (name as Errno) : 'EIO';
}

/**
 * An error as data: the kernel's errno, the operation that failed and, optionally, what the kernel
 * would have logged.
 *
 * Input checked at the edges (scenario files, `kernel run` documents, processors files, protocol
 * frames, JSON files the CLI reads) fails with the same shape: `code` is `EINVAL` for a malformed
 * document (`EPROTO` for a protocol frame, the read's errno for a file that cannot be read), `op` names
 * the input (`scenario`, `kernel run`, `processors`, `frame`, `read`), `detail` is the whole problem on
 * one line, and `issues` holds the per-field messages — one `path: message` each, in input order
 * (`timeline[2].kill: unknown client "x"`) — whenever the input was checked field by field. `detail`
 * is then those issues joined with `; `. {@link invalid} builds it.
 *
 * @example
 * const err: RprocError = { code: 'EBUSY', op: 'sysfs.write', detail: "can't change firmware while running" };
 */
export interface RprocError {
  code: Errno;
  op: string;
  detail?: string;
  /** Per-field messages of checked input, `path: message` each; see {@link RprocError}. */
  issues?: string[];
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

/**
 * A failed {@link Result} for input that failed its checks: `code` (default `EINVAL`), `op` naming the
 * input, the per-field `issues` (at least one), and `detail` their one-line join.
 *
 * @example
 * invalid('scenario', ['clients[0].processor: unknown processor "dsp"']);
 */
export function invalid(
  op: string,
  issues: readonly string[],
  code: Errno = 'EINVAL',
): { ok: false; error: RprocError } {
  return { ok: false, error: { code, op, detail: issues.join('; '), issues: [...issues] } };
}
