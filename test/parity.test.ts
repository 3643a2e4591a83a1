// Parity: the simulated monitor and createSupervisor are one supervisor in two shells — same kernel, same inputs, same steps.

import { describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import { VirtualClock } from '../actors/VirtualClock.js';
import { KERNEL_PROFILES, type KernelProfile } from '../machines/profile.js';
import { runScenario } from '../scenarios/runScenario.js';
import { parseScenario, type TimelineEvent } from '../scenarios/scenarioSchema.js';
import { createSupervisor, type Lease } from '../supervisors/runtime/createSupervisor.js';
import { advance } from './virtualTime.js';

/** What a processor actor received, at what time: the whole input of the one core. */
type Step = [number, string, unknown];

/** Records each processor actor's events (with `rename` mapping its id to the processor's name). */
function recorder(now: () => number, rename: (id: string) => string = (id) => id) {
  const steps = new Map<string, Step[]>();
  const observe = (e: InspectionEvent) => {
    if (e.type !== '@xstate.event') return;
    const ref = e.actorRef as AnyActorRef & { logic?: { id?: string } };
    if (ref.logic?.id !== 'processor') return;
    const ev = e.event as {
      type: string;
      input?: unknown;
      lease?: { id: string };
      id?: string;
      event?: string;
    };
    const what =
      ev.type === 'core.input'
        ? ev.input
        : ev.type === 'lease.acquire'
          ? ev.lease?.id
          : (ev.id ?? ev.event ?? null);
    const list = steps.get(rename(ref.id)) ?? [];
    list.push([now(), ev.type, JSON.parse(JSON.stringify(what ?? null))]);
    steps.set(rename(ref.id), list);
  };
  return { steps, observe };
}

const PROCESSORS = [{ name: 'm4', bootMs: 100, stopMs: 20 }];
/** Client moves at instants no poll (every 250 ms) shares, so the order within an instant is the same. */
const TIMELINE: TimelineEvent[] = [
  { at: 10, acquire: 'a' },
  { at: 610, acquire: 'b' },
  { at: 1310, release: 'a' },
  { at: 2110, crash: 'm4' },
  { at: 3010, release: 'b' },
  { at: 4010, acquire: 'a' },
  { at: 4020, release: 'a' },
];

describe.each(KERNEL_PROFILES)('one supervisor, two shells, kernel %s', (kernel: KernelProfile) => {
  it('should take the same inputs, step for step, in the simulated monitor and in createSupervisor', async () => {
    const horizonMs = 6000;
    const parsed = parseScenario({
      name: 'parity',
      kernel,
      horizonMs,
      processors: PROCESSORS,
      clients: [
        { id: 'a', processor: 'm4' },
        { id: 'b', processor: 'm4' },
      ],
      strategies: ['sysfs-monitor'],
      timeline: TIMELINE,
    });
    if (!parsed.ok) throw new Error(parsed.error.detail);
    // The simulation: the monitor process (sysfs writes through its system calls, answered in virtual time).
    let simNow = () => 0;
    const sim = recorder(() => simNow());
    const run = runScenario(parsed.value, {
      strategy: 'sysfs-monitor',
      inspect: sim.observe,
      onStart: (world) => {
        simNow = () => world.clock.now();
      },
    });
    // The daemon's supervisor: the sim driver's promises, the same moves at the same instants.
    const clock = new VirtualClock();
    const driver = createSimDriver({ kernel, clock, processors: PROCESSORS });
    const prod = recorder(
      () => clock.now(),
      (id) => driver.twin.resolve(id)?.name ?? id,
    );
    const sup = await createSupervisor({
      driver,
      clock,
      strategy: 'sysfs-monitor',
      inspect: prod.observe,
      // The simulated monitor's policy: the daemon's default is shared.
      settings: { defaults: { policy: 'exclusive' } },
    });
    const leases = new Map<string, Lease>();
    for (const e of TIMELINE) {
      await advance(clock, e.at - clock.now());
      if ('acquire' in e) {
        // Granted at the same instant as the simulated monitor grants it (usable once it runs).
        const got = sup.tryAcquire('m4', { client: e.acquire });
        if (got.ok) leases.set(e.acquire, got.value);
      } else if ('release' in e) await leases.get(e.release)?.release();
      else if ('crash' in e) driver.twin.crash(0, 'watchdog');
    }
    await advance(clock, horizonMs - clock.now());
    const simSteps = sim.steps.get('m4') ?? [];
    expect(simSteps.length).toBeGreaterThan(20);
    expect(
      simSteps.some(
        ([, type, input]) => type === 'core.input' && (input as { type: string }).type === 'answer',
      ),
    ).toBe(true);
    expect(prod.steps.get('m4')).toEqual(simSteps);
    // And the kernel ends the same.
    expect(driver.twin.inspect(0).state).toBe(
      run.trace.filter((t) => t.type === 'rproc.state').at(-1)?.data?.state,
    );
    const closing = sup.close();
    await advance(clock, 100);
    await closing;
  });
});
