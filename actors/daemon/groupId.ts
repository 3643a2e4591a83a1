// groupId: a group given by name or number, as chown(1) takes it — getgrnam(3) through koffi, so NSS groups count.

import { fail, ok, type Result } from '../../machines/errno.js';
import { libc } from '../libc.js';

type GetGrNam = (name: string) => { gr_gid: number } | null;
let getgrnam: GetGrNam | null = null;

function load(): GetGrNam {
  if (!getgrnam) {
    const { koffi, lib } = libc();
    const group = koffi.struct('rproc_group', {
      gr_name: 'char *',
      gr_passwd: 'char *',
      gr_gid: 'uint32',
      gr_mem: 'void *',
    });
    const fn = lib.func('getgrnam', koffi.pointer(group), ['str']);
    getgrnam = (name) => {
      const ptr: unknown = fn(name);
      return ptr ? (koffi.decode(ptr, group) as { gr_gid: number }) : null;
    };
  }
  return getgrnam;
}

/** The gid of `group`: a number (0 to 2^32-2) as it is, a name looked up with getgrnam(3); EINVAL if unknown. */
export function groupId(group: string): Result<number> {
  if (/^\d+$/.test(group)) {
    const n = Number(group);
    return n < 2 ** 32 - 1 ? ok(n) : fail('EINVAL', 'group', `${group}: not a gid`);
  }
  const g = group === '' ? null : load()(group);
  return g ? ok(g.gr_gid) : fail('EINVAL', 'group', `${group}: no such group`);
}
