// The lab's schedule: each `advance` ends at the twin's virtual instant (lab/labRun.ts advanceEnds), so
// real latency before it (forks, kills, opens) is absorbed instead of added (docs/lab.md, "Time").

import { describe, expect, it } from 'vitest';
import type { KernelDocument } from '../actors/kernel/kernelDocument.js';
import { advanceEnds } from '../lab/labRun.js';

const doc = (ops: unknown[]): KernelDocument =>
  ({ processors: [{ name: 'm4', autoBoot: true, bootMs: 100, stopMs: 20 }], ops }) as KernelDocument;

describe('advanceEnds', () => {
  it('should give each advance the instant the twin reaches, counting time a blocking call took', () => {
    const ends = advanceEnds(
      doc([
        { op: 'cdev.open', rproc: 'm4', pid: 100, fd: 'a' },
        { op: 'advance', ms: 50 },
        { op: 'sysfs.read', rproc: 'm4', attr: 'state' },
        // The auto-boot ends at 100: a stop then blocks for stopMs (20) before the next advance.
        { op: 'advance', ms: 60 },
        { op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'stop' },
        { op: 'advance', ms: 5 },
      ]),
      '5.19',
    );
    expect(ends).toEqual({ 1: 50, 3: 110, 5: 135 });
  });

  it('should give nothing for a document without an advance', () => {
    expect(advanceEnds(doc([{ op: 'power', rproc: 'm4' }]), '7.3')).toEqual({});
  });
});
