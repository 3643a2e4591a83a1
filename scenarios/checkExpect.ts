// checkExpect: compares a run's metrics with its scenario's `expect` block.

import type { Metrics } from './metrics.js';
import type { ExpectBound, MetricName, Scenario, StrategyName } from './scenarioSchema.js';

/** One expectation that did not hold. */
export interface ExpectFailure {
  scenario: string;
  strategy: StrategyName;
  metric: MetricName;
  expected: ExpectBound;
  actual: Metrics[MetricName];
}

function holds(bound: ExpectBound, actual: Metrics[MetricName]): boolean {
  const value = typeof actual === 'object' && actual !== null ? actual.notified : actual;
  if (bound === null) return actual === null;
  if (typeof bound === 'number') return value === bound;
  if ('notified' in bound)
    return typeof actual === 'object' && actual?.notified === bound.notified && actual.of === bound.of;
  if (value === null) return false;
  return (bound.min === undefined || value >= bound.min) && (bound.max === undefined || value <= bound.max);
}

/** The expectations of `scenario` for `strategy` that `metrics` breaks. */
export function checkExpect(scenario: Scenario, strategy: StrategyName, metrics: Metrics): ExpectFailure[] {
  const failures: ExpectFailure[] = [];
  const bounds = scenario.expect?.[strategy] ?? {};
  for (const [metric, bound] of Object.entries(bounds) as Array<[MetricName, ExpectBound]>) {
    if (!holds(bound, metrics[metric])) {
      failures.push({ scenario: scenario.name, strategy, metric, expected: bound, actual: metrics[metric] });
    }
  }
  return failures;
}

/** `orphanMs expected {"min":1}, got 0`. */
export function describeFailure(f: ExpectFailure): string {
  return `${f.scenario} · ${f.strategy}: ${f.metric} expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.actual)}`;
}
