// `daemon` without --driver, as a process: cdev where the device exists, never a silent simulator; waiting for processors.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { bin } from './bin.js';
import { okReply } from './okReply.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { spawnTwin, type TwinProcess } from './twinProcess.js';
import { until } from './wait.js';

warnIfSkipped('test/daemonDriver.test.ts (its mounted-twin part)');

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

/** Spawns `daemon args…` with its stderr kept; resolves once its socket exists. */
async function daemon(args: string[], socket: string) {
  const d = spawn(process.execPath, [bin, 'daemon', '--socket', socket, '--poll-ms', '20', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  d.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise((r) => d.once('exit', r));
  stops.push(async () => {
    d.kill('SIGTERM');
    await exited;
  });
  await until(() => existsSync(socket), 15_000);
  return { d, stderr: () => err };
}

describe('daemon without --driver', () => {
  it('should exit 69 naming --driver sim where there is no DEV-ROOT/remoteproc0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-nodrv-'));
    const r = spawnSync(
      process.execPath,
      [bin, 'daemon', '--dev-root', dir, '--socket', join(dir, 'd.sock')],
      { encoding: 'utf8', timeout: 15_000 },
    );
    expect(r.status).toBe(69);
    expect(r.stderr).toContain(`no ${join(dir, 'remoteproc0')}`);
    expect(r.stderr).toContain('--driver sim');
    expect(existsSync(join(dir, 'd.sock'))).toBe(false);
  });

  it('should start with a real driver and no processor, say it waits for hotplug, and refuse acquires with ENODEV', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-empty-'));
    mkdirSync(join(dir, 'class'));
    const socket = join(dir, 'd.sock');
    const d = await daemon(
      ['--driver', 'cdev', '--dev-root', dir, '--sysfs-root', join(dir, 'class')],
      socket,
    );
    await until(() => d.stderr().includes('waiting for hotplug'), 10_000);
    // Not the kernel's sysfs: no uevents, a rescan (default 1000 ms).
    expect(d.stderr()).toContain(
      `warn: no processor under ${join(dir, 'class')} yet: waiting for hotplug (a rescan every 1000 ms) hotplug=rescan`,
    );
    const c = await DaemonClient.connect(socket);
    expect(okReply(await c.request({ op: 'status' })).status.processors).toEqual([]);
    expect(await c.request({ op: 'acquire', processor: 'm4' })).toMatchObject({
      ok: false,
      error: { code: 'ENODEV' },
    });
    c.close();
  });
});

describe.skipIf(cannotMount)('daemon without --driver on the mounted twin', () => {
  it('should pick cdev when DEV-ROOT/remoteproc0 exists', async () => {
    const t: TwinProcess = await spawnTwin([{ name: 'm4', bootMs: 20, stopMs: 5 }]);
    stops.push(() => t.stop());
    const socket = join(t.dir, 'd.sock');
    const d = await daemon(['--dev-root', t.devRoot, '--sysfs-root', t.sysfsRoot], socket);
    await until(() => d.stderr().includes('ready'), 10_000);
    expect(d.stderr()).toMatch(/info: ready strategy=hybrid driver=cdev processors=\["remoteproc0:m4"\]/);
  });

  it('should stop cleanly on a SIGTERM sent as soon as it says it listens (with --inspect)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-term-'));
    const socket = join(dir, 'd.sock');
    const d = spawn(process.execPath, [bin, 'daemon', '--driver', 'sim', '--socket', socket, '--inspect'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    let sent = false;
    const exited = new Promise<[number | null, string | null]>((r) =>
      d.once('exit', (code, signal) => r([code, signal])),
    );
    d.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      if (!sent && err.includes('listening')) {
        sent = true;
        d.kill('SIGTERM');
      }
    });
    // Killed by the signal's default action, it would end with signal SIGTERM and no code.
    expect(await exited).toEqual([0, null]);
    expect(err).toContain('stopped');
  });
});
