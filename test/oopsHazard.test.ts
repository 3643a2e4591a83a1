// The Oops hazard in the twin (docs/abi.md): after `unload`, an operation that would run an op of the
// unloaded driver is a distinct result (`oops`), on the 7.3 profile only; before it DELETED refuses it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type KernelDocument, parseKernelDocument } from '../actors/kernel/kernelDocument.js';
import { resultJson, runKernelDocument } from '../actors/kernel/runKernelDocument.js';
import type { KernelProfile } from '../machines/profile.js';

const CASES = join(import.meta.dirname, '..', 'lab', 'cases');
const load = (file: string): KernelDocument => {
  const r = parseKernelDocument(JSON.parse(readFileSync(join(CASES, file), 'utf8')));
  if (!r.ok) throw new Error(r.error.detail);
  return r.value.doc;
};
const lines = (doc: KernelDocument, profile: KernelProfile) =>
  runKernelDocument(doc, { profile }).results.map(
    (r) => JSON.parse(resultJson(r)) as Record<string, unknown>,
  );

/** m4 at power 2 through descriptor `a` (flagged) and sysfs, the module unloaded, then `last`. */
const atPowerTwo = (...last: KernelDocument['ops']): KernelDocument =>
  ({
    processors: [{ name: 'm4', bootMs: 5, stopMs: 5 }],
    ops: [
      { op: 'cdev.open', rproc: 'm4', pid: 100, fd: 'a' },
      { op: 'cdev.ioctl', fd: 'a', request: 'RPROC_SET_SHUTDOWN_ON_RELEASE', value: 1 },
      { op: 'cdev.write', fd: 'a', value: 'start' },
      { op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'start' },
      { op: 'unload' },
      ...last,
    ],
  }) as KernelDocument;

describe('the Oops hazard in the twin', () => {
  it('should answer oops for a stale stop after unload on 7.3, EINVAL (DELETED) before', () => {
    const doc = load('oops-stale-stop.json');
    expect(lines(doc, '7.3').at(-1)).toEqual({ i: 6, op: 'cdev.write', ok: false, oops: true });
    for (const p of ['5.9', '5.13', '5.19'] as const) {
      expect(lines(doc, p).at(-1)).toEqual({ i: 6, op: 'cdev.write', ok: false, errno: 'EINVAL' });
    }
  });

  it('should answer oops for the flagged close, and for the death of its process, on 7.3 only', () => {
    for (const last of [{ op: 'cdev.close', fd: 'a' } as const, { op: 'kill', pid: 100 } as const]) {
      expect(lines(atPowerTwo(last), '7.3').at(-1)).toMatchObject({ ok: false, oops: true });
      expect(lines(atPowerTwo(last), '5.19').at(-1)).toEqual({ i: 5, op: last.op, ok: true });
    }
  });

  it('should call nothing when the flag is cleared first (what the cdev driver does): no oops anywhere', () => {
    const doc = load('oops-safe-close.json');
    for (const p of ['5.9', '5.13', '5.19', '7.3'] as const) {
      const out = lines(doc, p);
      expect(out.filter((l) => l.oops)).toEqual([]);
      expect(out.slice(6)).toEqual([
        { i: 6, op: 'cdev.ioctl', ok: true },
        { i: 7, op: 'cdev.ioctl', ok: true, value: 0 },
        { i: 8, op: 'cdev.close', ok: true },
        { i: 9, op: 'kill', ok: true },
      ]);
    }
  });

  it('should stop a processor at power 1 during the unload itself (the module is still there): no oops', () => {
    const doc = {
      processors: [{ name: 'm4', bootMs: 5, stopMs: 5 }],
      ops: [
        { op: 'cdev.open', rproc: 'm4', pid: 100, fd: 'a' },
        { op: 'cdev.ioctl', fd: 'a', request: 'RPROC_SET_SHUTDOWN_ON_RELEASE', value: 1 },
        { op: 'cdev.write', fd: 'a', value: 'start' },
        { op: 'unload' },
        { op: 'cdev.write', fd: 'a', value: 'stop' },
        { op: 'cdev.close', fd: 'a' },
      ],
    } as KernelDocument;
    for (const p of ['5.19', '7.3'] as const) {
      const run = runKernelDocument(doc, { profile: p });
      expect(run.results.filter((r) => r.oops)).toEqual([]);
      expect(run.twin.inspect(0)).toMatchObject({ state: p === '7.3' ? 'offline' : 'deleted', power: 0 });
      expect(run.results[4]).toMatchObject({ ok: false, errno: 'EINVAL' });
    }
  });

  it('should keep the unbind (module loaded) a plain removal: its stale stop runs ops->stop, no oops', () => {
    const doc = atPowerTwo({ op: 'cdev.write', fd: 'a', value: 'stop' });
    doc.ops[4] = { op: 'unbind', rproc: 'm4' };
    expect(lines(doc, '7.3').at(-1)).toEqual({ i: 5, op: 'cdev.write', ok: true });
  });
});
