// recordReplay: runs a scenario once per strategy in virtual time with the inspection stream attached,
// and packs what the page replays — the stream, the trace, the metrics and the rproc statechart.

import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { TraceEvent } from '../actors/trace.js';
import type { VirtualClock } from '../actors/VirtualClock.js';
import type { RprocContext } from '../machines/rprocTypes.js';
import type { Metrics } from '../scenarios/metrics.js';
import { runScenario } from '../scenarios/runScenario.js';
import type { Scenario, StrategyName } from '../scenarios/scenarioSchema.js';
import { type PaidCost, paidCosts } from './documentedCosts.js';
import {
  createInspectionStream,
  DEFAULT_STREAM_BOUND,
  STREAM_VERSION,
  type StreamEvent,
  toData,
} from './inspectionStream.js';
import type { Statechart } from './statechart.js';

/** One strategy's recorded run. */
export interface RecordedRun {
  strategy: StrategyName;
  /** The inspection stream of every actor of the run (kernel twin, monitor, leases), virtual `t`. */
  events: StreamEvent[];
  /** Stream events dropped by the bound (0 unless the run is very long). */
  dropped: number;
  /**
   * The run's trace: processes, kernel state changes, faults, notices (the timeline's source), plus
   * `kernel.release` events (the last descriptor of a `/dev/remoteprocN` closed), which `compare` does
   * not trace.
   */
  trace: TraceEvent[];
  /** For each stream event, how many trace events came before it: the two lists' true interleaving. */
  traceBefore: number[];
  /** The same metrics `compare` prints for this run. */
  metrics: Metrics;
  /** The strategy's documented costs this run paid (which metrics they explain, and when). */
  costs: PaidCost[];
  /** Real milliseconds the recording took. */
  recordMs: number;
}

/** Everything the page needs to replay a scenario. Plain JSON. */
export interface ReplayData {
  v: typeof STREAM_VERSION;
  mode: 'replay';
  scenario: {
    name: string;
    description: string;
    kernel: string;
    horizonMs: number;
    processors: string[];
    clients: Array<{ id: string; processor: string }>;
    timeline: unknown[];
  };
  statechart: Statechart;
  runs: RecordedRun[];
}

/** The part of each machine's context the page shows (the rest stays in the process). */
export function essentials(machine: string | null, context: unknown): Record<string, unknown> | null {
  if (machine === 'rproc') {
    const c = context as RprocContext;
    return {
      name: c.options.name,
      state: c.state,
      power: c.power,
      step: c.step,
      crashCount: c.crashCount,
      holder: c.holder?.op ?? null,
      waiters: c.waiters.length,
      shutdownOnRelease: c.shutdownOnRelease,
      recoveryDisabled: c.recoveryDisabled,
    };
  }
  return toData(context) as Record<string, unknown> | null;
}

/** `lease:<client>` for lease actors, `supervisor`, or the actor's id (`remoteproc0`). */
export function actorLabel(ref: AnyActorRef, machine: string | null): string {
  if (machine === 'lease') {
    // `@xstate.actor` comes from the constructor, before the first snapshot; the input has the client.
    const input = (ref as { options?: { input?: { client?: unknown } } }).options?.input;
    return typeof input?.client === 'string' ? `lease:${input.client}` : 'lease';
  }
  return machine === 'supervisor' ? 'supervisor' : ref.id;
}

/**
 * Runs `scenario` with each of `strategies` from 0 to its horizon, exactly as `compare` does, with an
 * inspection stream on every actor the run creates. `forward` also receives the raw inspection events.
 *
 * @example
 * const data = recordReplay(scenario, ['sysfs-monitor', 'hybrid'], chart);
 * data.runs[1].metrics.orphanMs; // 0, as `compare` says
 */
export function recordReplay(
  scenario: Scenario,
  strategies: readonly StrategyName[],
  statechart: Statechart,
  options: { bound?: number; forward?: (event: InspectionEvent) => void } = {},
): ReplayData {
  const runs = strategies.map((name): RecordedRun => {
    const started = performance.now();
    let clock: VirtualClock | undefined;
    const stream = createInspectionStream({
      // Actors created while the world is built exist at virtual time 0.
      now: () => clock?.now() ?? 0,
      bound: options.bound ?? DEFAULT_STREAM_BOUND,
      label: actorLabel,
      context: essentials,
      ...(options.forward ? { forward: options.forward } : {}),
    });
    let traced = () => 0;
    const traceBefore: number[] = [];
    stream.subscribe(() => traceBefore.push(traced()));
    const run = runScenario(scenario, {
      strategy: name,
      inspect: stream.observer,
      onStart: (world) => {
        clock = world.clock;
        traced = () => world.events.length;
        world.twin.onRelease((i, pid, stops) =>
          world.trace({
            source: 'kernel',
            type: 'kernel.release',
            subject: world.twin.processor(i).name,
            data: { pid, stops },
          }),
        );
      },
    });
    const events = stream.events();
    return {
      strategy: name,
      events,
      dropped: stream.dropped,
      trace: run.trace,
      traceBefore: traceBefore.slice(traceBefore.length - events.length),
      metrics: run.metrics,
      costs: paidCosts(name, run.trace, run.metrics),
      recordMs: Math.round(performance.now() - started),
    };
  });
  return {
    v: STREAM_VERSION,
    mode: 'replay',
    scenario: {
      name: scenario.name,
      description: scenario.description ?? '',
      kernel: scenario.kernel,
      horizonMs: scenario.horizonMs,
      processors: scenario.processors.map((p) => p.name),
      clients: scenario.clients.map((c) => ({ id: c.id, processor: c.processor })),
      timeline: scenario.timeline,
    },
    statechart,
    runs,
  };
}
