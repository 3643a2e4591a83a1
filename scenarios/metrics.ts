// metrics: the comparison's measures (design.md, Measures), computed from a run's trace alone.

import type { TraceEvent } from '../actors/trace.js';
import { isPowered, isRunningState } from '../machines/powered.js';
import { observeStop, type StopWatch, startWatch } from './wrongfulStop.js';

/** The measures of one run, summed over processors. */
export interface Metrics {
  /** Powered (booting, running, attached, crashed, recovering) while no live client wants it. */
  orphanMs: number;
  /** A live client wants it and it is not running. */
  unavailableMs: number;
  /** running → offline by a stop (not a crash) that began while a live client wanted it. */
  wrongfulStops: number;
  /** Worst time from "nobody wants it" to offline; null when it never stops within the horizon. */
  stopLatencyMs: number | null;
  /** Power count at the end minus the references live wanting clients should hold. */
  leakedRefs: number;
  /** Of the clients wanting it when its firmware crashed, how many were told. */
  crashNotices: { notified: number; of: number };
}

interface Track extends StopWatch {
  power: number;
  want: Set<string>;
  since: number;
  pendingStop: number | null;
  crashes: Array<{ t: number; wanting: Set<string>; told: Set<string> }>;
}

/**
 * Computes {@link Metrics} from `events` (kernel `rproc.state` events, `client.wants`/`client.done`,
 * `client.processor.crashed` notices) over `[0, horizonMs]`. `expectedRefs(processor, wanting)` is the
 * strategy's own count of legitimate references.
 */
export function computeMetrics(
  events: readonly TraceEvent[],
  processors: ReadonlyArray<{ name: string; initial?: string }>,
  clientProcessor: ReadonlyMap<string, string>,
  horizonMs: number,
  expectedRefs: (processor: string, wanting: number) => number,
): Metrics {
  const m: Metrics = {
    orphanMs: 0,
    unavailableMs: 0,
    wrongfulStops: 0,
    stopLatencyMs: 0,
    leakedRefs: 0,
    crashNotices: { notified: 0, of: 0 },
  };
  let neverStops = false;
  const tracks = new Map<string, Track>();
  for (const p of processors) {
    tracks.set(p.name, {
      ...startWatch(p.initial ?? 'offline'),
      power: 0,
      want: new Set(),
      since: 0,
      pendingStop: null,
      crashes: [],
    });
  }
  const advance = (tr: Track, t: number) => {
    const dt = t - tr.since;
    if (dt > 0) {
      const powered = isPowered(tr.state, tr.step);
      if (powered && tr.want.size === 0) m.orphanMs += dt;
      if (tr.want.size > 0 && !isRunningState(tr.state)) m.unavailableMs += dt;
    }
    tr.since = t;
  };
  const settleStop = (tr: Track, t: number) => {
    if (tr.pendingStop !== null && !isPowered(tr.state, tr.step)) {
      m.stopLatencyMs = Math.max(m.stopLatencyMs ?? 0, t - tr.pendingStop);
      tr.pendingStop = null;
    }
  };
  for (const e of events) {
    if (e.t > horizonMs) break;
    if (e.type === 'rproc.state' && e.subject) {
      const tr = tracks.get(e.subject);
      if (!tr) continue;
      advance(tr, e.t);
      const d = e.data as { state: string; step: string; power: number };
      const seen = observeStop(tr, d, () => tr.want.size > 0);
      if (seen.wrongful) m.wrongfulStops++;
      tr.stopWanted = seen.watch.stopWanted;
      if (d.state === 'crashed' && tr.state !== 'crashed')
        tr.crashes.push({ t: e.t, wanting: new Set(tr.want), told: new Set() });
      tr.state = d.state;
      tr.step = d.step;
      tr.power = d.power;
      settleStop(tr, e.t);
    } else if ((e.type === 'client.wants' || e.type === 'client.done') && e.subject) {
      const tr = tracks.get(clientProcessor.get(e.subject) ?? '');
      if (!tr) continue;
      advance(tr, e.t);
      const before = tr.want.size;
      if (e.type === 'client.wants') tr.want.add(e.subject);
      else tr.want.delete(e.subject);
      if (before > 0 && tr.want.size === 0) {
        tr.pendingStop = e.t;
        settleStop(tr, e.t);
      } else if (tr.want.size > 0) tr.pendingStop = null;
    } else if (e.type === 'client.processor.crashed' && e.subject) {
      const tr = tracks.get(String((e.data as { processor?: string })?.processor));
      const last = tr?.crashes.at(-1);
      if (last?.wanting.has(e.subject)) last.told.add(e.subject);
    }
  }
  for (const tr of tracks.values()) {
    advance(tr, horizonMs);
    if (tr.pendingStop !== null) neverStops = true;
    for (const c of tr.crashes) {
      m.crashNotices.of += c.wanting.size;
      m.crashNotices.notified += c.told.size;
    }
  }
  for (const [name, tr] of tracks) m.leakedRefs += tr.power - expectedRefs(name, tr.want.size);
  if (neverStops) m.stopLatencyMs = null;
  return m;
}
