// Acquire means usable: createSupervisor's acquire resolves once the processor runs, or rejects with the boot's errno — every kernel profile.

import { describe, expect, it } from 'vitest';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import type { ProcessorJson } from '../actors/kernel/processorSchema.js';
import { VirtualClock } from '../actors/VirtualClock.js';
import { KERNEL_PROFILES, type KernelProfile } from '../machines/profile.js';
import { createSupervisor, type LeaseEventName } from '../supervisors/runtime/createSupervisor.js';
import type { SupervisionConfig } from '../supervisors/supervisorSettings.js';
import { advance, grant, settle } from './virtualTime.js';

async function setup(kernel: KernelProfile, spec: Partial<ProcessorJson>, settings: SupervisionConfig = {}) {
  const clock = new VirtualClock();
  const driver = createSimDriver({
    kernel,
    clock,
    processors: [{ name: 'm4', bootMs: 200, stopMs: 10, ...spec }],
  });
  const sup = await createSupervisor({ driver, clock, pollMs: 5, settings });
  const close = async () => {
    const closing = sup.close();
    while (!(await Promise.race([closing.then(() => true), settle().then(() => false)])))
      await advance(clock, 10);
  };
  return { clock, driver, sup, state: () => driver.twin.inspect(0).state, close };
}

describe.each(KERNEL_PROFILES)('acquire means usable, kernel %s', (kernel) => {
  it('should resolve acquire only once the processor runs, and `granted` with it', async () => {
    const { clock, sup, state, close } = await setup(kernel, {});
    const events: LeaseEventName[] = [];
    let resolvedIn: string | null = null;
    const p = sup.acquire('m4', { onEvent: (e) => events.push(e) }).then((l) => {
      resolvedIn = state();
      return l;
    });
    await advance(clock, 100);
    expect([resolvedIn, events, state()]).toEqual([null, [], 'offline']);
    const lease = await grant(clock, p);
    expect([resolvedIn, events]).toEqual(['running', ['granted']]);
    // A second lease on the running processor is usable at once.
    const second = sup.tryAcquire('m4');
    await settle();
    expect(second.ok && second.value.state).toBe('granted');
    await lease.release();
    if (second.ok) await second.value.release();
    await close();
  });

  it('should reject a failed boot with the kernel errno (during boot), end the lease, stop nothing', async () => {
    const { clock, sup, state, close } = await setup(kernel, { firmwareMissing: true });
    const events: string[] = [];
    const p = sup.acquire('m4', { onEvent: (e, d) => events.push(`${e}:${d.error?.code ?? ''}`) });
    await expect(grant(clock, p)).rejects.toMatchObject({ code: 'ENOENT', during: 'boot' });
    expect(events).toEqual(['failed:ENOENT']);
    await advance(clock, 50);
    expect(sup.status().processors[0]?.leases).toEqual([]);
    expect(state()).toBe('offline');
    await close();
  });

  it('should reject with ETIMEDOUT past bootTimeoutMs, and then stop the slow boot', async () => {
    const { clock, sup, state, close } = await setup(
      kernel,
      { bootMs: 5000 },
      { processors: { m4: { bootTimeoutMs: 1000 } } },
    );
    const p = sup.acquire('m4');
    await expect(grant(clock, p)).rejects.toMatchObject({ code: 'ETIMEDOUT', during: 'boot' });
    expect(clock.now()).toBeGreaterThanOrEqual(1000);
    expect(clock.now()).toBeLessThan(1100);
    await advance(clock, 6000);
    expect(state()).toBe('offline');
    expect(sup.status().processors[0]?.leases).toEqual([]);
    await close();
  });

  it('should reject a lease that ends before the processor runs (supervisor closed)', async () => {
    const { clock, sup, close } = await setup(kernel, {});
    const p = sup.acquire('m4');
    await advance(clock, 10);
    const closing = close();
    await expect(p).rejects.toMatchObject({ code: 'ENODEV' });
    await closing;
  });
});

describe.each(KERNEL_PROFILES)('offGraceMs, kernel %s', (kernel) => {
  const grace: SupervisionConfig = { processors: { m4: { offGraceMs: 1000 } } };

  it('should keep the processor for a holder restarted within offGraceMs: no stop, no second boot', async () => {
    const { clock, driver, sup, state, close } = await setup(kernel, {}, grace);
    const starts: string[] = [];
    const real = driver.start.bind(driver);
    driver.start = (d) => {
      starts.push(d);
      return real(d);
    };
    const a = await grant(clock, sup.acquire('m4'));
    a.lose(); // its holder died (EOF)
    await advance(clock, 600);
    expect(state()).toBe('running');
    const b = await grant(clock, sup.acquire('m4'));
    await advance(clock, 2000);
    expect([state(), starts.length]).toEqual(['running', 1]);
    await b.release(); // clean: no grace
    await advance(clock, 50);
    expect(state()).toBe('offline');
    await close();
  });

  it('should stop the processor when offGraceMs passes with no new acquire', async () => {
    const { clock, sup, state, close } = await setup(kernel, {}, grace);
    const a = await grant(clock, sup.acquire('m4'));
    a.lose();
    await advance(clock, 900);
    expect(state()).toBe('running');
    await advance(clock, 200);
    expect(state()).toBe('offline');
    await close();
  });

  it('should not wait out the grace when it closes', async () => {
    const { clock, sup, state, close } = await setup(
      kernel,
      {},
      { defaults: { policy: 'shared', offGraceMs: 60_000 } },
    );
    await grant(clock, sup.acquire('m4'));
    const t0 = clock.now();
    await close();
    expect(state()).toBe('offline');
    expect(clock.now() - t0).toBeLessThan(1000);
  });
});
