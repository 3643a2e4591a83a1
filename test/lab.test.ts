// The lab on a real kernel: `lab run` answers from the kernel (real processes, sysfs, cdev, ioctl), `lab diff` against the twin.
//
// Needs a kernel built by `rproc-supervisor lab setup` and qemu-system-x86_64. Without them the tests
// print why and skip, except in CI (process.env.CI), where .ci/run sets the lab up first.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labCommand } from '../cli/lab.js';
import { builtKernels, defaultCacheDir } from '../lab/labCache.js';
import { missingTools, RUN_TOOLS } from '../lab/labSetup.js';
import { parseKernel } from '../machines/profile.js';

const cache = defaultCacheDir();
// .ci/run names the kernels it set up (RPROC_LAB_KERNELS); elsewhere every kernel built in the cache.
const wanted = process.env.RPROC_LAB_KERNELS?.split(/\s+/).filter(Boolean);
const kernels = builtKernels(cache).filter((k) => !wanted || wanted.includes(k));
const tools = missingTools(RUN_TOOLS);
const why =
  kernels.length === 0
    ? `no lab kernel in ${cache} (run: rproc-supervisor lab setup)`
    : tools.length
      ? `missing ${tools.join(', ')}`
      : undefined;
if (why && !process.env.CI) console.log(`test/lab.test.ts skipped: ${why}`);
const kernel = kernels[kernels.length - 1] ?? 'none';

const DOC = JSON.stringify({
  processors: [
    { name: 'm4', bootMs: 5, stopMs: 5 },
    { name: 'r5', initial: 'detached' },
  ],
  ops: [
    { op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'start\n' },
    { op: 'sysfs.read', rproc: 'm4', attr: 'state' },
    { op: 'sysfs.read', rproc: 'm4', attr: 'name' },
    { op: 'power', rproc: 'm4' },
    { op: 'cdev.open', rproc: 'm4', pid: 100, fd: 'a' },
    { op: 'cdev.write', fd: 'a', value: 'start\n' },
    { op: 'cdev.write', fd: 'a', value: 'start' },
    { op: 'cdev.ioctl', fd: 'a', request: 'RPROC_SET_SHUTDOWN_ON_RELEASE', value: 1 },
    { op: 'cdev.ioctl', fd: 'a', request: 'RPROC_GET_SHUTDOWN_ON_RELEASE' },
    { op: 'cdev.ioctl', fd: 'a', request: 0x4004b703 },
    { op: 'fork', pid: 100, child: 101 },
    { op: 'kill', pid: 100 },
    { op: 'power', rproc: 'm4' },
    { op: 'cdev.close', fd: 'a', pid: 101 },
    { op: 'power', rproc: 'm4' },
    { op: 'sysfs.read', rproc: 'r5', attr: 'firmware' },
    { op: 'sysfs.write', rproc: 'r5', attr: 'state', value: 'start' },
    { op: 'sysfs.read', rproc: 'r5', attr: 'state' },
    { op: 'sysfs.read', rproc: 'r5', attr: 'firmware' },
    { op: 'kill', pid: 100 },
  ],
});

function io(files: Record<string, string>) {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: (t: string) => {
        out.stdout += t;
      },
      stderr: (t: string) => {
        out.stderr += t;
      },
      readFile: (p: string) => {
        const f = files[p];
        if (f === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
        return f;
      },
    },
  };
}

describe.skipIf(why !== undefined && !process.env.CI)(`lab on kernel ${kernel}`, () => {
  it('should answer every operation from the real kernel: sysfs, the cdev, ioctl, fork and kill of real processes', async () => {
    const t = io({ 'd.json': DOC });
    const code = await labCommand(['run', '--kernel', kernel, '--json', 'd.json'], t.io);
    expect(t.out.stderr).toBe('');
    expect(code).toBe(0);
    const lines = t.out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ok: boolean; errno?: string; value?: unknown });
    const got = lines.map((l) => (l.ok ? (l.value ?? 'ok') : l.errno));
    expect(got).toEqual([
      'ok',
      'running\n',
      'm4\n',
      1,
      'ok',
      'EINVAL', // the cdev takes no newline
      'ok', // start stacks a reference (5.19+)
      'ok',
      1,
      'EINVAL', // an unknown ioctl is EINVAL, not ENOTTY
      'ok',
      'ok', // the child still holds the description: no release yet
      2,
      'ok', // the last close runs the release: shutdown-on-release drops one reference
      1,
      'rproc-fw.elf\n', // detached: `unknown` only while attached
      'ok',
      'attached\n',
      'unknown\n',
      'ESRCH', // a dead process stays dead
    ]);
  }, 180_000);

  it('should find no difference between the twin and the kernel on the same document', async () => {
    const t = io({ 'd.json': DOC });
    const code = await labCommand(['diff', '--kernel', kernel, 'd.json'], t.io);
    expect(t.out.stdout).toMatch(
      /1 documents × 1 kernels, 20 operations compared: 0 differ, 0 did not run, 0 skipped, 0 at a tie/,
    );
    expect(code).toBe(0);
  }, 180_000);
});

// The Oops hazard's lab cases (lab/cases/, docs/abi.md). `lab diff` runs them only when named: the
// stale stop ends the VM on 7.3 kernels, so it is no part of the conformance documents.
describe.skipIf(why !== undefined && !process.env.CI).each(kernels.length ? kernels : ['none'])(
  'the Oops hazard on kernel %s',
  (version) => {
    it('should Oops where the twin says (7.3), refuse with EINVAL before, and close safely after clearing the flag', async () => {
      const files = ['lab/cases/oops-stale-stop.json', 'lab/cases/oops-safe-close.json'];
      const t = io(Object.fromEntries(files.map((f) => [f, readFileSync(f, 'utf8')])));
      const code = await labCommand(['diff', '--kernel', version, ...files], t.io);
      const oops = parseKernel(version) === '7.3';
      expect(t.out.stdout).toContain(
        oops
          ? `lab/cases/oops-stale-stop.json: ${version}: kernel Oops at op 6, as the twin predicts`
          : '2 documents × 1 kernels, 17 operations compared: 0 differ',
      );
      expect(t.out.stdout).toMatch(/0 differ, 0 did not run/);
      expect(code).toBe(0);
    }, 300_000);
  },
);
