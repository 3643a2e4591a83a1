// Random operation sequences (fast-check, fixed seed) on the twin; with RPROC_LAB_EXPORT they become lab documents too.
//
// The twin side checks invariants every sequence must keep; `lab diff` over the exported documents
// checks the twin against the real kernels (docs/lab.md). RPROC_LAB_RANDOM=N exports the first N
// sequences (default 100; CI exports LAB_RANDOM of .ci/run, for its time budget), of the 1,000 the twin runs.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KernelOp } from '../../actors/kernel/kernelDocument.js';
import { parseKernelDocument } from '../../actors/kernel/kernelDocument.js';
import type { ProcessorJson } from '../../actors/kernel/processorSchema.js';
import { runKernelDocument } from '../../actors/kernel/runKernelDocument.js';
import { op } from './harness.js';

const PIDS = [100, 200] as const;
const FDS = ['a', 'b'] as const;

/** One operation on processor m4; fds `a` (pid 100) and `b` (pid 200) are opened by the sequence itself. */
const opArb: fc.Arbitrary<KernelOp> = fc.oneof(
  fc.constant(op.start()),
  fc.constant(op.stop()),
  fc.constant(op.read()),
  fc.constant(op.power()),
  fc.constant(op.crash()),
  fc.constantFrom(50, 150, 300).map((ms) => op.advance(ms)),
  fc.constantFrom(...FDS).map((fd) => op.cdev(fd, 'start')),
  fc.constantFrom(...FDS).map((fd) => op.cdev(fd, 'stop')),
  fc.constantFrom(...FDS).map((fd) => op.setFlag(fd)),
  fc.constantFrom(...FDS).map((fd) => op.getFlag(fd)),
  fc.constantFrom(...FDS).map((fd) => op.close(fd)),
  fc.constantFrom(...PIDS).map((pid) => op.kill(pid)),
  fc.constant(op.write('recovery', 'recover')),
);

const processorArb: fc.Arbitrary<ProcessorJson> = fc.record({
  name: fc.constant('m4'),
  recovery: fc.constantFrom('enabled' as const, 'disabled' as const),
  autoBoot: fc.boolean(),
});

/** A document: both fds opened first, then 3–14 random operations, then the final state and count. */
const randomDocArb = fc
  .tuple(processorArb, fc.array(opArb, { minLength: 3, maxLength: 14 }))
  .map(([p, ops]) => ({
    processors: [p],
    ops: [op.open('a', 100), op.open('b', 200), ...ops, op.read(), op.power()],
  }));

const SEQUENCES = fc.sample(randomDocArb, { numRuns: 1000, seed: 20261201 });

function exportForLab(): void {
  const dir = process.env.RPROC_LAB_EXPORT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const n = Number(process.env.RPROC_LAB_RANDOM ?? 100);
  SEQUENCES.slice(0, n).forEach((doc, i) => {
    const body = { description: `random sequence ${i} (seed 20261201)`, ...doc };
    writeFileSync(
      join(dir, `random-${String(i).padStart(4, '0')}.json`),
      `${JSON.stringify(body, null, 2)}\n`,
    );
  });
}

describe('random sequences on the twin', () => {
  exportForLab();
  for (const profile of ['5.19', '7.3'] as const) {
    it(`[${profile}] should keep the power count at 0 or more, and offline at 0 unless auto-booting or wedged, over 1,000 sequences`, () => {
      let ops = 0;
      for (const doc of SEQUENCES) {
        const checked = parseKernelDocument(doc, profile);
        if (!checked.ok) throw new Error(checked.error.detail);
        const run = runKernelDocument(checked.value.doc, { profile });
        const ctx = run.twin.inspect(0);
        run.twin.stop();
        ops += run.results.length;
        expect(run.results).toHaveLength(doc.ops.length);
        expect(ctx.power).toBeGreaterThanOrEqual(0);
        if (ctx.power === 0 && ctx.failedRecoveries === 0 && !doc.processors[0]?.autoBoot)
          expect(['offline', 'crashed']).toContain(ctx.state);
      }
      expect(ops).toBeGreaterThan(10_000);
    });
  }
});
