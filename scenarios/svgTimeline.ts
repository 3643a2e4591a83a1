// svgTimeline: one run's trace as an inline SVG timeline (processor state bands, lifelines, fault markers).

import type { ScenarioRun } from './runScenario.js';
import type { Scenario } from './scenarioSchema.js';
import { bandColor, processSpans, type Span, STATE_COLORS, wantSpans } from './timelineSpans.js';

export { bandColor, STATE_COLORS };

/** Escapes text for HTML/SVG text and attribute values. */
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Marker and lifeline colours. */
export const MARK_COLORS = {
  kill: '#e06000',
  crash: '#d62728',
  noop: '#9a9a9a',
  client: '#1f4e79',
  process: '#6b5b95',
} as const;

const WIDTH = 900;
const LEFT = 150;
const RIGHT = WIDTH - 20;
const BAND = 22;
const n = (x: number): string => String(Math.round(x * 10) / 10);
const clip = (s: string, max = 22): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const textWidth = (s: string): number => s.length * 5.6;

/** A tick step giving at most ~10 ticks over `horizon`. */
function tickStep(horizon: number): number {
  for (const m of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000]) {
    if (horizon / (m * 100) <= 10) return m * 100;
  }
  return 10 ** Math.ceil(Math.log10(horizon / 10));
}

/** Renders one run as an SVG timeline, `WIDTH` wide, time 0…horizonMs. */
export function renderTimeline(scenario: Scenario, run: ScenarioRun): string {
  const end = scenario.horizonMs;
  const x = (t: number) => LEFT + (Math.min(Math.max(t, 0), end) / end) * (RIGHT - LEFT);
  const trace = run.trace;
  const procs = processSpans(trace, end);
  const body: string[] = [];
  const overlay: string[] = [];
  const label = (y: number, text: string, sub = '') =>
    body.push(
      `<text x="${LEFT - 8}" y="${n(y + 4)}" text-anchor="end" class="rl">${esc(clip(text))}${
        sub ? `<tspan class="sub"> ${esc(clip(sub, 12))}</tspan>` : ''
      }</text>`,
    );
  // Fault markers, their labels in up to three lanes above the plot.
  const lanes = [-Infinity, -Infinity, -Infinity];
  const faults: Array<{
    kind: keyof typeof MARK_COLORS;
    text: string;
    mx: number;
    tx: number;
    ly: number;
    flip: boolean;
  }> = [];
  for (const e of trace) {
    if (e.t > end || !e.subject) continue;
    const signal = String(e.data?.signal ?? '');
    const kind =
      e.type === 'scenario.kill'
        ? 'kill'
        : e.type === 'scenario.crash'
          ? 'crash'
          : e.type === 'scenario.noop'
            ? 'noop'
            : null;
    if (!kind) continue;
    const text =
      kind === 'kill'
        ? `${signal} ${e.subject}`
        : kind === 'crash'
          ? `crash ${e.subject}`
          : `no-op ${signal} ${e.subject}`;
    const mx = x(e.t);
    const w = textWidth(text);
    const flip = mx + 3 + w > WIDTH;
    const [x0, x1] = flip ? [mx - 3 - w, mx - 3] : [mx + 3, mx + 3 + w];
    let lane = lanes.findIndex((l) => l <= x0);
    if (lane < 0) lane = lanes.indexOf(Math.min(...lanes));
    lanes[lane] = x1 + 6;
    faults.push({ kind, text, mx, tx: flip ? x1 : x0, ly: 12 + lane * 12, flip });
  }
  const head = 14 + 12 * lanes.filter((l) => l > -Infinity).length;
  let y = head;
  const rowY = new Map<string, number>();

  for (const p of scenario.processors) {
    const states = trace.filter((e) => e.type === 'rproc.state' && e.subject === p.name && e.t <= end);
    label(y + BAND / 2, p.name);
    let lastPower: number | null = null;
    const powers: Array<{ x: number; text: string }> = [];
    states.forEach((e, i) => {
      const d = e.data as { state: string; power: number; step: string };
      const next = states[i + 1]?.t ?? end;
      const x0 = x(e.t);
      if (x(next) > x0) {
        // Crashed spans are often a few ms: drawn on top, at least 4 px wide, so they stay visible.
        const crashed = d.state === 'crashed';
        (crashed ? overlay : body).push(
          `<rect x="${n(x0)}" y="${y}" width="${n(Math.max(x(next) - x0, crashed ? 4 : 0))}" height="${BAND}" fill="${bandColor(d.state, d.step)}"${crashed ? ' class="crashed"' : ''}><title>${esc(`${p.name} ${d.state} (${d.step}), power ${d.power}, ${e.t}–${next} ms`)}</title></rect>`,
        );
      }
      if (states[i + 1]?.t === e.t || d.power === lastPower) return; // superseded at once, or unchanged
      lastPower = d.power;
      const text = `power ${d.power}`;
      const last = powers.at(-1);
      if (last && x0 < last.x + textWidth(last.text)) powers.pop(); // the later count wins a collision
      powers.push({ x: Math.min(x0 + 2, RIGHT - textWidth(text)), text });
    });
    for (const pw of powers)
      overlay.push(`<text x="${n(pw.x)}" y="${y + BAND - 6}" class="pw">${pw.text}</text>`);
    y += BAND + 10;
  }

  const lifeline = (name: string, spans: Span[], cls: string) => {
    for (const s of spans)
      body.push(`<line x1="${n(x(s.from))}" x2="${n(x(s.to))}" y1="${y}" y2="${y}" class="${cls}"/>`);
    rowY.set(name, y);
  };
  for (const c of scenario.clients) {
    label(y, `client ${c.id}`, `→ ${c.processor}`);
    lifeline(`client:${c.id}`, procs.get(`client:${c.id}`) ?? [], 'alive');
    for (const s of wantSpans(trace, c.id, end))
      body.push(`<line x1="${n(x(s.from))}" x2="${n(x(s.to))}" y1="${y}" y2="${y}" class="wants"/>`);
    y += 22;
  }
  for (const [name, spans] of procs) {
    if (name === 'init' || name.startsWith('client:')) continue;
    label(y, name);
    lifeline(name, spans, 'proc');
    y += 22;
  }
  const bottom = y - 6;

  // Ticks and grid.
  const step = tickStep(end);
  const axis: string[] = [];
  for (let t = 0; t <= end; t += step) {
    axis.push(
      `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${head - 4}" y2="${bottom + 4}" class="grid"/>`,
      `<text x="${n(x(t))}" y="${bottom + 18}" text-anchor="middle" class="tick">${t / 1000}s</text>`,
    );
  }

  const lines = faults.map(
    (f) => `<line x1="${n(f.mx)}" x2="${n(f.mx)}" y1="${f.ly - 8}" y2="${bottom + 4}" class="m-${f.kind}"/>`,
  );
  const marks = faults.map(
    (f) =>
      `<text x="${n(f.tx)}" y="${f.ly}" class="ml" fill="${MARK_COLORS[f.kind]}"${f.flip ? ' text-anchor="end"' : ''}>${esc(f.text)}</text>`,
  );

  // Crash notices received by clients: dots on their lifelines.
  for (const e of trace) {
    if (e.type !== 'client.processor.crashed' || !e.subject || e.t > end) continue;
    const cy = rowY.get(`client:${e.subject}`);
    if (cy !== undefined)
      marks.push(
        `<circle cx="${n(x(e.t))}" cy="${cy}" r="4.5" class="notice"><title>${esc(`${e.subject} told: ${String(e.data?.processor ?? '')} crashed at ${e.t} ms`)}</title></circle>`,
      );
  }

  const height = bottom + 28;
  const title = `${scenario.name} · ${run.strategy}`;
  return [
    `<svg width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${esc(title)}">`,
    `<title>${esc(title)}</title>`,
    ...axis,
    ...lines,
    ...body,
    ...overlay,
    ...marks,
    '</svg>',
  ].join('\n');
}

/** The CSS the SVG classes use. */
export const TIMELINE_CSS = `
svg { display: block; background: #fff; border: 1px solid #ddd; font-family: system-ui, sans-serif; }
svg .rl { font-size: 12px; fill: #222; }
svg .sub { font-size: 10px; fill: #777; }
svg .pw { font-size: 10px; fill: #111; stroke: #fff; stroke-width: 2.5px; paint-order: stroke; }
svg .tick { font-size: 11px; fill: #555; }
svg .ml { font-size: 10px; font-weight: 600; }
svg .grid { stroke: #eee; stroke-width: 1; }
svg .alive { stroke: ${MARK_COLORS.client}; stroke-width: 1.5; stroke-dasharray: 4 3; stroke-linecap: round; }
svg .wants { stroke: ${MARK_COLORS.client}; stroke-width: 5; stroke-linecap: butt; }
svg .proc { stroke: ${MARK_COLORS.process}; stroke-width: 3; stroke-linecap: round; }
svg .m-kill { stroke: ${MARK_COLORS.kill}; stroke-width: 1.5; }
svg .m-crash { stroke: ${MARK_COLORS.crash}; stroke-width: 1.5; stroke-dasharray: 5 2; }
svg .m-noop { stroke: ${MARK_COLORS.noop}; stroke-width: 1; stroke-dasharray: 2 3; }
svg .notice { fill: ${STATE_COLORS.crashed}; stroke: #fff; stroke-width: 1.5; }
`;
