// `rproc-supervisor crash`, as real processes: a sim daemon's holders see the crash, a mounted twin crashes, a board's driver says ENOTSUP.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import type { PushedEvent } from '../actors/daemon/protocol.js';
import { bin, simDaemonArgs } from './bin.js';
import { okReply } from './okReply.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { cdevDriverArgs, spawnTwin, type TwinProcess } from './twinProcess.js';
import { until } from './wait.js';

warnIfSkipped('test/crashCli.test.ts (its mounted-twin part)');

const children: ChildProcess[] = [];
const twins: TwinProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const t of twins.splice(0)) await t.stop();
});

/** Runs `crash argv…` as its own process (asynchronously: the daemon may live in this process's children). */
function crash(argv: string[]) {
  const c = spawn(process.execPath, [bin, 'crash', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  c.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  c.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((r) =>
    c.once('exit', (status) => r({ status, stdout, stderr })),
  );
}

async function daemon(args: string[], socket: string) {
  const d = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
  children.push(d);
  await until(() => existsSync(socket), 30_000);
}

describe('crash', { timeout: 40_000 }, () => {
  it('should crash a processor of a sim daemon: its holder is told, status counts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-crash-'));
    const { socket, args } = simDaemonArgs(dir);
    await daemon(args, socket);
    const c = await DaemonClient.connect(socket);
    const events: PushedEvent[] = [];
    c.on('event', (e: PushedEvent) => events.push(e));
    const lease = okReply(await c.request({ op: 'acquire', processor: 'm4' }));
    const running = async () => okReply(await c.request({ op: 'status' })).status.processors[0];
    await until(async () => (await running())?.state === 'running', 10_000);
    const r = await crash(['m4', '--reason', 'watchdog', '--socket', socket, '--json']);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toEqual({
      processor: { device: 'remoteproc0', name: 'm4' },
      reason: 'watchdog',
    });
    await until(() => events.some((e) => e.event === 'processor.crashed'), 10_000);
    expect(events).toContainEqual({
      v: 1,
      event: 'processor.crashed',
      lease: lease.lease,
      processor: 'remoteproc0',
    });
    await until(async () => (await running())?.crashes === 1, 10_000);
    c.close();
  });

  it('should refuse an unknown processor (ENODEV, exit 1) and a bad --reason (exit 2), and answer --help', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-crash-'));
    const { socket, args } = simDaemonArgs(dir);
    await daemon(args, socket);
    const r = await crash(['gpu', '--socket', socket]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^rproc-supervisor crash: gpu: ENODEV: /);
    const bad = await crash(['m4', '--reason', 'boom', '--socket', socket]);
    expect(bad.status).toBe(2);
    const help = spawnSync(process.execPath, [bin, 'crash', '--help'], { encoding: 'utf8' });
    expect([help.status, help.stdout.split('\n')[0]]).toEqual([
      0,
      'Usage: rproc-supervisor crash <processor> [--reason R] [--socket PATH] [--json]',
    ]);
  });
});

describe.skipIf(cannotMount)('crash on the mounted twin', { timeout: 90_000 }, () => {
  it("should crash the twin's processor through its --socket, and get ENOTSUP from a cdev daemon on it", async () => {
    const twinSocket = join(mkdtempSync(join(tmpdir(), 'rproc-crashtwin-')), 't.sock');
    // A recovery as long as a boot (300 ms): many of the daemon's polls (10 ms) see it crashed.
    const t = await spawnTwin([{ name: 'm4', bootMs: 300, stopMs: 5 }], {
      extraArgs: ['--socket', twinSocket],
    });
    twins.push(t);
    const socket = join(t.dir, 'd.sock');
    await daemon(['daemon', ...cdevDriverArgs(t), '--socket', socket, '--poll-ms', '10'], socket);
    const refused = await crash(['m4', '--socket', socket]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /^rproc-supervisor crash: m4: ENOTSUP: .*cdev driver cannot inject a crash/,
    );
    // Through the twin itself: boot m4 (a lease on the daemon), crash it; the twin counts it.
    const c = await DaemonClient.connect(socket);
    okReply(await c.request({ op: 'acquire', processor: 'm4' }));
    const status = async () => okReply(await c.request({ op: 'status' })).status.processors[0];
    await until(async () => (await status())?.state === 'running', 10_000);
    const r = await crash(['m4', '--reason', 'mmufault', '--socket', twinSocket]);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'remoteproc0 m4: crash injected (mmufault)\n', '']);
    const twinStatus = spawnSync(process.execPath, [bin, 'status', '--socket', twinSocket], {
      encoding: 'utf8',
    });
    expect(twinStatus.stdout).toMatch(/crashes 1/);
    c.close();
  });
});
