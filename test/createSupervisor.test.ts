// The production supervisor on the sim driver, in real (short) time.

import { describe, expect, it } from 'vitest';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import { createSysfsDriver } from '../actors/drivers/sysfsDriver.js';
import { createSupervisor } from '../supervisors/createSupervisor.js';
import { until as waitUntil } from './wait.js';

const fast = { bootMs: 5, stopMs: 30 };
const until = (cond: () => Promise<boolean> | boolean, ms = 2000) => waitUntil(cond, ms, 5);

async function setup(over: Record<string, unknown> = {}) {
  const driver = createSimDriver({
    processors: [
      { name: 'm4', ...fast },
      { name: 'dsp', ...fast },
    ],
  });
  const sup = await createSupervisor({ driver, pollMs: 5, graceMs: 20, ...over });
  const state = (i = 0) => driver.twin.inspect(i).state;
  return { driver, sup, state };
}

describe('createSupervisor', () => {
  it('should run a processor while any lease holds it and stop it when the last one ends', async () => {
    const { driver, sup, state } = await setup();
    const a = await sup.acquire('m4', { client: 'audio' });
    const b = await sup.acquire('remoteproc0', { client: 'ui' });
    await until(() => state() === 'running');
    await a.release();
    await new Promise((r) => setTimeout(r, 60));
    expect(state()).toBe('running');
    await b.release();
    await until(() => state() === 'offline');
    expect(driver.twin.inspect(0).power).toBe(0);
    await sup.close();
  });

  it('should feed an inspection observer from the supervisor and from leases with a TTL, until detached', async () => {
    const { sup } = await setup();
    const seen: string[] = [];
    const detach = sup.inspect((e) => {
      if (e.type === '@xstate.event') seen.push(`${e.rootId}:${e.event.type}`);
    });
    const timed = await sup.acquire('m4', { ttlMs: 10_000 });
    const untimed = await sup.acquire('m4');
    // Votes reach the supervisor machine at the end of the event loop's turn.
    await new Promise((r) => setImmediate(r));
    expect(seen.filter((s) => s.endsWith(':lease.granted'))).toHaveLength(2);
    // The TTL lease is an actor and shows; the untimed one runs on the table and only its votes show.
    expect(seen.filter((s) => s.endsWith(':lease.grant'))).toHaveLength(1);
    detach();
    await untimed.release();
    await timed.release();
    await new Promise((r) => setImmediate(r));
    expect(seen.filter((s) => s.endsWith(':lease.ended'))).toHaveLength(0);
    await sup.close();
  });

  it('should take a release and an acquire that cross in one turn as no decision: no stop, no start', async () => {
    const { driver, sup, state } = await setup();
    const calls: string[] = [];
    for (const op of ['start', 'stop'] as const) {
      const real = driver[op].bind(driver);
      driver[op] = (device: string) => {
        calls.push(`${op} ${device}`);
        return real(device);
      };
    }
    const a = await sup.acquire('m4');
    await until(() => state() === 'running');
    expect(calls).toEqual(['start remoteproc0']);
    // The last lease ends and a new one comes in the same turn: m4 keeps running, nothing is called.
    void a.release();
    const b = await sup.acquire('m4');
    // A lease taken and let go in one turn on an idle processor does not boot it.
    void (await sup.acquire('dsp')).release();
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toEqual(['start remoteproc0']);
    expect(state()).toBe('running');
    expect(state(1)).toBe('offline');
    await b.release();
    await until(() => state() === 'offline');
    expect(calls).toEqual(['start remoteproc0', 'stop remoteproc0']);
    await sup.close();
  });

  it('should adopt for graceMs only what it finds powered at start', async () => {
    // Nothing powered: no grace period, a lease that ends stops its processor at once.
    const fresh = await setup({ graceMs: 60_000 });
    const a = await fresh.sup.acquire('m4');
    await until(() => fresh.state() === 'running');
    await a.release();
    await until(() => fresh.state() === 'offline', 1000);
    await fresh.sup.close();
    // m4 found running (a previous incarnation's): left alone for graceMs, then stopped, unclaimed.
    const driver = createSimDriver({ processors: [{ name: 'm4', ...fast }] });
    await driver.start('remoteproc0');
    const sup = await createSupervisor({ driver, pollMs: 5, graceMs: 150 });
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 80));
    expect(driver.twin.inspect(0).state).toBe('running');
    await until(() => driver.twin.inspect(0).state === 'offline', 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    await sup.close();
  });

  it('should release at the end of an `await using` scope', async () => {
    const { sup, state } = await setup();
    {
      await using lease = await sup.acquire('m4');
      await until(() => state() === 'running');
      expect(lease.state).toBe('granted');
    }
    await until(() => state() === 'offline');
    await sup.close();
  });

  it('should lose a lease whose client stops pinging within ttlMs, and stop the processor', async () => {
    const { sup, state } = await setup();
    // Generous margins: pings every 50 ms against a 400 ms TTL, on a machine that may be busy.
    const lease = await sup.acquire('m4', { ttlMs: 400 });
    const lost: string[] = [];
    lease.on('lost', (d) => lost.push(d.reason ?? ''));
    for (let i = 0; i < 12; i++) {
      await new Promise((r) => setTimeout(r, 50));
      lease.ping();
    }
    expect(lease.state).toBe('granted');
    await until(() => lost.length > 0);
    expect(lost).toEqual(['expired']);
    await until(() => state() === 'offline');
    await sup.close();
  });

  it('should tell lease holders of a crash and the recovery after it', async () => {
    const { driver, sup, state } = await setup();
    const lease = await sup.acquire('m4');
    const events: string[] = [];
    lease.on('processor.crashed', () => events.push('crashed'));
    lease.on('processor.recovered', () => events.push('recovered'));
    await until(() => state() === 'running');
    driver.twin.crash(0, 'watchdog');
    await until(() => events.length === 2);
    expect(events).toEqual(['crashed', 'recovered']);
    expect(sup.status().processors[0]?.crashes).toBe(1);
    await sup.close();
  });

  it('should stop what it holds when it closes, and refuse new leases', async () => {
    const { sup, state } = await setup();
    await sup.acquire('m4');
    await sup.acquire('dsp');
    await until(() => state(0) === 'running' && state(1) === 'running');
    await sup.close();
    expect([state(0), state(1)]).toEqual(['offline', 'offline']);
    await expect(sup.acquire('m4')).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('should reject an unknown processor with ENODEV, and refuse hybrid on a driver that cannot hold the device', async () => {
    const { sup } = await setup();
    await expect(sup.acquire('gpu')).rejects.toMatchObject({ code: 'ENODEV' });
    await sup.close();
    await expect(createSupervisor({ driver: createSysfsDriver({ root: '/nonexistent' }) })).rejects.toThrow(
      /hybrid needs a driver/,
    );
  });

  it('should show leases in status', async () => {
    const { sup } = await setup();
    await sup.acquire('m4', { client: 'audio', peer: { pid: 4242, uid: 0, gid: 0 } });
    const s = sup.status();
    expect(s.strategy).toBe('hybrid');
    expect(s.processors[0]?.leases).toEqual([expect.objectContaining({ client: 'audio', pid: 4242 })]);
    await sup.close();
  });
});
