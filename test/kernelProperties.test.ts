// Properties of the twin over random operation sequences (fast-check), on every profile.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KernelOp } from '../actors/kernel/kernelDocument.js';
import { parseKernelDocument } from '../actors/kernel/kernelDocument.js';
import { runKernelDocument } from '../actors/kernel/runKernelDocument.js';
import { ERRNOS } from '../machines/errno.js';
import { KERNEL_PROFILES } from '../machines/profile.js';
import { KERNEL_STATES } from '../machines/rprocTypes.js';

const rproc = fc.constantFrom('m4', 'dsp');
const pid = fc.constantFrom(1, 2, 3);
const fd = fc.constantFrom('a', 'b');
const opArb: fc.Arbitrary<KernelOp> = fc.oneof(
  fc.record({
    op: fc.constant('sysfs.read' as const),
    rproc,
    attr: fc.constantFrom('state' as const, 'firmware' as const),
  }),
  fc.record({
    op: fc.constant('sysfs.write' as const),
    rproc,
    attr: fc.constantFrom('state' as const, 'recovery' as const, 'firmware' as const),
    value: fc.constantFrom('start', 'stop\n', 'detach', 'recover', 'disabled', 'enabled', 'x.elf', ''),
  }),
  fc.record({ op: fc.constant('cdev.open' as const), rproc, pid, fd }),
  fc.record({
    op: fc.constant('cdev.write' as const),
    fd,
    value: fc.constantFrom('start', 'stop', 'sto', 'detach', 'start\n'),
  }),
  fc.record({
    op: fc.constant('cdev.ioctl' as const),
    fd,
    request: fc.constant('RPROC_SET_SHUTDOWN_ON_RELEASE'),
    value: fc.constantFrom(0, 1),
  }),
  fc.record({ op: fc.constant('cdev.close' as const), fd }),
  fc.record({ op: fc.constant('kill' as const), pid }),
  fc.record({ op: fc.constant('crash' as const), rproc }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ op: fc.constant('unbind' as const), rproc }),
  fc.record({ op: fc.constant('power' as const), rproc }),
);
// Every fd label must be opened before use: start with both opens.
const docArb = fc
  .record({
    profile: fc.constantFrom(...KERNEL_PROFILES),
    ops: fc.array(fc.record({ o: opArb, wait: fc.boolean() }), { maxLength: 30 }),
    m4: fc.record({
      autoBoot: fc.boolean(),
      initial: fc.constantFrom('offline' as const, 'detached' as const),
      recovery: fc.constantFrom('enabled' as const, 'disabled' as const),
    }),
  })
  .map(({ profile, ops, m4 }) => ({
    profile,
    doc: {
      processors: [
        { name: 'm4', ...m4 },
        { name: 'dsp', firmwareMissing: true },
      ],
      ops: [
        { op: 'cdev.open', rproc: 'm4', pid: 1, fd: 'a' },
        { op: 'cdev.open', rproc: 'dsp', pid: 2, fd: 'b' },
        ...ops.map(({ o, wait }) => (wait ? o : { ...o, wait: false })),
      ],
    },
  }));

const states = new Set(KERNEL_STATES.map((s) => `${s}\n`));
const errnos = new Set<string>(ERRNOS);

describe('kernel twin properties', () => {
  it('should answer every operation with ok or a known errno, read only kernel strings, and be deterministic', () => {
    fc.assert(
      fc.property(docArb, ({ profile, doc }) => {
        const parsed = parseKernelDocument(doc, profile);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const a = runKernelDocument(parsed.value.doc, { profile });
        const b = runKernelDocument(parsed.value.doc, { profile });
        expect(a.results).toEqual(b.results);
        expect(a.results).toHaveLength(doc.ops.length);
        for (const r of a.results) {
          if (!r.ok) expect(errnos.has(r.errno ?? '')).toBe(true);
          const o = doc.ops[r.i] as KernelOp;
          if (r.ok && o.op === 'sysfs.read' && o.attr === 'state')
            expect(states.has(String(r.value))).toBe(true);
        }
        // With time run out, every processor's lock is free again.
        while (a.clock.step()) {}
        for (const p of a.twin.processors) {
          expect(p.context.holder).toBeNull();
          expect(p.context.waiters).toEqual([]);
        }
        a.twin.stop();
        b.twin.stop();
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    );
  });
});
