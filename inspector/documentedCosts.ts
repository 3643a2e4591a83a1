// documentedCosts: the one table of what a strategy pays by design (docs/explore.md), and where a run paid it.

import type { TraceEvent } from '../actors/trace.js';
import type { Metrics } from '../scenarios/metrics.js';

/** A metric a strategy is documented to pay, and the trace events that show a run paying it. */
export interface DocumentedCost {
  /** Stable id: `hybrid.fail-safe-stop`. */
  id: string;
  strategy: string;
  /** The metrics it shows up in. */
  metrics: ReadonlyArray<keyof Metrics>;
  /** A short name for the page: "hybrid's fail-safe stop". */
  title: string;
  /** What happens and why it is the strategy's choice, in one or two sentences. */
  text: string;
  /** Where it is documented (a repository path and section). */
  doc: string;
  /** The trace events at which a run paid it (its trace as `recordReplay` records it). */
  paid(trace: readonly TraceEvent[]): TraceEvent[];
}

/** The kernel releases (the last descriptor of a `/dev/remoteprocN` closed) by a monitor process. */
const monitorReleases = (trace: readonly TraceEvent[], stops: boolean): TraceEvent[] => {
  const monitors = new Set<unknown>();
  for (const e of trace) if (e.type === 'process.start' && e.subject === 'monitor') monitors.add(e.data?.pid);
  return trace.filter(
    (e) => e.type === 'kernel.release' && monitors.has(e.data?.pid) && Boolean(e.data?.stops) === stops,
  );
};

/** Every documented cost, once: the page's footnotes and tooltips are read from here. */
export const DOCUMENTED_COSTS: readonly DocumentedCost[] = [
  {
    id: 'hybrid.fail-safe-stop',
    strategy: 'hybrid',
    metrics: ['wrongfulStops', 'unavailableMs'],
    title: 'hybrid’s fail-safe stop',
    text:
      'When the daemon dies, the kernel’s release of its /dev/remoteprocN descriptor (shutdown-on-release) ' +
      'stops the processor, even under live clients, and it stays stopped until a client registers with a ' +
      'daemon again. hybrid chooses this over leaving a processor running that nobody supervises: ' +
      'explore does not count it as a wrongful stop.',
    doc: 'docs/explore.md, “hybrid’s documented fail-safe and bound”',
    paid: (trace) => monitorReleases(trace, true),
  },
  {
    id: 'hybrid.bound',
    strategy: 'hybrid',
    metrics: ['orphanMs', 'leakedRefs'],
    title: 'hybrid’s documented bound',
    text:
      'When the daemon dies while its processor is crashed or recovering, the kernel’s release does ' +
      'nothing (kernel-semantics §5.4, §8.3): the processor comes back holding the daemon’s reference ' +
      'and runs until a daemon starts again and reconciles it.',
    doc: 'docs/explore.md, “hybrid’s documented fail-safe and bound”',
    paid: (trace) => monitorReleases(trace, false),
  },
];

/** A documented cost a run paid, as the page shows it. Plain JSON. */
export interface PaidCost {
  id: string;
  title: string;
  text: string;
  doc: string;
  /** Those of the cost's metrics that are non-zero in this run. */
  metrics: Array<keyof Metrics>;
  /** When and on which processor it was paid. */
  at: Array<{ t: number; processor: string }>;
}

/**
 * The documented costs `strategy` paid in a run: those whose trace events occur in `trace` and
 * whose metrics are non-zero in `metrics`.
 *
 * @example
 * paidCosts('hybrid', run.trace, run.metrics); // [{ id: 'hybrid.fail-safe-stop', metrics: ['wrongfulStops', 'unavailableMs'], at: [{ t: 3000, processor: 'm4' }], … }]
 */
export function paidCosts(strategy: string, trace: readonly TraceEvent[], metrics: Metrics): PaidCost[] {
  const out: PaidCost[] = [];
  for (const cost of DOCUMENTED_COSTS) {
    if (cost.strategy !== strategy) continue;
    const events = cost.paid(trace);
    const shown = cost.metrics.filter((m) => {
      const v = metrics[m];
      return typeof v === 'number' && v !== 0;
    });
    if (!events.length || !shown.length) continue;
    out.push({
      id: cost.id,
      title: cost.title,
      text: cost.text,
      doc: cost.doc,
      metrics: shown,
      at: events.map((e) => ({ t: e.t, processor: e.subject ?? '' })),
    });
  }
  return out;
}
