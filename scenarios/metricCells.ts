// metricCells: how a metric reads in a table, and which values are bad — one rule for `compare`'s table, its HTML
// report and the inspector's page. It imports nothing at run time, so its build (dist/scenarios/metricCells.js) is
// served to the browser as it is.

import type { Metrics } from './metrics.js';

/** The metrics of a run (design.md, Measures), in the order every table shows them. */
export const METRIC_NAMES = [
  'orphanMs',
  'unavailableMs',
  'wrongfulStops',
  'stopLatencyMs',
  'leakedRefs',
  'crashNotices',
] as const;
/** One metric name. */
export type MetricName = (typeof METRIC_NAMES)[number];

/** One cell of a metrics table: the text every table shows, and whether it marks a defect. */
export interface MetricCell {
  text: string;
  bad: boolean;
}

/**
 * The cell of metric `name` in a strategy's row. The text: a number as it is, `never` for a
 * `stopLatencyMs` of null, `notified/of` for `crashNotices`.
 *
 * A value is bad when it shows a defect of the strategy in this scenario, whatever the kernel's own
 * timings: a wrongful stop (`wrongfulStops` above 0); a reference leaked or missing (`leakedRefs` not
 * 0: -1 is a processor stopped under a client that should hold it); a processor that never stops for
 * nobody (`stopLatencyMs` never); a client not told of a crash (`crashNotices` notified below of).
 * `orphanMs` and `unavailableMs` are never bad on their own: every strategy accrues some while a
 * processor boots or stops, so they are read against the other strategies' values, not against 0.
 *
 * @example
 * metricCell(run.metrics, 'stopLatencyMs'); // { text: 'never', bad: true }
 */
export function metricCell(metrics: Metrics, name: MetricName): MetricCell {
  switch (name) {
    case 'stopLatencyMs': {
      const v = metrics.stopLatencyMs;
      return v === null ? { text: 'never', bad: true } : { text: String(v), bad: false };
    }
    case 'crashNotices': {
      const { notified, of } = metrics.crashNotices;
      return { text: `${notified}/${of}`, bad: notified < of };
    }
    case 'wrongfulStops':
      return { text: String(metrics.wrongfulStops), bad: metrics.wrongfulStops > 0 };
    case 'leakedRefs':
      return { text: String(metrics.leakedRefs), bad: metrics.leakedRefs !== 0 };
    case 'orphanMs':
    case 'unavailableMs':
      return { text: String(metrics[name]), bad: false };
  }
}
