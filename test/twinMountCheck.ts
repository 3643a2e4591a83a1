// Whether this machine can mount the twin (root and /dev/fuse), with the reason printed when it cannot.

import { existsSync } from 'node:fs';

/** Why FUSE tests cannot run here, or null when they can. */
export const cannotMount: string | null =
  process.getuid?.() !== 0
    ? `not root (uid ${process.getuid?.()}): mounting the twin needs root`
    : !existsSync('/dev/fuse')
      ? 'no /dev/fuse (Debian: apt install fuse3, or load the fuse module)'
      : null;

/** Prints why a FUSE test file is skipped; call it at the top of such a file. */
export function warnIfSkipped(file: string): void {
  if (cannotMount) console.warn(`${file}: SKIPPED: ${cannotMount}`);
}
