// Conformance harness: a case is a `kernel run` document plus the expected result of every operation.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { type KernelOp, parseKernelDocument } from '../../actors/kernel/kernelDocument.js';
import type { ProcessorJson } from '../../actors/kernel/processorSchema.js';
import { runKernelDocument } from '../../actors/kernel/runKernelDocument.js';
import { KERNEL_PROFILES, type KernelProfile } from '../../machines/profile.js';

/**
 * The expected result of one operation: `'ok'` (no value), an errno name (`'EBUSY'`), a value the
 * operation returns (a read's string with its newline, a number), or `'*'` for "not checked".
 */
export type Expect = string | number;

/** One row of kernel-semantics.md, run on each of `profiles`. */
export interface ConformanceCase {
  /** The section and row, e.g. `§1.2 T4b`. */
  section: string;
  title: string;
  /** @default all four */
  profiles?: readonly KernelProfile[];
  /** @default [{ name: 'm4' }] */
  processors?: ProcessorJson[];
  ops: KernelOp[];
  /** Per operation, the same for every profile, or per profile. */
  expect: Expect[] | Partial<Record<KernelProfile, Expect[]>>;
}

const ERRNO = /^E[A-Z]+$/;

/** Runs `c` on one profile and returns what each operation gave, in {@link Expect} form. */
export function actual(c: ConformanceCase, profile: KernelProfile): Expect[] {
  const checked = parseKernelDocument({ processors: c.processors ?? [{ name: 'm4' }], ops: c.ops }, profile);
  if (!checked.ok) throw new Error(`case "${c.title}" is malformed:\n${checked.error.issues?.join('\n')}`);
  const run = runKernelDocument(checked.value.doc, { profile });
  run.twin.stop();
  return run.results.map((r) => (r.ok ? (r.value ?? 'ok') : (r.errno ?? 'error')));
}

/**
 * The expectation of `c` on `profile`. `7.3` (the 2026 changes) inherits the `5.19` one unless the case
 * gives its own: the changes touch few rows, and each row they touch says so.
 */
export function expectation(c: ConformanceCase, profile: KernelProfile): Expect[] | undefined {
  if (Array.isArray(c.expect)) return c.expect;
  return c.expect[profile] ?? (profile === '7.3' ? c.expect['5.19'] : undefined);
}

/**
 * With `RPROC_LAB_EXPORT=DIR`, writes the case as a kernel-run document `DIR/<section> <title>.json`
 * for `lab diff` (only cases that run on a profile of the lab's kernels, 5.19 or 7.3).
 */
function exportForLab(c: ConformanceCase): void {
  const dir = process.env.RPROC_LAB_EXPORT;
  const profiles = c.profiles ?? KERNEL_PROFILES;
  if (!dir || !(profiles.includes('5.19') || profiles.includes('7.3'))) return;
  mkdirSync(dir, { recursive: true });
  const name = `${c.section} ${c.title}`.replace(/[^A-Za-z0-9§.]+/g, '-').slice(0, 120);
  const doc = {
    description: `${c.section}: ${c.title}`,
    processors: c.processors ?? [{ name: 'm4' }],
    ops: c.ops,
  };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
}

/** Registers one vitest case per (row, profile). */
export function conformance(cases: ConformanceCase[]): void {
  for (const c of cases) {
    exportForLab(c);
    for (const profile of c.profiles ?? KERNEL_PROFILES) {
      const want = expectation(c, profile);
      if (!want) throw new Error(`case "${c.title}" has no expectation for ${profile}`);
      it(`${c.section} [${profile}] should ${c.title}`, () => {
        const got = actual(c, profile);
        expect(want.length, 'one expectation per operation').toBe(c.ops.length);
        const masked = got.map((g, i) => (want[i] === '*' ? '*' : g));
        expect(masked).toEqual(want);
        for (const w of want)
          if (typeof w === 'string' && w !== 'ok' && w !== '*' && !w.endsWith('\n')) {
            expect(w, 'a string expectation is ok, an errno, a read value ending in \\n, or *').toMatch(
              ERRNO,
            );
          }
      });
    }
  }
}

/** Shorthands for operations on the default processor `m4`. */
export const op = {
  read: (attr: 'state' | 'firmware' | 'name' | 'recovery' | 'coredump' = 'state'): KernelOp => ({
    op: 'sysfs.read',
    rproc: 'm4',
    attr,
  }),
  write: (attr: 'state' | 'firmware' | 'name' | 'recovery' | 'coredump', value: string): KernelOp => ({
    op: 'sysfs.write',
    rproc: 'm4',
    attr,
    value,
  }),
  start: (): KernelOp => ({ op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'start' }),
  stop: (): KernelOp => ({ op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'stop' }),
  power: (): KernelOp => ({ op: 'power', rproc: 'm4' }),
  crash: (): KernelOp => ({ op: 'crash', rproc: 'm4', reason: 'watchdog' }),
  advance: (ms: number): KernelOp => ({ op: 'advance', ms }),
  open: (fd: string, pid: number): KernelOp => ({ op: 'cdev.open', rproc: 'm4', pid, fd }),
  cdev: (fd: string, value: string): KernelOp => ({ op: 'cdev.write', fd, value }),
  setFlag: (fd: string, value = 1): KernelOp => ({
    op: 'cdev.ioctl',
    fd,
    request: 'RPROC_SET_SHUTDOWN_ON_RELEASE',
    value,
  }),
  getFlag: (fd: string): KernelOp => ({ op: 'cdev.ioctl', fd, request: 'RPROC_GET_SHUTDOWN_ON_RELEASE' }),
  close: (fd: string): KernelOp => ({ op: 'cdev.close', fd }),
  kill: (pid: number): KernelOp => ({ op: 'kill', pid }),
  unbind: (): KernelOp => ({ op: 'unbind', rproc: 'm4' }),
};
