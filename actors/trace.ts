// Trace: the timestamped events of a simulated run, from the kernel, the processes, the strategy and the scenario.

/** Who recorded an event. */
export type TraceSource = 'kernel' | 'process' | 'strategy' | 'scenario';

/** One event of a run. `type` is dotted lowercase (`process.exit`, `rproc.state`, `monitor.stop`). */
export interface TraceEvent {
  /** Virtual time, ms. */
  t: number;
  source: TraceSource;
  type: string;
  /** The process, processor or client concerned, when there is one. */
  subject?: string;
  /** Anything else worth showing, as JSON-safe data. */
  data?: Record<string, unknown>;
}

/** Where events go. */
export type TraceSink = (event: Omit<TraceEvent, 't'>) => void;
