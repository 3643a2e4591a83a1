// runScenario: runs one scenario against one strategy in virtual time; returns its metrics and trace.

import type { TraceEvent } from '../actors/trace.js';
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

/**
 * Runs `scenario` with `strategy` from 0 to `horizonMs` of virtual time. Deterministic: the same
 * scenario gives the same metrics and trace, event for event.
 *
 * @example
 * const parsed = parseScenario(JSON.parse(text));
 * if (parsed.ok) console.log(runScenario(parsed.value, { strategy: 'hybrid' }).metrics.orphanMs);
 */
export function runScenario(scenario: Scenario, { strategy: name }: { strategy: StrategyName }): ScenarioRun {
  const started = startRun(scenario, name);
  const { world, run } = started;
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
