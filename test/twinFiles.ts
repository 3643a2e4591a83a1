// A SysfsFiles over the kernel twin: the sysfs driver's file operations answered with kernel semantics.

import type { SysfsFiles } from '../actors/drivers/sysfsDriver.js';
import type { KernelTwin } from '../actors/kernel/KernelTwin.js';
import type { PendingCall } from '../actors/kernel/PendingCall.js';
import { SYSFS_ATTRS, type SysfsAttr } from '../actors/kernel/sysfsAttributes.js';
import type { VirtualClock } from '../actors/VirtualClock.js';
import type { Result } from '../machines/errno.js';

const errnoError = (code: string, path: string) => Object.assign(new Error(`${code}: ${path}`), { code });

/** Paths `<root>/remoteprocN/<attr>` map to the twin; blocking writes run the virtual clock until they return. */
export function twinFiles(twin: KernelTwin, clock: VirtualClock, root: string): SysfsFiles {
  const locate = (path: string): { index: number; attr: SysfsAttr } => {
    const m = new RegExp(`^${root}/remoteproc(\\d+)/(\\w+)$`).exec(path);
    const index = Number(m?.[1]);
    const attr = m?.[2] as SysfsAttr;
    if (!m || !twin.processors[index] || !(SYSFS_ATTRS as readonly string[]).includes(attr))
      throw errnoError('ENOENT', path);
    return { index, attr };
  };
  const settle = <T>(call: PendingCall<T>): Result<T> => {
    while (!call.settled) if (!clock.step()) throw new Error('twin call never returns');
    return call.result as Result<T>;
  };
  return {
    async readFile(path) {
      const { index, attr } = locate(path);
      const r = twin.sysfsRead(index, attr);
      if (!r.ok) throw errnoError(r.error.code, path);
      return r.value;
    },
    async writeFile(path, data) {
      const { index, attr } = locate(path);
      const r = settle(twin.sysfsWrite(index, attr, data));
      if (!r.ok) throw errnoError(r.error.code, path);
    },
    async readdir(path) {
      if (path !== root) throw errnoError('ENOENT', path);
      return twin.processors.map((p) => p.device);
    },
  };
}
