// Every temporary file of a test run goes under one directory, removed at the end of the run: the tests
// make hundreds (sockets, sysfs trees, mount points, reports) in test processes and in the processes
// they spawn, which all read TMPDIR.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'rproc-tests-'));
  process.env.TMPDIR = dir;
  return () => {
    // A FUSE mount still under it (a test that failed to unmount) must not be walked into.
    let mounts = '';
    try {
      mounts = readFileSync('/proc/self/mounts', 'utf8');
    } catch {}
    const mounted = mounts.split('\n').some((line) => line.split(' ')[1]?.startsWith(dir));
    if (mounted) {
      console.warn(`test temp dir ${dir} kept: a mount is still under it`);
      return;
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
