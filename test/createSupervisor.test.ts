// The production supervisor on the sim driver, on the virtual clock, on every kernel profile.

import { describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import { createSysfsDriver } from '../actors/drivers/sysfsDriver.js';
import { VirtualClock } from '../actors/VirtualClock.js';
import { KERNEL_PROFILES, type KernelProfile } from '../machines/profile.js';
import { createSupervisor, type SupervisorOptions } from '../supervisors/runtime/createSupervisor.js';
import { advance, grant, settle } from './virtualTime.js';

const fast = { bootMs: 5, stopMs: 30 };

async function setup(
  kernel: KernelProfile,
  over: Partial<SupervisorOptions> = {},
  processors = ['m4', 'dsp'],
) {
  const clock = new VirtualClock();
  const driver = createSimDriver({
    kernel,
    clock,
    processors: processors.map((name) => ({ name, ...fast })),
  });
  const sup = await createSupervisor({
    driver,
    clock,
    pollMs: 5,
    graceMs: 20,
    settings: { defaults: { policy: 'exclusive' } },
    ...over,
  });
  const state = (i = 0) => driver.twin.inspect(i).state;
  const power = (i = 0) => driver.twin.inspect(i).power;
  /** Closes the supervisor while virtual time runs. */
  const close = async () => {
    const closing = sup.close();
    while (!(await Promise.race([closing.then(() => true), settle().then(() => false)])))
      await advance(clock, 10);
  };
  return { clock, driver, sup, state, power, close };
}

describe.each(KERNEL_PROFILES)('createSupervisor on kernel %s', (kernel) => {
  it('should run a processor while any lease holds it and stop it when the last one ends', async () => {
    const { clock, sup, state, power, close } = await setup(kernel);
    const a = await grant(clock, sup.acquire('m4', { client: 'audio' }));
    const b = await grant(clock, sup.acquire('remoteproc0', { client: 'ui' }));
    await advance(clock, 20);
    expect([state(), power()]).toEqual(['running', 1]);
    await a.release();
    await advance(clock, 100);
    expect(state()).toBe('running');
    await b.release();
    await advance(clock, 100);
    expect([state(), power()]).toEqual(['offline', 0]);
    await close();
  });

  it('should take a release and an acquire that cross in one turn as no decision: no stop, no start', async () => {
    const { clock, driver, sup, state, close } = await setup(kernel);
    const calls: string[] = [];
    for (const op of ['start', 'stop'] as const) {
      const real = driver[op].bind(driver);
      driver[op] = (device: string) => {
        calls.push(`${op} ${device}`);
        return real(device);
      };
    }
    const a = await grant(clock, sup.acquire('m4'));
    await advance(clock, 20);
    expect(calls).toEqual(['start remoteproc0']);
    // The last lease ends and a new one comes in the same turn: m4 keeps running, nothing is called.
    void a.release();
    const b = await grant(clock, sup.acquire('m4'));
    // A lease taken and let go in one turn on an idle processor does not boot it.
    const dsp = sup.tryAcquire('dsp');
    if (dsp.ok) void dsp.value.release();
    await advance(clock, 100);
    expect(calls).toEqual(['start remoteproc0']);
    expect([state(), state(1)]).toEqual(['running', 'offline']);
    await b.release();
    await advance(clock, 100);
    expect(state()).toBe('offline');
    expect(calls).toEqual(['start remoteproc0', 'stop remoteproc0']);
    await close();
  });

  it('should adopt for graceMs only what it finds powered at start', async () => {
    // Nothing powered: no grace period, a lease that ends stops its processor at once.
    const fresh = await setup(kernel, { graceMs: 60_000 });
    const a = await grant(fresh.clock, fresh.sup.acquire('m4'));
    await advance(fresh.clock, 20);
    expect(fresh.state()).toBe('running');
    await a.release();
    await advance(fresh.clock, 100);
    expect(fresh.state()).toBe('offline');
    await fresh.close();
    // m4 found running (a previous incarnation's): left alone for graceMs, then stopped, unclaimed.
    const clock = new VirtualClock();
    const driver = createSimDriver({ kernel, clock, processors: [{ name: 'm4', ...fast }] });
    const started = driver.start('remoteproc0');
    await advance(clock, 10);
    expect((await started).ok).toBe(true);
    const sup = await createSupervisor({
      driver,
      clock,
      pollMs: 5,
      graceMs: 150,
      settings: { defaults: { policy: 'exclusive' } },
    });
    await advance(clock, 140);
    expect(driver.twin.inspect(0).state).toBe('running');
    await advance(clock, 60);
    expect(driver.twin.inspect(0).state).toBe('offline');
    const closing = sup.close();
    await advance(clock, 10);
    await closing;
  });

  it('should adopt a processor whose foreign stop is under way only after the stop (lock barrier)', async () => {
    // Regression (kernel 5.9 has no sysfs `recovery`: the barrier returned ENOENT at once, so m4 was
    // adopted as running, then the foreign stop finished and the lease stayed granted on an offline m4).
    const clock = new VirtualClock();
    const driver = createSimDriver({ kernel, clock, processors: [{ name: 'm4', bootMs: 100, stopMs: 500 }] });
    driver.twin.sysfsWrite(0, 'state', 'start\n');
    await advance(clock, 200);
    driver.twin.sysfsWrite(0, 'state', 'stop\n');
    await advance(clock, 1);
    expect(driver.twin.inspect(0).state).toBe('running');
    const sup = await createSupervisor({
      driver,
      clock,
      strategy: 'hybrid',
      pollMs: 250,
      settings: { defaults: { policy: 'exclusive' } },
    });
    const lease = await grant(clock, sup.acquire('m4'));
    await advance(clock, 1500);
    expect(lease.state).toBe('granted');
    expect([driver.twin.inspect(0).state, driver.twin.inspect(0).power]).toEqual(['running', 1]);
    const closing = sup.close();
    await advance(clock, 600);
    await closing;
  });

  it('should release at the end of an `await using` scope', async () => {
    const { clock, sup, state, close } = await setup(kernel);
    {
      await using lease = await grant(clock, sup.acquire('m4'));
      await advance(clock, 20);
      expect(lease.state).toBe('granted');
      expect(state()).toBe('running');
    }
    await advance(clock, 100);
    expect(state()).toBe('offline');
    await close();
  });

  it('should expire a lease whose client stops pinging within ttlMs, and stop the processor', async () => {
    const { clock, sup, state, close } = await setup(kernel);
    const lease = await grant(clock, sup.acquire('m4', { ttlMs: 400 }));
    const lost: string[] = [];
    lease.on('lost', (d) => lost.push(d.reason ?? ''));
    for (let i = 0; i < 12; i++) {
      await advance(clock, 300);
      lease.ping();
    }
    expect(lease.state).toBe('granted');
    await advance(clock, 399);
    expect(lost).toEqual([]);
    await advance(clock, 1);
    expect(lost).toEqual(['ttl-expired']);
    expect(lease.state).toBe('expired');
    // An ended lease takes pings and releases without effect.
    lease.ping();
    await lease.release();
    await advance(clock, 100);
    expect(state()).toBe('offline');
    await close();
  });

  it('should tell lease holders of a crash and the recovery after it', async () => {
    const { clock, driver, sup, close } = await setup(kernel);
    const lease = await grant(clock, sup.acquire('m4'));
    const events: string[] = [];
    lease.on('processor.crashed', () => events.push('crashed'));
    lease.on('processor.recovered', () => events.push('recovered'));
    await advance(clock, 20);
    driver.twin.crash(0, 'watchdog');
    await advance(clock, 200);
    expect(events).toEqual(['crashed', 'recovered']);
    expect(sup.status().processors[0]?.crashes).toBe(1);
    await close();
  });

  it('should stop what it holds when it closes, and refuse new leases', async () => {
    const { clock, sup, state, close } = await setup(kernel);
    await grant(clock, sup.acquire('m4'));
    await grant(clock, sup.acquire('dsp'));
    await advance(clock, 20);
    expect([state(0), state(1)]).toEqual(['running', 'running']);
    await close();
    expect([state(0), state(1)]).toEqual(['offline', 'offline']);
    await expect(sup.acquire('m4')).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('should reject an unknown processor with ENODEV, and refuse hybrid on a driver that cannot hold the device', async () => {
    const { sup, close } = await setup(kernel);
    await expect(sup.acquire('gpu')).rejects.toMatchObject({ code: 'ENODEV' });
    await close();
    await expect(createSupervisor({ driver: createSysfsDriver({ root: '/nonexistent' }) })).rejects.toThrow(
      /hybrid needs a driver/,
    );
  });

  it('should show leases in status', async () => {
    const { clock, sup, close } = await setup(kernel);
    await grant(clock, sup.acquire('m4', { client: 'audio', peer: { pid: 4242, uid: 0, gid: 0 } }));
    const s = sup.status();
    expect(s.strategy).toBe('hybrid');
    expect(s.processors[0]?.leases).toEqual([expect.objectContaining({ client: 'audio', pid: 4242 })]);
    await close();
  });

  it('should show every lease, timed or not, as an actor whose parent is its processor actor', async () => {
    const { clock, sup, close } = await setup(kernel);
    const actors = new Map<string, AnyActorRef>();
    const events: string[] = [];
    const detach = sup.inspect((e: InspectionEvent) => {
      if (e.type === '@xstate.actor') actors.set((e.actorRef as AnyActorRef).id, e.actorRef as AnyActorRef);
      if (e.type === '@xstate.event') events.push(`${(e.actorRef as AnyActorRef).id}:${e.event.type}`);
    });
    const timed = await grant(clock, sup.acquire('m4', { ttlMs: 10_000 }));
    const untimed = await grant(clock, sup.acquire('dsp'));
    const parentOf = (id: string) => (actors.get(id) as { _parent?: AnyActorRef } | undefined)?._parent;
    for (const [lease, processor] of [
      [timed, 'remoteproc0'],
      [untimed, 'remoteproc1'],
    ] as const) {
      expect(parentOf(lease.id)?.id).toBe(processor);
      expect((parentOf(lease.id) as { _parent?: AnyActorRef })._parent?.id).toBe('supervisor');
      expect(actors.get(lease.id)?.getSnapshot().value).toEqual({
        granted: lease === timed ? 'alive' : 'held',
      });
    }
    // A timed lease is granted by event (which arms its TTL); an untimed one is created granted.
    expect(events).toContain(`${timed.id}:lease.grant`);
    expect(events).not.toContain(`${untimed.id}:lease.grant`);
    await advance(clock, 20);
    // The lease's end reaches its processor actor as XState's own done event.
    await untimed.release();
    expect(events).toContain(`remoteproc1:xstate.done.actor.${untimed.id}`);
    detach();
    await timed.release();
    expect(events).not.toContain(`remoteproc0:xstate.done.actor.${timed.id}`);
    await close();
  });
});
