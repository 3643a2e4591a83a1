// labRun: kernel-run documents on a real kernel (lab VM) and on the twin, and the lines where they differ.

import type { KernelDocument } from '../actors/kernel/kernelDocument.js';
import { type OpResult, resultJson, runKernelDocument } from '../actors/kernel/runKernelDocument.js';
import type { Result } from '../machines/errno.js';
import type { KernelProfile } from '../machines/profile.js';
import type { LabKernel } from './labCache.js';
import { runVm, type VmOptions, type VmRun } from './labVm.js';
import type { LabDocResult } from './protocol.js';

/** A named document, as `lab run`/`lab diff` read it from a file. */
export interface NamedDocument {
  name: string;
  doc: KernelDocument;
}

/** Runs `docs` in one VM of `kernel`. */
export function runOnKernel(
  kernel: LabKernel,
  docs: NamedDocument[],
  options: VmOptions = {},
): Promise<Result<VmRun>> {
  return runVm(
    kernel,
    docs.map((d) => ({ name: d.name, doc: d.doc })),
    options,
  );
}

/** The twin's run of a document: its `--json` lines, and which operations returned at a tie. */
export interface TwinLines {
  lines: string[];
  /**
   * Operations that returned at the virtual instant a processor's state or power count changed
   * without any operation of the document returning then (a recovery or an auto-boot completing):
   * in real time such a read lands on either side of the change.
   */
  ties: Set<number>;
}

/** Operations that can wait in the kernel: one returning at a change is the change's cause, not a tie. */
const BLOCKING: ReadonlySet<string> = new Set(['sysfs.write', 'cdev.write', 'cdev.close', 'kill', 'unbind']);

/** The twin's `--json` lines of `doc` on `profile`, and its ties. */
export function twinLines(doc: KernelDocument, profile: KernelProfile): TwinLines {
  const changes = new Set<number>();
  const run = runKernelDocument(doc, {
    profile,
    onTwin: (twin, clock) => {
      const last = new Map<number, string>();
      twin.subscribe((i, c) => {
        const key = `${c.state} ${c.power}`;
        if (last.get(i) !== key) changes.add(clock.now());
        last.set(i, key);
      });
    },
  });
  run.twin.stop();
  const ties = new Set<number>();
  for (const r of run.results) {
    if ((r.op !== 'sysfs.read' && r.op !== 'power') || r.t === 0 || !changes.has(r.t)) continue;
    // A blocking call before the read that returned at that instant waited for the change: no tie.
    const waited = run.results.some((b) => b.i < r.i && BLOCKING.has(b.op) && b.t === r.t);
    if (!waited) ties.add(r.i);
  }
  return { lines: run.results.map(resultJson), ties };
}

/** The `--json` lines of a lab result (the same shape `kernel run --json` prints). */
export function labLines(result: LabDocResult): string[] {
  return result.results.map((r: OpResult) => resultJson(r));
}

/** One operation whose line differs between the twin and a real kernel. */
export interface LineDiff {
  i: number;
  twin: string | undefined;
  lab: string | undefined;
}

/** The operations whose `--json` lines differ (a missing line on one side counts). */
export function diffLines(twin: string[], lab: string[]): LineDiff[] {
  const out: LineDiff[] = [];
  for (let i = 0; i < Math.max(twin.length, lab.length); i++) {
    if (twin[i] !== lab[i]) out.push({ i, twin: twin[i], lab: lab[i] });
  }
  return out;
}

/**
 * Results of every document on `kernel`. One VM runs them in order; when it ends early (a timeout, an
 * Oops), the document it was on is reported with the reason and a new VM goes on with the rest.
 */
export async function runAll(
  kernel: LabKernel,
  docs: NamedDocument[],
  onVm?: (done: number, total: number, run: Result<VmRun>) => void,
  options: VmOptions = {},
): Promise<{ results: Map<string, LabDocResult | string>; vmMs: number; vms: number }> {
  const results = new Map<string, LabDocResult | string>();
  let vmMs = 0;
  let vms = 0;
  let left = docs;
  while (left.length > 0) {
    const run = await runOnKernel(kernel, left, options);
    vms++;
    if (!run.ok) {
      for (const d of left) results.set(d.name, run.error.detail ?? run.error.code);
      onVm?.(docs.length, docs.length, run);
      break;
    }
    vmMs += run.value.ms;
    for (const r of run.value.results) results.set(r.name, r.error ? `lab: ${r.error}` : r);
    const next = left.findIndex((d) => !results.has(d.name));
    if (next >= 0) {
      const stuck = left[next] as NamedDocument;
      results.set(stuck.name, `${run.value.incomplete ?? 'no result'}\n${run.value.console.slice(-3000)}`);
      left = left.slice(next + 1).filter((d) => !results.has(d.name));
    } else left = [];
    onVm?.(docs.length - left.length, docs.length, run);
  }
  return { results, vmMs, vms };
}
