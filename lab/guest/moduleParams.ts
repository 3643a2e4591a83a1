// moduleParams: a document's processor objects as the fake driver's module parameters (lab/driver/README.md).

import type { KernelDocument } from '../../actors/kernel/kernelDocument.js';
import { deviceIndex } from '../../actors/kernel/Processor.js';
import { RPROC_DEFAULTS } from '../../machines/rprocTypes.js';

/** The index of the processor a document's operation names (`name` or `remoteprocN`). */
export function processorIndex(doc: KernelDocument, ref: string): number {
  const byName = doc.processors.findIndex((p) => p.name === ref);
  return byName >= 0 ? byName : (deviceIndex(ref) ?? -1);
}

const bit = (b: boolean) => (b ? '1' : '0');
const COREDUMP = { disabled: '0', enabled: '1', inline: '2' } as const;

/**
 * `insmod rproc_fake.ko` arguments for the document's processors: one array element per processor, the
 * twin's defaults (`RPROC_DEFAULTS`) where the document says nothing; durations times `timeScale`. Names and firmware names must not
 * contain a comma or a space (module parameter syntax); such a document cannot run in the lab.
 */
export function moduleParams(doc: KernelDocument, timeScale = 1): string[] {
  const ps = doc.processors.map((p) => ({ ...RPROC_DEFAULTS, ...p }));
  for (const p of ps) {
    for (const s of [p.name, p.firmware]) {
      if (/[\s,"]/.test(s))
        throw new Error(`lab limit: "${s}" cannot be a module parameter (comma, space or quote)`);
    }
  }
  const list = (f: (p: (typeof ps)[number]) => string) => ps.map(f).join(',');
  return [
    `procs=${ps.length}`,
    `names=${list((p) => p.name)}`,
    `firmware=${list((p) => p.firmware)}`,
    `auto_boot=${list((p) => bit(p.autoBoot))}`,
    `detached=${list((p) => bit(p.initial === 'detached'))}`,
    `recovery_disabled=${list((p) => bit(p.recovery === 'disabled'))}`,
    `coredump=${list((p) => COREDUMP[p.coredump])}`,
    `boot_ms=${list((p) => String(p.bootMs * timeScale))}`,
    `stop_ms=${list((p) => String(p.stopMs * timeScale))}`,
    `attach_ms=${list((p) => String(p.attachMs * timeScale))}`,
    `no_stop=${list((p) => bit(!p.canStop))}`,
    `no_detach=${list((p) => bit(!p.canDetach))}`,
    `attach_on_recovery=${list((p) => bit(p.attachOnRecovery))}`,
    `sysfs_read_only=${list((p) => bit(p.sysfsReadOnly))}`,
  ];
}
