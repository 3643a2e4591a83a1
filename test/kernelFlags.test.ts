// `--kernel` takes a profile or a release string in every command (one parser: machines/profile.ts), and the daemon's choice.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonKernel } from '../cli/daemon.js';
import { kernelFlag } from '../machines/profile.js';
import { bin, simDaemonArgs } from './bin.js';
import { runCli } from './cliHarness.js';
import { until } from './wait.js';

describe('kernelFlag', () => {
  it('should take profiles as they are, map release strings, and name the accepted values otherwise', () => {
    expect(kernelFlag(undefined)).toEqual({ ok: true, value: '5.19' });
    expect(kernelFlag(undefined, '7.3')).toEqual({ ok: true, value: '7.3' });
    expect(kernelFlag('5.13')).toEqual({ ok: true, value: '5.13' });
    expect(kernelFlag('6.12.117-amd64')).toEqual({ ok: true, value: '7.3' });
    expect(kernelFlag('5.15.0-105-generic')).toEqual({ ok: true, value: '5.13' });
    const bad = kernelFlag('4.19.0');
    expect(bad).toMatchObject({ ok: false, error: { code: 'EINVAL', op: '--kernel' } });
    expect(bad.ok || bad.error.detail).toMatch(
      /--kernel 4\.19\.0: expected one of 5\.9, 5\.13, 5\.19, 7\.3 or a release/,
    );
  });
});

describe('the daemon’s kernel profile', () => {
  it('should follow --kernel, else uname -r with a real driver, else the default', () => {
    expect(daemonKernel('6.1.192', 'cdev', '6.1.187')).toEqual({ profile: '7.3', from: '--kernel 6.1.192' });
    expect(daemonKernel(undefined, 'cdev', '6.1.187-amd64')).toEqual({
      profile: '5.19',
      from: 'uname -r 6.1.187-amd64',
    });
    expect(daemonKernel(undefined, 'sysfs', '6.12.117-amd64').profile).toBe('7.3');
    expect(daemonKernel(undefined, 'sim', '6.12.117-amd64').profile).toBe('5.19');
    expect(daemonKernel(undefined, 'cdev', '4.19.0')).toEqual({
      profile: '5.19',
      from: 'the default (uname -r 4.19.0 maps to no profile)',
    });
  });

  it('should log the profile it runs as, and refuse a release it cannot map with exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-kflag-'));
    const { args } = simDaemonArgs(dir, ['--kernel', '6.1.192', '--log-json']);
    const d = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    d.stderr.on('data', (c) => {
      err += c;
    });
    const exited = new Promise<number | null>((r) => d.on('exit', r));
    // Its SIGTERM handler is in place once it is ready (a loaded machine takes seconds to get there).
    await until(() => err.includes('"ready"'), 60_000, 25);
    d.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = err
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'kernel profile 7.3', profile: '7.3', from: '--kernel 6.1.192' }),
    );
    const bad = runCli(['daemon', '--driver', 'sim', '--kernel', '4.19.0']);
    expect(await bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kernel 4\.19\.0: expected one of/);
  }, 90_000);
});

describe('release strings in explore, kernel run and twin', () => {
  it('should explore on the profile a release maps to', () => {
    const r = runCli([
      'explore',
      '--strategy',
      'cdev',
      '--depth',
      '2',
      '--kernel',
      '6.12.117-amd64',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0].system.kernel).toBe('7.3');
    const old = runCli(['explore', '--strategy', 'cdev', '--depth', '2', '--kernel', '5.15.0-105-generic']);
    expect(old.stdout).toMatch(/^cdev \(kernel 5\.13,/);
    expect(runCli(['explore', '--kernel', '4.19.0']).stderr).toMatch(/or a release like 6\.1\.192/);
  });

  it('should run a document as the released kernel behaves: a crashed stop is accepted from 6.1.188', async () => {
    const doc = JSON.stringify({
      processors: [{ name: 'm4', recovery: 'disabled' }],
      ops: [
        { op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'start' },
        { op: 'crash', rproc: 'm4' },
        { op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'stop' },
      ],
    });
    const last = async (kernel: string) => {
      const r = runCli(['kernel', 'run', '--json', '--kernel', kernel, 'd.json'], { 'd.json': doc });
      await r.code;
      return JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
    };
    expect(await last('6.1.187')).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect(await last('6.1.192')).toMatchObject({ ok: true });
  });

  it('should refuse a twin release it cannot map with exit 2', async () => {
    const bad = runCli(['twin', '--mount', '/tmp/x', '--kernel', '5.8.1']);
    expect(await bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kernel 5\.8\.1: expected one of .* or a release like 6\.1\.192/);
  });
});

describe('built-in scenarios', () => {
  it('should each state the kernel profile they run on', () => {
    const dir = join(import.meta.dirname, '..', 'scenarios', 'builtin');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const s = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { kernel?: string };
      expect([f, s.kernel]).toEqual([f, expect.stringMatching(/^(5\.9|5\.13|5\.19|7\.3)$/)]);
    }
  });
});
