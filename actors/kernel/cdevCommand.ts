// cdevCommand: the parser of `rproc_cdev_write` — 1..10 bytes, strncmp prefix match (kernel-semantics §5.2).

/** Commands of `/dev/remoteprocN`. */
export type CdevCommand = 'start' | 'stop' | 'detach';

/** The largest write the cdev accepts (`char cmd[10]`). */
export const CDEV_MAX_WRITE = 10;

const encoder = new TextEncoder();

/** `strncmp(cmd, word, len) == 0`: compares at most `len` bytes and stops at a NUL in both. */
function strncmpEquals(cmd: Uint8Array, word: string, len: number): boolean {
  const w = encoder.encode(word);
  for (let i = 0; i < len; i++) {
    const a = cmd[i] ?? 0;
    const b = w[i] ?? 0;
    if (a !== b) return false;
    if (a === 0) return true;
  }
  return true;
}

/**
 * Parses the bytes of a cdev write as the kernel does. Returns the command, or `'EINVAL'` for an empty,
 * too long or unrecognised write. A trailing newline is unrecognised; `sta` means start, `sto` stop.
 *
 * @param detach whether `detach` is a command (v5.13+).
 * @example parseCdevCommand(new TextEncoder().encode('start\n'), true) // 'EINVAL'
 */
export function parseCdevCommand(bytes: Uint8Array, detach: boolean): CdevCommand | 'EINVAL' {
  const len = bytes.length;
  if (len === 0 || len > CDEV_MAX_WRITE) return 'EINVAL';
  if (strncmpEquals(bytes, 'start', len)) return 'start';
  if (strncmpEquals(bytes, 'stop', len)) return 'stop';
  if (detach && strncmpEquals(bytes, 'detach', len)) return 'detach';
  return 'EINVAL';
}

/** `RPROC_SET_SHUTDOWN_ON_RELEASE` = `_IOW(0xB7, 1, __s32)` (kernel-semantics §5.3). */
export const RPROC_SET_SHUTDOWN_ON_RELEASE = 0x4004b701;
/** `RPROC_GET_SHUTDOWN_ON_RELEASE` = `_IOR(0xB7, 2, __s32)`. */
export const RPROC_GET_SHUTDOWN_ON_RELEASE = 0x8004b702;

/** ioctl request names the twin knows, by value. */
export const IOCTL_REQUESTS = {
  RPROC_SET_SHUTDOWN_ON_RELEASE,
  RPROC_GET_SHUTDOWN_ON_RELEASE,
} as const;

/** Normalises an ioctl request (a name, or a number signed or not) to the kernel's `unsigned int`. */
export function ioctlRequestNumber(request: string | number): number | undefined {
  if (typeof request === 'number') return Number.isInteger(request) ? request >>> 0 : undefined;
  return request in IOCTL_REQUESTS ? IOCTL_REQUESTS[request as keyof typeof IOCTL_REQUESTS] : undefined;
}
