// runScenario: runs one scenario against one strategy in virtual time; returns its metrics and trace.

import type { TraceEvent } from '../actors/trace.js';
import { STRATEGIES } from '../supervisors/strategies.js';
import { computeMetrics, type Metrics } from './metrics.js';
import type { Scenario, StrategyName, TimelineEvent } from './scenarioSchema.js';
import { World } from './World.js';

/** The outcome of one (scenario, strategy) run. */
export interface ScenarioRun {
  scenario: string;
  strategy: StrategyName;
  metrics: Metrics;
  trace: TraceEvent[];
}

function apply(world: World, strategy: (typeof STRATEGIES)[StrategyName], e: TimelineEvent): void {
  const note = (type: string, subject: string, data?: Record<string, unknown>) =>
    world.trace({ source: 'scenario', type, subject, ...(data ? { data } : {}) });
  if ('acquire' in e) {
    note('scenario.acquire', e.acquire);
    strategy.acquire(world, e.acquire);
  } else if ('release' in e) {
    note('scenario.release', e.release);
    strategy.release(world, e.release);
  } else if ('kill' in e) {
    const signal = e.signal ?? 'SIGKILL';
    const target = world.alive(e.kill);
    note(target ? 'scenario.kill' : 'scenario.noop', e.kill, {
      signal,
      ...(target ? {} : { why: `${strategy.name} has no live ${e.kill}` }),
    });
    if (target) world.os.kill(target, signal);
  } else if ('crash' in e) {
    note('scenario.crash', e.crash, { reason: e.reason ?? 'watchdog' });
    world.twin.crash(world.index(e.crash), e.reason ?? 'watchdog');
  } else if ('fork' in e) {
    const parent = world.alive(`client:${e.fork}`);
    note(parent ? 'scenario.fork' : 'scenario.noop', e.fork);
    if (parent) world.os.forkExec(parent, `child:${e.fork}`, {});
  }
}

/**
 * Runs `scenario` with `strategy` from 0 to `horizonMs` of virtual time. Deterministic: the same
 * scenario gives the same metrics and trace, event for event.
 *
 * @example
 * const parsed = parseScenario(JSON.parse(text));
 * if (parsed.ok) console.log(runScenario(parsed.value, { strategy: 'hybrid' }).metrics.orphanMs);
 */
export function runScenario(scenario: Scenario, { strategy: name }: { strategy: StrategyName }): ScenarioRun {
  const strategy = STRATEGIES[name];
  const world = new World(scenario);
  // One `rproc.state` event per change of state, count or lock step (`booting`, `recovering.stopping`).
  const last = new Map<number, string>();
  const record = (i: number) => {
    const p = world.twin.processor(i);
    const ctx = p.context;
    const step = JSON.stringify(p.actor.getSnapshot().value).replace(/[{}"]/g, '').replace(':', '.');
    const key = `${ctx.state}|${ctx.power}|${step}`;
    if (last.get(i) === key) return;
    last.set(i, key);
    world.trace({
      source: 'kernel',
      type: 'rproc.state',
      subject: p.name,
      data: { state: ctx.state, power: ctx.power, step },
    });
  };
  for (const p of world.twin.processors) record(p.index);
  world.twin.subscribe(record);
  strategy.start(world);
  for (const e of scenario.timeline) world.clock.setTimeout(() => apply(world, strategy, e), e.at);
  world.clock.advanceTo(scenario.horizonMs);
  const clientProcessor = new Map(scenario.clients.map((c) => [c.id, c.processor]));
  const metrics = computeMetrics(
    world.events,
    scenario.processors,
    clientProcessor,
    scenario.horizonMs,
    (p, n) => strategy.expectedRefs(world, p, n),
  );
  world.twin.stop();
  return { scenario: scenario.name, strategy: name, metrics, trace: world.events };
}
