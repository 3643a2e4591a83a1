// The per-processor policies (shared, exclusive, attach, observe) and firmware rules of createSupervisor, on every kernel profile.

import { describe, expect, it } from 'vitest';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import type { ProcessorJson } from '../actors/kernel/processorSchema.js';
import { VirtualClock } from '../actors/VirtualClock.js';
import { KERNEL_PROFILES, type KernelProfile, profileFeatures } from '../machines/profile.js';
import { createSupervisor, type SupervisorOptions } from '../supervisors/runtime/createSupervisor.js';
import type { SupervisionConfig } from '../supervisors/supervisorSettings.js';
import { advance, grant, settle } from './virtualTime.js';

const fast = { bootMs: 5, stopMs: 30 };

/** A supervisor on the twin: `m4` with `spec`, under `settings`; counts the driver's commands. */
async function policySetup(
  kernel: KernelProfile,
  settings: SupervisionConfig,
  spec: Partial<ProcessorJson> = {},
  over: Partial<SupervisorOptions> = {},
) {
  const clock = new VirtualClock();
  const driver = createSimDriver({ kernel, clock, processors: [{ name: 'm4', ...fast, ...spec }] });
  const calls: string[] = [];
  for (const op of ['start', 'stop', 'detach'] as const) {
    const real = driver[op].bind(driver);
    driver[op] = (device: string) => {
      calls.push(op);
      return real(device);
    };
  }
  // Whatever the kernel does by itself at probe (auto-boot, attach) is done before the supervisor starts.
  await advance(clock, 50);
  const sup = await createSupervisor({ driver, clock, pollMs: 5, graceMs: 20, settings, ...over });
  const twin = () => driver.twin.inspect(0);
  const close = async () => {
    const closing = sup.close();
    while (!(await Promise.race([closing.then(() => true), settle().then(() => false)])))
      await advance(clock, 10);
  };
  return { clock, driver, sup, twin, calls, close };
}

const policy = (p: 'shared' | 'exclusive' | 'attach' | 'observe'): SupervisionConfig => ({
  processors: { m4: { policy: p } },
});

describe.each(KERNEL_PROFILES)('policies on kernel %s', (kernel) => {
  const stacks = !profileFeatures(kernel).layerStateChecks;

  it('shared (the default): leaves an auto-booted processor running, at start and after a lease on it', async () => {
    const { clock, sup, twin, calls, close } = await policySetup(kernel, {}, { autoBoot: true });
    expect(twin().state).toBe('running');
    await advance(clock, 100);
    expect([twin().state, calls]).toEqual(['running', []]);
    expect(sup.status().processors[0]?.policy).toBe('shared');
    const lease = await grant(clock, sup.acquire('m4'));
    await advance(clock, 50);
    // 5.19 stacks our own reference on the kernel's; before, start is EBUSY: granted without one.
    expect(twin().power).toBe(stacks ? 2 : 1);
    expect(sup.status().processors[0]?.leases[0]?.reference).toBe(stacks);
    await lease.release();
    await advance(clock, 100);
    expect([twin().state, twin().power]).toEqual(['running', 1]);
    expect(calls).toEqual(stacks ? ['start', 'stop'] : ['start']);
    await close();
    expect(twin().state).toBe('running');
  });

  it('exclusive: stops an auto-booted processor nobody claims (reconciles at start)', async () => {
    const { clock, twin, close } = await policySetup(kernel, policy('exclusive'), { autoBoot: true });
    await advance(clock, 200);
    expect(twin().state).toBe('offline');
    await close();
  });

  it('shared: starts an offline processor for its lease and stops it after, with one reference', async () => {
    const { clock, sup, twin, calls, close } = await policySetup(kernel, {});
    const lease = await grant(clock, sup.acquire('m4'));
    await advance(clock, 50);
    expect([twin().state, twin().power]).toEqual(['running', 1]);
    expect(sup.status().processors[0]?.leases[0]?.reference).toBe(true);
    await lease.release();
    await advance(clock, 100);
    expect([twin().state, twin().power, calls]).toEqual(['offline', 0, ['start', 'stop']]);
    await close();
  });

  it('shared: drops only its own reference when someone else started the processor too', async () => {
    const { clock, driver, sup, twin, close } = await policySetup(kernel, {});
    const lease = await grant(clock, sup.acquire('m4'));
    await advance(clock, 50);
    // A udev rule's `echo start`: stacks on 5.19, EBUSY before.
    const foreign = driver.twin.sysfsWrite(0, 'state', 'start');
    await advance(clock, 20);
    expect(foreign.result?.ok).toBe(stacks);
    await lease.release();
    await advance(clock, 200);
    expect(twin().state).toBe(stacks ? 'running' : 'offline');
    expect(twin().power).toBe(stacks ? 1 : 0);
    await close();
  });

  it('attach: attaches a bootloader core, detaches it after the last lease, never stops it', async () => {
    const { clock, sup, twin, calls, close } = await policySetup(kernel, policy('attach'), {
      initial: 'detached',
    });
    expect(twin().state).toBe('detached');
    const a = await grant(clock, sup.acquire('m4'));
    const b = await grant(clock, sup.acquire('m4'));
    await advance(clock, 50);
    // v5.9–5.12 read an attached processor as running (§1.1).
    expect(twin().state).toBe(profileFeatures(kernel).attachedState ? 'attached' : 'running');
    await a.release();
    await b.release();
    await advance(clock, 200);
    const detach = profileFeatures(kernel).detachCommand;
    // Before v5.13 there is no `detach`: its EINVAL is final, the core stays up, nothing is stopped.
    expect(twin().state).toBe(detach ? 'detached' : 'running');
    expect(calls).toEqual(['start', 'detach']);
    await close();
    expect(twin().state).not.toBe('offline');
  });

  it('attach: an EINVAL from a driver without ops->detach is final, not retried', async () => {
    const { clock, sup, twin, calls, close } = await policySetup(kernel, policy('attach'), {
      initial: 'detached',
      canDetach: false,
    });
    const lease = await grant(clock, sup.acquire('m4'));
    await advance(clock, 50);
    await lease.release();
    await advance(clock, 500);
    expect(calls).toEqual(['start', 'detach']);
    expect(twin().state).not.toBe('offline');
    await close();
  });

  it('observe: refuses acquire with EPERM and writes nothing', async () => {
    const { clock, sup, twin, calls, close } = await policySetup(kernel, policy('observe'), {
      autoBoot: true,
    });
    expect(sup.tryAcquire('m4')).toMatchObject({ ok: false, error: { code: 'EPERM' } });
    await expect(sup.acquire('m4')).rejects.toMatchObject({ code: 'EPERM' });
    await advance(clock, 100);
    expect([twin().state, calls, sup.status().processors[0]?.policy]).toEqual(['running', [], 'observe']);
    await close();
  });

  it('firmware: refuses a name with / or .. (EINVAL) and a different firmware while it runs (EBUSY)', async () => {
    const { clock, sup, twin, close } = await policySetup(kernel, {
      processors: { m4: { firmware: 'a.elf' } },
    });
    for (const bad of ['../etc/passwd', 'x/y.elf', 'a..b'])
      expect(sup.tryAcquire('m4', { firmware: bad })).toMatchObject({ ok: false, error: { code: 'EINVAL' } });
    const lease = await grant(clock, sup.acquire('m4'));
    await advance(clock, 50);
    expect([twin().state, twin().firmware]).toEqual(['running', 'a.elf']);
    expect(sup.tryAcquire('m4', { firmware: 'b.elf' })).toMatchObject({
      ok: false,
      error: { code: 'EBUSY' },
    });
    const same = await grant(clock, sup.acquire('m4', { firmware: 'a.elf' }));
    await same.release();
    await lease.release();
    await advance(clock, 100);
    // Offline again: another firmware may be asked for.
    const b = await grant(clock, sup.acquire('m4', { firmware: 'b.elf' }));
    await advance(clock, 50);
    expect(twin().firmware).toBe('b.elf');
    await b.release();
    await close();
  });
});
