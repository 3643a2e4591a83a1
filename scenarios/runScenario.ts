// runScenario: runs one scenario against one strategy in virtual time; returns its metrics and trace.

import type { InspectionEvent } from 'xstate';
import type { TraceEvent } from '../actors/trace.js';
import type { World } from '../actors/World.js';
import { computeMetrics, type Metrics } from './metrics.js';
import type { Scenario, StrategyName } from './scenarioSchema.js';
import { applyEvent, startRun } from './startRun.js';

/** The outcome of one (scenario, strategy) run. */
export interface ScenarioRun {
  scenario: string;
  strategy: StrategyName;
  metrics: Metrics;
  trace: TraceEvent[];
}

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  strategy: StrategyName;
  /** XState's inspection observer, attached to every actor the run creates (the inspector's replay). */
  inspect?: (event: InspectionEvent) => void;
  /**
   * Called with the world once the strategy has started, before the first timeline event: to watch the
   * run. What it adds to the trace is returned in `trace`; the metrics read only the event types they
   * are computed from (see {@link computeMetrics}), so they stay those `compare` prints.
   */
  onStart?: (world: World) => void;
}

/**
 * Runs `scenario` with `strategy` from 0 to `horizonMs` of virtual time: the one timeline loop, for
 * `compare` and the inspector's recording alike. Deterministic: the same scenario gives the same
 * metrics and trace, event for event.
 *
 * @example
 * const parsed = parseScenario(JSON.parse(text));
 * if (parsed.ok) console.log(runScenario(parsed.value, { strategy: 'hybrid' }).metrics.orphanMs);
 */
export function runScenario(scenario: Scenario, options: RunScenarioOptions): ScenarioRun {
  const name = options.strategy;
  const started = startRun(scenario, name, options.inspect ? { inspect: options.inspect } : {});
  const { world, run } = started;
  options.onStart?.(world);
  for (const e of scenario.timeline) world.clock.setTimeout(() => applyEvent(started, e), e.at);
  world.clock.advanceTo(scenario.horizonMs);
  const clientProcessor = new Map(scenario.clients.map((c) => [c.id, c.processor]));
  const metrics = computeMetrics(
    world.events,
    scenario.processors,
    clientProcessor,
    scenario.horizonMs,
    (p, n) => run.expectedRefs(p, n),
  );
  world.twin.stop();
  return { scenario: scenario.name, strategy: name, metrics, trace: world.events };
}
