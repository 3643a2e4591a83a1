// Two-phase stop, crash limit and processor-stopped as real processes: the daemon on the sim driver and on the mounted twin.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import type { PushedEvent } from '../actors/daemon/protocol.js';
import { spawnDaemon } from './daemonSpawn.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { cdevDriverArgs, spawnTwin, type TwinProcess } from './twinProcess.js';
import { until as waitUntil } from './wait.js';

warnIfSkipped('test/daemonStopEscalation.test.ts (its mounted-twin part)');

const children: ChildProcess[] = [];
const twins: TwinProcess[] = [];
const clients: DaemonClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const t of twins.splice(0)) await t.stop();
});
const until = (cond: () => Promise<boolean> | boolean, ms = 20_000) => waitUntil(cond, ms, 20);

/** A config file of per-processor settings for m4. */
function config(m4: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'stop12-cfg-')), 'c.json');
  writeFileSync(file, JSON.stringify({ processors: { m4 } }));
  return file;
}

/** A client on `socket` that records every pushed event. */
async function client(socket: string): Promise<{ c: DaemonClient; events: PushedEvent[] }> {
  const c = await DaemonClient.connect(socket);
  clients.push(c);
  const events: PushedEvent[] = [];
  c.on('event', (e: PushedEvent) => events.push(e));
  return { c, events };
}

const m4 = [{ name: 'm4', bootMs: 40, stopMs: 40, recovery: 'enabled' }];
const limit = (action: string) => ({ crashLimit: { intensity: 1, periodMs: 60_000, action } });

describe('two-phase stop, as processes (sim driver)', () => {
  it('announces the last release stop to a subscriber and stops once it acks, before stopAckTimeoutMs', async () => {
    const { socket, status } = await spawnDaemon(children, m4, [
      '--config',
      config({ stopAckTimeoutMs: 15_000 }),
    ]);
    const watcher = await client(socket);
    expect((await watcher.c.request({ op: 'subscribe' })).ok).toBe(true);
    const holder = await client(socket);
    const got = await holder.c.request({ op: 'acquire', processor: 'm4' });
    if (!got.ok) throw new Error(got.error.message);
    await holder.c.request({ op: 'release', lease: got.lease });
    await until(() => watcher.events.some((e) => e.event === 'processor.stopping'));
    const stopping = watcher.events.find((e) => e.event === 'processor.stopping');
    expect(stopping).toMatchObject({ processor: 'remoteproc0', name: 'm4', reason: 'last-release' });
    expect((stopping as { deadlineMs: number }).deadlineMs).toBeGreaterThan(Date.now() + 5_000);
    // Waiting: still running.
    await new Promise((r) => setTimeout(r, 200));
    expect((await status())?.state).toBe('running');
    const acked = Date.now();
    expect(await watcher.c.request({ op: 'ack', processor: 'm4' })).toMatchObject({
      ok: true,
      pending: true,
    });
    await until(async () => (await status())?.state === 'offline');
    expect(Date.now() - acked).toBeLessThan(10_000);
    // A second ack has nothing pending.
    expect(await watcher.c.request({ op: 'ack', processor: 'm4' })).toMatchObject({
      ok: true,
      pending: false,
    });
  }, 60_000);

  it('goes ahead after stopAckTimeoutMs when nobody acks, and a new acquire in the wait cancels the stop', async () => {
    const { socket, status, stderr } = await spawnDaemon(children, m4, [
      '--config',
      config({ stopAckTimeoutMs: 1500 }),
    ]);
    const watcher = await client(socket);
    await watcher.c.request({ op: 'subscribe' });
    const holder = await client(socket);
    const a = await holder.c.request({ op: 'acquire', processor: 'm4' });
    if (!a.ok) throw new Error(a.error.message);
    await holder.c.request({ op: 'release', lease: a.lease });
    await until(() => watcher.events.some((e) => e.event === 'processor.stopping'));
    const b = await holder.c.request({ op: 'acquire', processor: 'm4' });
    expect(b.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await status())?.state).toBe('running');
    expect(stderr().match(/info: start /g)).toHaveLength(1);
    if (!b.ok) return;
    const released = Date.now();
    await holder.c.request({ op: 'release', lease: b.lease });
    await until(async () => (await status())?.state === 'offline');
    expect(Date.now() - released).toBeGreaterThanOrEqual(1400);
  }, 60_000);

  it('on SIGTERM, tells a holder (reason shutdown), waits for its ack, then stops and exits 0', async () => {
    const { socket, d } = await spawnDaemon(children, m4, ['--config', config({ stopAckTimeoutMs: 15_000 })]);
    const holder = await client(socket);
    const got = await holder.c.request({ op: 'acquire', processor: 'm4' });
    expect(got.ok).toBe(true);
    const exit = new Promise<number | null>((r) => d.once('exit', (code) => r(code)));
    const sent = Date.now();
    d.kill('SIGTERM');
    await until(() => holder.events.some((e) => e.event === 'processor.stopping'));
    expect(holder.events.find((e) => e.event === 'processor.stopping')).toMatchObject({
      lease: got.ok ? got.lease : '',
      reason: 'shutdown',
    });
    expect(await holder.c.request({ op: 'ack', processor: 'remoteproc0' })).toMatchObject({ pending: true });
    expect(await exit).toBe(0);
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(holder.events.some((e) => e.event === 'lease.lost' && e.reason === 'daemon-gone')).toBe(true);
  }, 60_000);
});

describe('crash limit, as processes (sim driver)', () => {
  it('stop: past the limit the holder is told processor.failed and lease.lost processor-failed; m4 stops, status says failed, acquire is EIO', async () => {
    const { socket, status } = await spawnDaemon(children, m4, ['--config', config(limit('stop'))]);
    const holder = await client(socket);
    expect((await holder.c.request({ op: 'acquire', processor: 'm4' })).ok).toBe(true);
    for (let i = 1; i <= 2; i++) {
      await holder.c.request({ op: 'crash', processor: 'm4' });
      await until(() => holder.events.filter((e) => e.event === 'processor.crashed').length >= i);
      // A crash while a recovery runs (offline midway) is ignored by the kernel: wait for the recovery.
      if (i === 1) await until(() => holder.events.some((e) => e.event === 'processor.recovered'));
    }
    await until(() => holder.events.some((e) => e.event === 'lease.lost'));
    expect(holder.events.find((e) => e.event === 'processor.failed')).toMatchObject({
      reason: 'crash-limit',
      action: 'stop',
    });
    expect(holder.events.find((e) => e.event === 'lease.lost')).toMatchObject({ reason: 'processor-failed' });
    await until(async () => (await status())?.state === 'offline');
    expect((await status())?.failed).toBe(true);
    const again = await holder.c.request({ op: 'acquire', processor: 'm4' });
    expect(again).toMatchObject({ ok: false, error: { code: 'EIO' } });
  }, 60_000);

  it('exit: past the limit the daemon shuts down and exits 70', async () => {
    const { socket, d } = await spawnDaemon(children, m4, ['--config', config(limit('exit'))]);
    const exit = new Promise<number | null>((r) => d.once('exit', (code) => r(code)));
    const holder = await client(socket);
    expect((await holder.c.request({ op: 'acquire', processor: 'm4' })).ok).toBe(true);
    await holder.c.request({ op: 'crash', processor: 'm4' });
    await until(() => holder.events.some((e) => e.event === 'processor.recovered'));
    await holder.c.request({ op: 'crash', processor: 'm4' }).catch(() => null);
    expect(await exit).toBe(70);
    expect(holder.events.some((e) => e.event === 'lease.lost' && e.reason === 'processor-failed')).toBe(true);
  }, 60_000);

  it('refuses a malformed crashLimit by JSON path, exit 2', async () => {
    const { spawnSync } = await import('node:child_process');
    const { bin } = await import('./bin.js');
    const cfg = config({ crashLimit: { intensity: 1, periodMs: 0, action: 'reboot' }, stopAckTimeoutMs: -1 });
    const r = spawnSync(
      process.execPath,
      [bin, 'daemon', '--driver', 'sim', '--config', cfg, '--socket', `${cfg}.s`],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/processors\.m4\.crashLimit\.periodMs/);
    expect(r.stderr).toMatch(/processors\.m4\.crashLimit\.action/);
    expect(r.stderr).toMatch(/processors\.m4\.stopAckTimeoutMs/);
  });
});

describe.skipIf(cannotMount)('on the mounted twin (cdev driver)', () => {
  const twinM4 = [{ name: 'm4', bootMs: 40, stopMs: 40 }];

  it('processor-stopped: someone else writes stop; the holder is told lease.lost processor-stopped', async () => {
    const t = await spawnTwin(twinM4, { kernel: '5.19' });
    twins.push(t);
    const { socket, status, stderr } = await spawnDaemon(children, [], [], cdevDriverArgs(t));
    const holder = await client(socket);
    expect((await holder.c.request({ op: 'acquire', processor: 'm4' })).ok).toBe(true);
    writeFileSync(join(t.sysfsRoot, 'remoteproc0', 'state'), 'stop\n');
    await until(() => holder.events.some((e) => e.event === 'lease.lost'));
    expect(holder.events.find((e) => e.event === 'lease.lost')).toMatchObject({
      reason: 'processor-stopped',
    });
    expect(stderr()).toMatch(/stopped by someone else/);
    await until(async () => (await status())?.leases.length === 0);
    // Not started again behind the clients' backs.
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileSync(join(t.sysfsRoot, 'remoteproc0', 'state'), 'utf8')).toBe('offline\n');
  }, 60_000);

  it('a crash recovered (crashed, offline midway, running) is no processor-stopped', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'stop12-twin-')), 't.sock');
    const t = await spawnTwin([{ name: 'm4', bootMs: 300, stopMs: 100 }], {
      kernel: '5.19',
      extraArgs: ['--socket', sock],
    });
    twins.push(t);
    const { socket, status } = await spawnDaemon(children, [], [], cdevDriverArgs(t));
    const holder = await client(socket);
    expect((await holder.c.request({ op: 'acquire', processor: 'm4' })).ok).toBe(true);
    const twin = await DaemonClient.connect(sock);
    clients.push(twin);
    expect((await twin.request({ op: 'crash', processor: 'm4' })).ok).toBe(true);
    await until(() => holder.events.some((e) => e.event === 'processor.recovered'));
    await new Promise((r) => setTimeout(r, 300));
    expect(holder.events.some((e) => e.event === 'lease.lost')).toBe(false);
    expect((await status())?.leases.length).toBe(1);
  }, 60_000);

  it('disable-recovery: past the limit recovery reads disabled, the lease is lost (processor-failed), status failed', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'stop12-twin-')), 't.sock');
    const t = await spawnTwin([{ name: 'm4', bootMs: 40, stopMs: 40, recovery: 'enabled' }], {
      kernel: '5.19',
      extraArgs: ['--socket', sock],
    });
    twins.push(t);
    const { socket, status } = await spawnDaemon(
      children,
      [],
      ['--config', config(limit('disable-recovery'))],
      cdevDriverArgs(t),
    );
    const holder = await client(socket);
    expect((await holder.c.request({ op: 'acquire', processor: 'm4' })).ok).toBe(true);
    const twin = await DaemonClient.connect(sock);
    clients.push(twin);
    await twin.request({ op: 'crash', processor: 'm4' });
    await until(() => holder.events.some((e) => e.event === 'processor.recovered'));
    await twin.request({ op: 'crash', processor: 'm4' });
    await until(() => holder.events.some((e) => e.event === 'lease.lost'));
    expect(holder.events.find((e) => e.event === 'lease.lost')).toMatchObject({ reason: 'processor-failed' });
    await until(() => readFileSync(join(t.sysfsRoot, 'remoteproc0', 'recovery'), 'utf8') === 'disabled\n');
    expect((await status())?.failed).toBe(true);
  }, 60_000);
});

describe('processor-stopped on the sim driver (createSupervisor, in process)', () => {
  it('ends the lease with processor-stopped when someone else stops the processor, under shared and exclusive', async () => {
    const { createSimDriver } = await import('../actors/drivers/simDriver.js');
    const { createSupervisor } = await import('../supervisors/runtime/createSupervisor.js');
    for (const policy of ['shared', 'exclusive'] as const) {
      const sim = createSimDriver({ processors: [{ name: 'm4', bootMs: 20, stopMs: 10 }] });
      const sup = await createSupervisor({ driver: sim, pollMs: 10, settings: { defaults: { policy } } });
      const lease = await sup.acquire('m4');
      const lost = new Promise<string | undefined>((r) => lease.on('lost', (d) => r(d.reason)));
      sim.twin.sysfsWrite(0, 'state', 'stop\n');
      expect(await lost).toBe('processor-stopped');
      await new Promise((r) => setTimeout(r, 100));
      expect(sup.status().processors[0]?.state).toBe('offline');
      await sup.close();
    }
  });
});
