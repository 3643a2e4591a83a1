// Hotplug and hold's clean release, as real processes: a daemon on the mounted twin sees processors added and removed at run time; a daemon on an empty class directory waits; hold releases when CMD exits.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import type { PushedEvent } from '../actors/daemon/protocol.js';
import { bin, simDaemonArgs } from './bin.js';
import { firstProcessor, okReply } from './okReply.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { cdevDriverArgs, spawnTwin, type TwinProcess } from './twinProcess.js';
import { until as waitUntil } from './wait.js';

warnIfSkipped('test/hotplugProcess.test.ts (its mounted-twin part)');

const children: ChildProcess[] = [];
const twins: TwinProcess[] = [];
const clients: DaemonClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const t of twins.splice(0)) await t.stop();
});
const until = (cond: () => Promise<boolean> | boolean, ms = 15_000) => waitUntil(cond, ms, 20);

/** `rproc-supervisor daemon args…`, its stderr kept; resolves once its socket exists. */
async function daemon(args: string[], socket: string) {
  const d = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(d);
  let stderr = '';
  d.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  await until(() => existsSync(socket) || d.exitCode !== null);
  return { d, stderr: () => stderr };
}

/** `rproc-supervisor twin ARGS…` as its own process: [status, stdout, stderr]. */
function twinCli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'twin', ...args], { encoding: 'utf8' });
  return [r.status, r.stdout, r.stderr];
}

async function connect(socket: string) {
  const c = await DaemonClient.connect(socket);
  clients.push(c);
  return c;
}

async function status(socket: string) {
  const c = await DaemonClient.connect(socket);
  const r = okReply(await c.request({ op: 'status' }));
  c.close();
  return r.status;
}

describe.skipIf(cannotMount !== null)(
  'a daemon on the mounted twin follows processors added and removed at run time',
  { timeout: 60_000 },
  () => {
    it('acquire --probe-timeout waits for an added processor; removal loses the lease (processor-removed); the name is re-resolved', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rproc-hotplug-'));
      const twinSocket = join(dir, 'twin.sock');
      const t = await spawnTwin([{ name: 'm4', bootMs: 20, stopMs: 10 }], {
        extraArgs: ['--socket', twinSocket],
      });
      twins.push(t);
      const socket = join(dir, 'd.sock');
      const args = ['daemon', ...cdevDriverArgs(t), '--socket', socket, '--poll-ms', '10'];
      const { stderr } = await daemon([...args, '--rescan-ms', '50', '--probe-timeout', '20000'], socket);
      expect((await status(socket)).hotplug).toEqual({ source: 'rescan', waiting: false });
      const twin = await connect(twinSocket);

      // An acquire of a processor that is not there waits for it.
      const a = await connect(socket);
      const events: PushedEvent[] = [];
      a.on('event', (e: PushedEvent) => events.push(e));
      const acquired = a.request({ op: 'acquire', processor: 'dsp', client: 'audio' });
      await new Promise((r) => setTimeout(r, 200));
      const added = okReply(await twin.request({ op: 'add-processor', name: 'dsp', bootMs: 20, stopMs: 10 }));
      expect(added.processor).toEqual({ device: 'remoteproc1', name: 'dsp' });
      const lease = okReply(await acquired);
      expect(lease.processor).toEqual({ device: 'remoteproc1', name: 'dsp' });
      const s = await status(socket);
      expect(s.processors.map((p) => `${p.device}:${p.name}:${p.state}`)).toEqual([
        'remoteproc0:m4:offline',
        'remoteproc1:dsp:running',
      ]);
      expect(readdirSync(t.devRoot).sort()).toEqual(['remoteproc0', 'remoteproc1']);

      // The driver unbinds it: the lease is lost, and the daemon holds its device no more.
      // Through the CLI: `twin remove` on the twin's socket.
      expect(twinCli(['remove', 'dsp', '--socket', twinSocket])).toEqual([
        0,
        'remoteproc1 dsp: removed\n',
        '',
      ]);
      await until(() => events.some((e) => e.event === 'lease.lost'));
      expect(events.find((e) => e.event === 'lease.lost')).toEqual({
        v: 1,
        event: 'lease.lost',
        lease: lease.lease,
        processor: 'remoteproc1',
        reason: 'processor-removed',
      });
      await until(async () => (await status(socket)).processors.length === 1);
      // 5.19: devtmpfs removed the node; the class directory is gone.
      expect(readdirSync(t.devRoot)).toEqual(['remoteproc0']);
      expect(readdirSync(t.sysfsRoot)).toEqual(['remoteproc0']);
      const twinStatus = okReply(await twin.request({ op: 'status' })).status;
      expect(twinStatus.processors.map((p) => p.device)).toEqual(['remoteproc0']);

      // The same name on a new number: a lease by name works.
      expect(twinCli(['add', 'dsp', '--boot-ms', '20', '--socket', twinSocket, '--json'])).toEqual([
        0,
        '{"processor":{"device":"remoteproc2","name":"dsp"}}\n',
        '',
      ]);
      expect(twinCli(['remove', 'gpu', '--socket', twinSocket])[0]).toBe(1);
      const again = okReply(await a.request({ op: 'acquire', processor: 'dsp' }));
      expect(again.processor).toEqual({ device: 'remoteproc2', name: 'dsp' });
      expect(stderr()).toMatch(/processor added .*processor=remoteproc1/);
      expect(stderr()).toMatch(/processor removed .*processor=remoteproc1/);
    });

    it('without --probe-timeout an unknown processor is ENODEV at once', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rproc-hotplug-'));
      const t = await spawnTwin([{ name: 'm4' }]);
      twins.push(t);
      const socket = join(dir, 'd.sock');
      await daemon(['daemon', ...cdevDriverArgs(t), '--socket', socket, '--rescan-ms', '50'], socket);
      const c = await connect(socket);
      const r = await c.request({ op: 'acquire', processor: 'dsp' });
      expect(r.ok ? null : r.error.code).toBe('ENODEV');
    });
  },
);

describe('a daemon with a real driver and no processor waits for hotplug', { timeout: 30_000 }, () => {
  it('starts, says so in the log and in status, and supervises a processor once it appears', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-hotplug-'));
    const root = join(dir, 'class');
    mkdirSync(root);
    const socket = join(dir, 'd.sock');
    const { stderr } = await daemon(
      [
        'daemon',
        '--driver',
        'sysfs',
        '--strategy',
        'sysfs-monitor',
        '--sysfs-root',
        root,
        '--socket',
        socket,
        '--rescan-ms',
        '50',
      ],
      socket,
    );
    await until(() => /ready/.test(stderr()));
    expect(stderr()).toMatch(/warn: no processor under .* yet: waiting for hotplug \(a rescan every 50 ms\)/);
    expect(stderr()).not.toMatch(/no hotplug yet/);
    expect((await status(socket)).hotplug).toEqual({ source: 'rescan', waiting: true });
    // A processor's directory appears (as a plain directory: the sysfs driver reads its files).
    mkdirSync(join(root, 'remoteproc0'));
    writeFileSync(join(root, 'remoteproc0', 'state'), 'offline\n');
    writeFileSync(join(root, 'remoteproc0', 'name'), 'm4\n');
    await until(async () => (await status(socket)).processors.length === 1);
    const s = await status(socket);
    expect(s.hotplug).toEqual({ source: 'rescan', waiting: false });
    expect(s.processors[0]).toMatchObject({ device: 'remoteproc0', name: 'm4' });
  });
});

describe('hold releases its lease when CMD exits', { timeout: 30_000 }, () => {
  /** A sim daemon whose m4 is kept 5 s after its last holder's death (offGraceMs). */
  async function graceDaemon() {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-holdrelease-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ processors: { m4: { offGraceMs: 5000 } } }));
    const { socket, args } = simDaemonArgs(dir, ['--config', join(dir, 'c.json')]);
    await daemon(args, socket);
    return socket;
  }
  function hold(socket: string, script: string) {
    const h = spawn(process.execPath, [bin, 'hold', 'm4', '--socket', socket, '--', 'sh', '-c', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(h);
    return new Promise<number | null>((r) => h.once('exit', (c) => r(c)));
  }

  it('CMD exits (status 0 or not): a clean release, the processor stops at once, not after offGraceMs', async () => {
    const socket = await graceDaemon();
    for (const code of [0, 3]) {
      expect(await hold(socket, `sleep 0.2; exit ${code}`)).toBe(code);
      const t0 = Date.now();
      await until(async () => (await firstProcessor(socket))?.state === 'offline', 4000);
      expect(Date.now() - t0).toBeLessThan(4000);
    }
  });

  it('CMD killed by a signal: no release, the daemon keeps the processor for offGraceMs', async () => {
    const socket = await graceDaemon();
    expect(await hold(socket, 'sleep 0.2; kill -9 $$')).toBe(137);
    await new Promise((r) => setTimeout(r, 1000));
    const p = await firstProcessor(socket);
    expect([p?.state, p?.leases.length]).toEqual(['running', 0]);
  });
});
