// fileLimit: RLIMIT_NOFILE through koffi — the daemon raises its soft descriptor limit to the hard one.

import { libc as loadLibc } from '../libc.js';

const RLIMIT_NOFILE = 7;

/** A process's descriptor limit: `soft` (what applies) and `hard` (how far soft may be raised). */
export interface FileLimit {
  soft: number;
  hard: number;
}

interface Rlimit {
  cur: bigint | number;
  max: bigint | number;
}
type GetRlimit = (resource: number, out: Rlimit) => number;
type SetRlimit = (resource: number, lim: Rlimit) => number;
let fns: { get: GetRlimit; set: SetRlimit } | null = null;

function libc(): { get: GetRlimit; set: SetRlimit } {
  if (!fns) {
    const { koffi, lib } = loadLibc();
    koffi.struct('rproc_rlimit', { cur: 'uint64', max: 'uint64' });
    fns = {
      get: lib.func('int getrlimit(int resource, _Out_ rproc_rlimit *rlim)') as GetRlimit,
      set: lib.func('int setrlimit(int resource, const rproc_rlimit *rlim)') as SetRlimit,
    };
  }
  return fns;
}

/** RLIMIT_NOFILE now, or null when it cannot be read. RLIM_INFINITY reads as a very large number. */
export function fileLimit(): FileLimit | null {
  const out: Rlimit = { cur: 0, max: 0 };
  if (libc().get(RLIMIT_NOFILE, out) !== 0) return null;
  const n = (v: bigint | number) => Math.min(Number(v), Number.MAX_SAFE_INTEGER);
  return { soft: n(out.cur), hard: n(out.max) };
}

/**
 * Raises the soft RLIMIT_NOFILE to the hard one (Node itself usually has at start; this makes it so
 * whatever started the daemon) and returns the limit that then applies, or null when it cannot be read.
 */
export function raiseFileLimit(): FileLimit | null {
  const now = fileLimit();
  if (!now || now.soft >= now.hard) return now;
  libc().set(RLIMIT_NOFILE, { cur: BigInt(now.hard), max: BigInt(now.hard) });
  return fileLimit();
}
