// The daemon's per-processor policies and --config/--policy as real processes, on the sim driver and the mounted twin.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { bin } from './bin.js';
import { spawnDaemon } from './daemonSpawn.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { spawnTwin, type TwinProcess } from './twinProcess.js';
import { until as waitUntil } from './wait.js';

warnIfSkipped('test/daemonPolicies.test.ts (its mounted-twin part)');

const children: ChildProcess[] = [];
const twins: TwinProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const t of twins.splice(0)) await t.stop();
});
// Generous: the process tests share a 2-core machine with other suites.
const until = (cond: () => Promise<boolean> | boolean, ms = 20_000) => waitUntil(cond, ms, 20);
const daemon = (processors: object[], extra: string[], driverArgs?: string[]) =>
  spawnDaemon(children, processors, extra, driverArgs);

const m4Auto = [{ name: 'm4', bootMs: 20, stopMs: 10, autoBoot: true }];

describe('daemon policies, as processes (sim driver)', () => {
  it('shared (default): leaves an auto-booted processor running, grants a lease without a reference on 5.13', async () => {
    const { status, hold } = await daemon(m4Auto, ['--kernel', '5.13']);
    await until(async () => (await status())?.state === 'running');
    expect((await status())?.policy).toBe('shared');
    const h = hold('sleep 0.3');
    await until(async () => (await status())?.leases.length === 1);
    expect((await status())?.leases[0]?.reference).toBe(false);
    expect(await h.exit).toBe(0);
    await until(async () => (await status())?.leases.length === 0);
    await new Promise((r) => setTimeout(r, 150));
    expect((await status())?.state).toBe('running');
  });

  it('exclusive (--policy m4=exclusive): stops the auto-booted processor nobody holds', async () => {
    const { status } = await daemon(m4Auto, ['--policy', 'm4=exclusive', '--kernel', '5.13']);
    await until(async () => (await status())?.state === 'offline');
    expect((await status())?.policy).toBe('exclusive');
  });

  it('observe (--config): refuses a lease with EPERM and never writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'core12-cfg-'));
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ processors: { m4: { policy: 'observe' } } }));
    const { status, hold } = await daemon(m4Auto, ['--config', cfg]);
    await until(async () => (await status())?.state === 'running');
    const h = hold('true');
    expect(await h.exit).toBe(1);
    expect(h.stderr()).toMatch(/EPERM/);
    expect((await status())?.policy).toBe('observe');
    expect((await status())?.state).toBe('running');
  });

  it('refuses a bad --config by JSON path and a bad --policy, exit 2, before serving', () => {
    const dir = mkdtempSync(join(tmpdir(), 'core12-bad-'));
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ processors: { m4: { policy: 'owner', firmware: '../x' } } }));
    const run = (...a: string[]) =>
      spawnSync(process.execPath, [bin, 'daemon', '--driver', 'sim', '--socket', join(dir, 's'), ...a], {
        encoding: 'utf8',
      });
    const bad = run('--config', cfg);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/processors\.m4\.policy: /);
    expect(bad.stderr).toMatch(/processors\.m4\.firmware: .*no "\/"/);
    const flag = run('--policy', 'm4');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/--policy "m4": expected NAME=POLICY/);
    expect(existsSync(join(dir, 's'))).toBe(false);
  });
});

describe('acquire means usable, as processes (sim driver)', () => {
  it('replies to acquire once the processor runs; a failed boot gets its errno with during:"boot" and CMD never runs', async () => {
    const { socket, status, dir } = await daemon(
      [
        { name: 'm4', bootMs: 300, stopMs: 10 },
        { name: 'dsp', firmwareMissing: true },
      ],
      [],
    );
    const c = await DaemonClient.connect(socket);
    const reply = await c.request({ op: 'acquire', processor: 'm4' });
    expect(reply.ok).toBe(true);
    // The reply came once m4 ran: the state read right after it says so.
    expect((await status())?.state).toBe('running');
    const failed = await c.request({ op: 'acquire', processor: 'dsp' });
    expect(failed).toMatchObject({ ok: false, error: { code: 'ENOENT', during: 'boot' } });
    c.close();
    const ran = join(dir, 'ran');
    const h = spawn(process.execPath, [bin, 'hold', 'dsp', '--socket', socket, '--', 'touch', ran], {
      stdio: 'ignore',
    });
    children.push(h);
    const code = await new Promise<number | null>((r) => h.once('exit', r));
    expect(code).not.toBe(0);
    expect(existsSync(ran)).toBe(false);
  });
});

describe('offGraceMs, as processes (sim driver)', () => {
  it('keeps the processor for a hold restarted within offGraceMs after a SIGKILL: no stop, no second start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'core12-grace-'));
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ processors: { m4: { offGraceMs: 15_000 } } }));
    const { socket, status, stderr } = await daemon(
      [{ name: 'm4', bootMs: 20, stopMs: 10 }],
      ['--config', cfg],
    );
    const started = join(dir, 'started');
    const holdGroup = () => {
      const h = spawn(
        process.execPath,
        [bin, 'hold', 'm4', '--socket', socket, '--', 'sh', '-c', `touch ${started}; sleep 30`],
        {
          stdio: 'ignore',
          detached: true,
        },
      );
      children.push(h);
      return h;
    };
    const a = holdGroup();
    await until(() => existsSync(started));
    process.kill(-(a.pid as number), 'SIGKILL');
    await until(async () => (await status())?.leases.length === 0);
    expect((await status())?.state).toBe('running');
    const { rmSync } = await import('node:fs');
    rmSync(started);
    const b = holdGroup();
    await until(() => existsSync(started));
    expect((await status())?.state).toBe('running');
    expect(stderr().match(/info: start /g)).toHaveLength(1);
    expect(stderr()).toMatch(/off-grace|keeping the processor for offGraceMs/);
    expect(stderr()).not.toMatch(/info: stop /);
    process.kill(-(b.pid as number), 'SIGKILL');
  }, 60_000);
});

describe.skipIf(cannotMount)('daemon policies on the mounted twin (cdev driver)', () => {
  it('shared: leaves an auto-booted processor running after a lease on it, and after the daemon exits', async () => {
    const t = await spawnTwin([{ name: 'm4', bootMs: 20, stopMs: 5, autoBoot: true }], { kernel: '5.19' });
    twins.push(t);
    const { d, status, hold } = await daemon(
      [],
      [],
      ['--driver', 'cdev', '--sysfs-root', t.sysfsRoot, '--dev-root', t.devRoot],
    );
    await until(async () => (await status())?.state === 'running');
    const h = hold('sleep 0.2');
    expect(await h.exit).toBe(0);
    await until(async () => (await status())?.leases.length === 0);
    d.kill('SIGTERM');
    await new Promise((r) => d.once('exit', r));
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(t.sysfsRoot, 'remoteproc0', 'state'), 'utf8')).toBe('running\n');
  });
});
