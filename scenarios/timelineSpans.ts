// timelineSpans: what a timeline draws, read from a trace — shared by `compare --html` and the inspector's
// page. It imports nothing at run time, so its build (dist/scenarios/timelineSpans.js) is served to the
// browser as it is.

import type { TraceEvent } from '../actors/trace.js';

/** Band colours: kernel states, plus `booting` (offline with a step under way: booting, attaching, recovering). */
export const STATE_COLORS = {
  offline: '#c4c4c4',
  booting: '#9ecae1',
  running: '#3a9d3a',
  attached: '#14867f',
  crashed: '#d62728',
  detached: '#9467bd',
  suspended: '#e8a33d',
  deleted: '#4a4a4a',
} as const;

/** The band colour of a kernel state and lock step (`booting` while offline with a step under way). */
export function bandColor(state: string, step?: string): string {
  if (state === 'offline' && step && step !== 'idle') return STATE_COLORS.booting;
  return (STATE_COLORS as Record<string, string>)[state] ?? '#ff00ff';
}

/** A time span, ms. */
export interface Span {
  from: number;
  to: number;
}

/** Alive spans of each process (`process.start`/`process.fork` to `process.exit`), in order of first start. */
export function processSpans(trace: readonly TraceEvent[], end: number): Map<string, Span[]> {
  const out = new Map<string, Span[]>();
  const open = new Map<string, Span>();
  for (const e of trace) {
    if (!e.subject || e.t > end) continue;
    const key = String(e.data?.pid ?? e.subject);
    if (e.type === 'process.start' || e.type === 'process.fork') {
      const span = { from: e.t, to: end };
      open.set(key, span);
      out.set(e.subject, [...(out.get(e.subject) ?? []), span]);
    } else if (e.type === 'process.exit') {
      const span = open.get(key);
      if (span) span.to = e.t;
      open.delete(key);
    }
  }
  return out;
}

/** Spans during which client `id` wants its processor (`client.wants` to `client.done`). */
export function wantSpans(trace: readonly TraceEvent[], id: string, end: number): Span[] {
  const out: Span[] = [];
  let from: number | null = null;
  for (const e of trace) {
    if (e.subject !== id || e.t > end) continue;
    if (e.type === 'client.wants' && from === null) from = e.t;
    else if (e.type === 'client.done' && from !== null) {
      out.push({ from, to: e.t });
      from = null;
    }
  }
  if (from !== null) out.push({ from, to: end });
  return out;
}
