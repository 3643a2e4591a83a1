// startRun and applyEvent: a world set up for one strategy, and timeline events applied to it — shared by
// `runScenario` (a fixed timeline) and `explore` (every interleaving).

import type { InspectionEvent } from 'xstate';
import { World } from '../actors/World.js';
import type { Strategy, StrategyRun } from '../supervisors/sim/Strategy.js';
import { STRATEGIES } from '../supervisors/sim/strategies.js';
import type { Scenario, StrategyName, TimelineEvent } from './scenarioSchema.js';

/** A world with its strategy running in it. */
export interface StartedRun {
  world: World;
  strategy: Strategy;
  run: StrategyRun;
}

/**
 * A world with its strategy started at time 0, recording one `rproc.state` trace event per change.
 * `inspect` is XState's inspection observer, attached to every actor the run creates.
 */
export function startRun(
  scenario: Scenario,
  name: StrategyName,
  options: { inspect?: (event: InspectionEvent) => void } = {},
): StartedRun {
  const strategy = STRATEGIES[name];
  const world = new World(scenario, options);
  // One `rproc.state` event per change of state, count or lock step (`booting`, `recovering.stopping`).
  const last = new Map<number, string>();
  const record = (i: number) => {
    const p = world.twin.processor(i);
    const ctx = p.context;
    const step = stepOf(world, i);
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
  return { world, strategy, run: strategy.start(world) };
}

/** What the holder of processor `i`'s lock is doing: `idle`, `booting`, `recovering.stopping`, … */
export function stepOf(world: World, i: number): string {
  const value = world.twin.processor(i).actor.getSnapshot().value;
  return typeof value === 'string'
    ? value
    : (Object.entries(value).map(([k, v]) => `${k}.${String(v)}`)[0] ?? '');
}

/** Applies one timeline event now. Events aimed at a process the strategy does not have are no-ops, traced. */
export function applyEvent({ world, strategy, run }: StartedRun, e: TimelineEvent): void {
  const note = (type: string, subject: string, data?: Record<string, unknown>) =>
    world.trace({ source: 'scenario', type, subject, ...(data ? { data } : {}) });
  if ('acquire' in e) {
    note('scenario.acquire', e.acquire);
    run.acquire(e.acquire);
  } else if ('release' in e) {
    note('scenario.release', e.release);
    run.release(e.release);
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
  } else if ('start' in e) {
    const started = run.startMonitor?.() ?? false;
    note(started ? 'scenario.start' : 'scenario.noop', e.start);
  } else if ('recovery' in e) {
    // An operator writes the `recovery` attribute (kernel 5.10+; ENOENT on 5.9 is traced).
    note('scenario.recovery', e.recovery, { value: e.value });
    world.twin.sysfsWrite(world.index(e.recovery), 'recovery', `${e.value}\n`);
  } else if ('write' in e) {
    // Another opener (a udev rule, a kernel user's helper) writes `state`: a reference no client owns.
    note('scenario.write', e.write, { value: e.value });
    world.twin.sysfsWrite(world.index(e.write), 'state', `${e.value}\n`);
  }
}
