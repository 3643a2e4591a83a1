// The lease daemon in-process on the sim driver: leases follow connections, crashes are pushed,
// malformed frames close only their own connection, allow-lists and ownership are enforced.

import { mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import { createSupervisor, type Supervisor } from '../supervisors/runtime/createSupervisor.js';
import { type Daemon, startDaemon } from '../supervisors/runtime/startDaemon.js';
import { okReply } from './okReply.js';
import { until as waitUntil } from './wait.js';

const until = (cond: () => Promise<boolean> | boolean, ms = 3000) => waitUntil(cond, ms, 5);

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(over: { allowUids?: number[] } = {}) {
  const driver = createSimDriver({ processors: [{ name: 'm4', bootMs: 5, stopMs: 40 }] });
  const supervisor: Supervisor = await createSupervisor({ driver, pollMs: 5, graceMs: 10 });
  const socketPath = join(mkdtempSync(join(tmpdir(), 'rproc-daemon-')), 'd.sock');
  const daemon: Daemon = await startDaemon({ supervisor, socketPath, ...over });
  cleanup.push(async () => {
    await daemon.close();
    await supervisor.close();
  });
  const state = () => driver.twin.inspect(0).state;
  return { driver, supervisor, socketPath, state };
}

describe('daemon', () => {
  it('should hold the processor while the connection lives and stop it on EOF', async () => {
    const { socketPath, state } = await setup();
    const c = await DaemonClient.connect(socketPath);
    const r = await c.request({ op: 'acquire', processor: 'm4', client: 'audio' });
    expect(r).toMatchObject({
      ok: true,
      lease: expect.any(String),
      processor: { device: 'remoteproc0', name: 'm4' },
    });
    await until(() => state() === 'running');
    c.socket.destroy(); // as on any death of the holder
    await until(() => state() === 'offline');
  });

  it('should stop only after both holders are gone, and push crashes to both', async () => {
    const { socketPath, state, driver } = await setup();
    const a = await DaemonClient.connect(socketPath);
    const b = await DaemonClient.connect(socketPath);
    await a.request({ op: 'acquire', processor: 'm4', client: 'a' });
    await b.request({ op: 'acquire', processor: 'remoteproc0', client: 'b' });
    await until(() => state() === 'running');
    const seen: string[] = [];
    a.on('event', (e) => seen.push(`a:${e.event}`));
    b.on('event', (e) => seen.push(`b:${e.event}`));
    driver.twin.crash(0, 'watchdog');
    await until(() => seen.filter((s) => s.endsWith('processor.crashed')).length === 2);
    a.close();
    await new Promise((r) => setTimeout(r, 80));
    expect(state()).toBe('running');
    b.close();
    await until(() => state() === 'offline');
  });

  it('should record the peer’s pid from SO_PEERCRED and show it in status', async () => {
    const { socketPath } = await setup();
    const c = await DaemonClient.connect(socketPath);
    await c.request({ op: 'acquire', processor: 'm4', client: 'audio' });
    const s = okReply(await c.request({ op: 'status' }));
    const leases = s.status.processors[0]?.leases;
    expect(leases).toEqual([expect.objectContaining({ client: 'audio', pid: process.pid })]);
    c.close();
  });

  it('should let a client release only its own leases', async () => {
    const { socketPath } = await setup();
    const a = await DaemonClient.connect(socketPath);
    const b = await DaemonClient.connect(socketPath);
    const r = okReply(await a.request({ op: 'acquire', processor: 'm4' }));
    expect(await b.request({ op: 'release', lease: r.lease })).toMatchObject({
      ok: false,
      error: { code: 'EPERM' },
    });
    expect(await a.request({ op: 'release', lease: r.lease })).toMatchObject({ ok: true });
    a.close();
    b.close();
  });

  it('should end a lease that asked for a TTL when pings stop', async () => {
    const { socketPath, state } = await setup();
    const c = await DaemonClient.connect(socketPath);
    const lost: unknown[] = [];
    c.on('event', (e) => e.event === 'lease.lost' && lost.push(e));
    await c.request({ op: 'acquire', processor: 'm4', ttlMs: 60 });
    await until(() => state() === 'running');
    await until(() => lost.length === 1);
    expect(lost[0]).toMatchObject({ reason: 'ttl-expired' });
    await until(() => state() === 'offline');
    c.close();
  });

  it('should refuse a peer outside the allow-lists', async () => {
    const { socketPath } = await setup({ allowUids: [54321] });
    const c = await DaemonClient.connect(socketPath);
    const refused = await new Promise<unknown>((resolve) => c.on('unsolicited', resolve));
    expect(refused).toMatchObject({ ok: false, error: { code: 'EACCES' } });
  });

  it('should answer 1,000 malformed frames with an error and a closed connection, losing no other lease', async () => {
    const { socketPath, state } = await setup();
    const holder = await DaemonClient.connect(socketPath);
    await holder.request({ op: 'acquire', processor: 'm4', client: 'holder' });
    await until(() => state() === 'running');
    const bad = fc.oneof(
      fc.string({ maxLength: 50 }).filter((s) => !s.includes('\n')),
      fc.constant('{"op":"frobnicate","id":1}'),
      fc.constant('{"op":"acquire","id":2}'),
      fc.constant('{"op":"release"}'),
      fc.constant('[1,2,3]'),
      fc.constant(`{"op":"ping","id":3,"pad":"${'x'.repeat(70_000)}"}`),
    );
    const frames = fc.sample(bad, { numRuns: 1000, seed: 42 }).filter((f) => f.trim() !== '');
    let errors = 0;
    for (let i = 0; i < frames.length; i += 50) {
      await Promise.all(
        frames.slice(i, i + 50).map(
          (f) =>
            new Promise<void>((resolve) => {
              const s = createConnection(socketPath);
              let got = '';
              s.setEncoding('utf8');
              s.on('data', (d: string) => {
                got += d;
              });
              s.on('close', () => {
                if (/"ok":false/.test(got)) errors++;
                resolve();
              });
              s.on('error', () => {});
              s.write(`${f}\n`);
            }),
        ),
      );
    }
    expect(errors).toBe(frames.length);
    const status = okReply(await holder.request({ op: 'status' }));
    expect(status.status.processors[0]?.leases).toHaveLength(1);
    expect(state()).toBe('running');
    holder.close();
  }, 30_000);
});
