// hybrid-fdstore: init keeps the monitor's cdev descriptors across its restarts, and drops them past its restart limit.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../scenarios/runScenario.js';
import { scenario } from '../scenarios/scenarioBuilder.js';
import { parseScenario, type Scenario } from '../scenarios/scenarioSchema.js';
import { applyEvent, startRun } from '../scenarios/startRun.js';

function builtin(file: string): Scenario {
  const parsed = parseScenario(JSON.parse(readFileSync(`scenarios/builtin/${file}`, 'utf8')));
  if (!parsed.ok) throw new Error(parsed.error.detail);
  return parsed.value;
}

/** One client on m4 from 0; the monitor SIGKILLed at 2000; `restart` as init's setting. */
const killed = (restart: false | { delayMs: number; intensity?: number; periodMs?: number }) =>
  scenario('monitor killed')
    .processor({ name: 'm4' })
    .client('a', 'm4', { heartbeatMs: 200 })
    .monitor({ restart, reconcile: 'adopt', graceMs: 1000, reconnectMs: 300, pollMs: 250 })
    .horizon(8000)
    .at(0)
    .acquire('a')
    .at(2000)
    .kill('monitor')
    .build();

const types = (trace: Array<{ type: string; data?: unknown }>, prefix: string) =>
  trace
    .filter((e) => e.type.startsWith(prefix))
    .map((e) => `${e.type}${e.data ? JSON.stringify(e.data) : ''}`);

describe('hybrid-fdstore', () => {
  it('should keep the processor running across a restart where hybrid stops it under its client', () => {
    const s = killed({ delayMs: 300 });
    const hybrid = runScenario(s, { strategy: 'hybrid' }).metrics;
    const store = runScenario(s, { strategy: 'hybrid-fdstore' });
    expect(hybrid.wrongfulStops).toBe(1);
    expect(store.metrics).toMatchObject({ wrongfulStops: 0, unavailableMs: 100, orphanMs: 0, leakedRefs: 0 });
    // The first monitor stored its descriptor, the restarted one got it back; nothing was dropped.
    expect(types(store.trace, 'init.fdstore')).toEqual(['init.fdstore-kept', 'init.fdstore-handed']);
  });

  it('should hold the descriptor in init while the monitor is down, on the same open file description', () => {
    const s = killed({ delayMs: 300 });
    const started = startRun(s, 'hybrid-fdstore');
    const { world } = started;
    for (const e of s.timeline) world.clock.setTimeout(() => applyEvent(started, e), e.at);
    world.clock.advanceTo(2100); // the monitor dead, its restart due at 2300
    const init = world.os.find('init');
    const ofds = [...world.twin.fds.descriptors(init?.pid ?? -1)].map((fd) =>
      world.twin.fds.get(init?.pid ?? -1, fd),
    );
    expect(ofds).toHaveLength(1);
    expect(ofds[0]?.ok && ofds[0].value.refs).toBe(1);
    expect(world.twin.processor(0).context.state).toBe('running');
    world.clock.advanceTo(2400);
    const monitor = world.alive('monitor');
    const fds = world.twin.fds.descriptors(monitor?.pid ?? -1);
    expect(fds).toHaveLength(1);
    const held = world.twin.fds.get(monitor?.pid ?? -1, fds[0] as number);
    // The restarted monitor's descriptor is init's description: two references to it now.
    expect(held.ok && ofds[0]?.ok && held.value.id === ofds[0].value.id && held.value.refs).toBe(2);
    world.twin.stop();
  });

  it('should drop the descriptors when init does not restart the monitor: the kernel stops the processor, as for hybrid', () => {
    const s = killed(false);
    const store = runScenario(s, { strategy: 'hybrid-fdstore' });
    expect(store.metrics).toEqual(runScenario(s, { strategy: 'hybrid' }).metrics);
    expect(types(store.trace, 'init.fdstore')).toEqual([
      'init.fdstore-kept',
      'init.fdstore-dropped{"why":"no-restart"}',
    ]);
  });

  it('should drop them past the restart intensity, and no restart still due then starts a monitor', () => {
    const s = builtin('daemon-crash-loop.json');
    const r = runScenario(s, { strategy: 'hybrid-fdstore' });
    expect(types(r.trace, 'init.gave-up')).toHaveLength(1);
    expect(types(r.trace, 'init.fdstore-dropped')).toEqual([
      'init.fdstore-dropped{"why":"restart-limit"}',
      'init.fdstore-dropped{"why":"restart-limit"}',
    ]);
    const starts = r.trace.filter((e) => e.type === 'process.start' && e.subject === 'monitor');
    expect(starts.map((e) => e.t)).toEqual([0, 3500, 4500]);
    // The orphan lasts from ui's death (3200) to init giving up (5000) and the stop (20 ms).
    expect(r.metrics.orphanMs).toBe(1820);
  });

  it('should let a released processor go from the store too, so that nothing holds it', () => {
    const s = scenario('release')
      .processor({ name: 'm4' })
      .client('a', 'm4', { heartbeatMs: 200 })
      .monitor({ restart: { delayMs: 300 }, policy: 'shared' })
      .horizon(4000)
      .at(0)
      .acquire('a')
      .at(1000)
      .release('a')
      .build();
    const r = runScenario(s, { strategy: 'hybrid-fdstore' });
    expect(r.metrics).toMatchObject({ orphanMs: 20, leakedRefs: 0, stopLatencyMs: 20 });
    expect(types(r.trace, 'init.fdstore')).toEqual(['init.fdstore-kept', 'init.fdstore-removed']);
  });
});
