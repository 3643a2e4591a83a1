// staleMount: finds a FUSE mount on a directory (/proc/self/mountinfo) and clears it when its server is gone.

import { readFile, stat } from 'node:fs/promises';
import { MNT_DETACH, umount } from './fuseMount.js';

/** A mount as /proc/self/mountinfo lists it. */
export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
const unescapeOctal = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** Parses /proc/self/mountinfo text. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    const mountPoint = fields[4];
    const fsType = fields[dash + 1];
    if (dash < 5 || mountPoint === undefined || fsType === undefined) continue;
    out.push({
      mountPoint: unescapeOctal(mountPoint),
      fsType,
      source: unescapeOctal(fields[dash + 2] ?? ''),
    });
  }
  return out;
}

/** The mounts on `dir` (an absolute path), last (topmost) first. */
export async function mountsOn(dir: string): Promise<MountEntry[]> {
  const all = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  return all.filter((m) => m.mountPoint === dir).reverse();
}

/** What {@link clearStaleMount} found: nothing mounted, or a dead FUSE mount it detached. */
export type StaleMountOutcome = { cleared: false } | { cleared: true; mount: MountEntry };

/** Stats `dir` with a deadline, so a frozen server cannot hang the caller: the errno, or 'TIMEOUT'. */
async function probe(dir: string, ms: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    stat(dir).then(
      () => null,
      (err: { code?: string }) => err.code ?? 'EIO',
    ),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('TIMEOUT'), ms);
    }),
  ]);
  clearTimeout(timer);
  return r;
}

/**
 * Prepares `dir` (absolute) for a new mount. A FUSE mount whose server died (a killed twin leaves one:
 * `stat` fails with ENOTCONN) is lazily unmounted, and the outcome says so. A live mount of any kind is
 * refused with an EBUSY error: something is using the directory.
 */
export async function clearStaleMount(dir: string, probeMs = 2000): Promise<StaleMountOutcome> {
  const [top] = await mountsOn(dir);
  if (!top) return { cleared: false };
  const errno = top.fsType.startsWith('fuse') ? await probe(dir, probeMs) : null;
  if (errno !== 'ENOTCONN') {
    const why = errno === 'TIMEOUT' ? 'a FUSE server that does not answer' : `${top.fsType} (${top.source})`;
    throw Object.assign(new Error(`EBUSY: ${dir} is already a mount point of ${why}`), { code: 'EBUSY' });
  }
  umount(dir, MNT_DETACH);
  return { cleared: true, mount: top };
}
