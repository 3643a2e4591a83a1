// draw: SVG and HTML for the page — the statechart (laid out by the server from machines/rproc), the
// actor tree, and the swimlane timeline of every strategy on one time axis.

import { activePaths, valueText } from './model.js';
// Built from scenarios/timelineSpans.ts, the same code `compare --html` draws with.
import { bandColor, processSpans, STATE_COLORS, wantSpans } from './timelineSpans.js';

export { bandColor, STATE_COLORS };

/** The CSS class suffix of a kernel state and lock step (`s-running`, `s-booting` …). */
export function stateClass(state, step) {
  if (state === 'offline' && step && step !== 'idle') return 'booting';
  return state in STATE_COLORS ? state : 'unknown';
}

/** Escapes text for HTML and SVG. */
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const r1 = (x) => Math.round(x * 10) / 10;
/** A string made safe for a `data-testid`. */
export const slug = (s) => String(s).replace(/[^A-Za-z0-9_.-]/g, '_');

/**
 * The statechart as an SVG string; the states on the path of `value` are highlighted. `chart` is the
 * server's layout of `rprocMachine` (nodes with absolute boxes, edges with routed points). The
 * machine's states are lock steps (what the holder of `rproc->lock` does), so the active step is
 * tinted with `kernel.state` (`rproc->state`: running, offline …) and labelled with it: `idle` on a
 * running processor is green, on an offline one grey. `value` null draws the chart with nothing active.
 */
export function statechartSvg(chart, value, testid, kernel = null) {
  const active = new Set(activePaths(value).map((p) => `${chart.machine}.${p}`));
  active.add(chart.machine);
  const parts = [];
  for (const n of chart.nodes) {
    const compound = n.type === 'compound' || n.type === 'parallel';
    const on = active.has(n.id) && n.depth > 0;
    const leaf = on && !compound && kernel;
    const cls = `st${compound ? ' compound' : ''}${on ? ' active' : ''}${leaf ? ` k-${stateClass(kernel.state, '')}` : ''}${n.depth === 0 ? ' root' : ''}`;
    parts.push(
      `<g class="${cls}" data-state="${esc(n.path)}"${leaf ? ` data-kernel-state="${esc(kernel.state)}"` : ''}><rect x="${r1(n.x)}" y="${r1(n.y)}" width="${r1(n.width)}" height="${r1(n.height)}" rx="${compound ? 8 : 12}"/>`,
      compound
        ? `<text x="${r1(n.x + 10)}" y="${r1(n.y + 17)}" class="sk">${esc(n.depth === 0 ? `#${n.key}` : n.key)}</text>`
        : `<text x="${r1(n.x + n.width / 2)}" y="${r1(n.y + n.height / 2 + 4)}" text-anchor="middle" class="sk">${esc(n.key)}</text>`,
    );
    if (n.initial) {
      const init = chart.nodes.find((c) => c.id === n.initial);
      if (init)
        parts.push(
          `<circle cx="${r1(init.x - 7)}" cy="${r1(init.y + init.height / 2)}" r="3.5" class="init"/>`,
        );
    }
    if (n.internal.length)
      parts.push(
        `<text x="${r1(n.x + 10)}" y="${r1(n.y + 32)}" class="internal">on: ${esc(n.internal.join(', '))}</text>`,
      );
    if (leaf)
      parts.push(
        `<text x="${r1(n.x + n.width / 2)}" y="${r1(n.y - 4)}" text-anchor="middle" class="kstate">state ${esc(kernel.state)}</text>`,
        `<title>${esc(`lock step ${n.path}; rproc->state ${kernel.state}, power ${kernel.power}`)}</title>`,
      );
    parts.push('</g>');
  }
  for (const e of chart.edges) {
    if (e.points.length < 2) continue;
    const d = e.points.map(([x, y], i) => `${i ? 'L' : 'M'}${r1(x)} ${r1(y)}`).join(' ');
    // Transition labels would crowd a small chart: they are the arrows' tooltips.
    parts.push(
      `<g class="tr-g"><title>${esc(`${e.source.split('.').slice(1).join('.')} → ${e.target.split('.').slice(1).join('.')}: ${e.label}`)}</title><path d="${d}" class="tr-hit"/><path d="${d}" class="tr" marker-end="url(#arrow)"/></g>`,
    );
  }
  return `<svg class="chart${value === null ? ' pending' : ''}" viewBox="0 0 ${chart.width} ${chart.height}" role="img" aria-label="statechart of ${esc(chart.machine)}"${testid ? ` data-testid="${esc(testid)}"` : ''}>
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" class="ah"/></marker></defs>
${parts.join('\n')}</svg>`;
}

/**
 * The actor tree as nested lists: each actor with its machine and state, under its parent (the actor
 * that spawned or invoked it); ended ones greyed with their status. `key` scopes the test ids.
 */
export function actorTreeHtml(roots, key) {
  const item = (n, parent) => {
    const ended = n.status !== 'active';
    const state = n.value === null || n.value === undefined ? '' : valueText(n.value);
    // A processor's machine is named after its device (remoteproc0); its context names the processor.
    const proc =
      n.machine === 'rproc' && n.context?.name ? ` <span class="ap">${esc(n.context.name)}</span>` : '';
    const kids = n.children.length ? `<ul>${n.children.map((c) => item(c, n)).join('')}</ul>` : '';
    return `<li class="${ended ? 'ended' : ''}" data-testid="actor-${slug(key)}-${slug(n.name)}" data-actor="${esc(n.id)}" data-parent="${esc(parent?.name ?? '')}" data-status="${esc(n.status)}"><span class="an">${esc(n.name)}</span>${proc}${n.machine ? ` <span class="am">${esc(n.machine)}</span>` : ''}${state ? ` <span class="av">${esc(state)}</span>` : ''}${ended ? ` <span class="as">${esc(n.status)}</span>` : ''}${kids}</li>`;
  };
  return roots.length
    ? `<ul class="tree-root">${roots.map((r) => item(r, null)).join('')}</ul>`
    : '<p class="none">No actors yet.</p>';
}

function tickStep(horizon) {
  for (const m of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000])
    if (horizon / (m * 10) <= 12) return m * 10;
  return 10 ** Math.ceil(Math.log10(horizon / 10));
}

const LEFT = 170;
const BAND = 18;
const LANE = 16;

/**
 * The swimlane timeline: for each run, processor state bands, client and process lifelines, fault and
 * kernel-release markers; a cursor at `now`. Returns `{ svg, width, x }` (x maps time to px).
 */
export function timelineSvg({ runs, horizon, processors, clients, now, width, axisLabel }) {
  const right = width - 16;
  const x = (t) => LEFT + (Math.min(Math.max(t, 0), horizon) / horizon) * (right - LEFT);
  const body = [];
  const marks = [];
  let y = 8;
  runs.forEach((run, r) => {
    const trace = run.trace;
    const key = slug(run.title);
    body.push(`<text x="8" y="${y + 12}" class="lane-title">${esc(run.title)}</text>`);
    y += 20;
    const top = y - 4;
    for (const p of processors) {
      body.push(`<text x="${LEFT - 8}" y="${y + 13}" text-anchor="end" class="rl">${esc(p)}</text>`);
      const states = trace.filter((e) => e.type === 'rproc.state' && e.subject === p);
      states.forEach((e, i) => {
        const next = states[i + 1]?.t ?? horizon;
        const x0 = x(e.t);
        const w = Math.max(x(next) - x0, e.data.state === 'crashed' ? 3 : 0);
        if (w > 0)
          body.push(
            `<rect x="${r1(x0)}" y="${y}" width="${r1(w)}" height="${BAND}" fill="${bandColor(e.data.state, e.data.step)}"><title>${esc(`${p} ${e.data.state} (${e.data.step}), power ${e.data.power}, ${e.t}–${next} ms`)}</title></rect>`,
          );
      });
      for (const e of trace) {
        if (e.type !== 'kernel.release' || e.subject !== p) continue;
        marks.push(
          `<path d="M${r1(x(e.t))} ${y - 2} l5 5 l-5 5 l-5 -5 z" class="mk-release" data-testid="marker-release-${key}" data-t="${e.t}"><title>${esc(`kernel release of ${p} by pid ${e.data?.pid}${e.data?.stops ? ' (shutdown-on-release: stops it)' : ''} at ${e.t} ms`)}</title></path>`,
        );
      }
      y += BAND + 6;
    }
    const spans = processSpans(trace, horizon);
    const lifeline = (label, name, cls) => {
      body.push(`<text x="${LEFT - 8}" y="${y + 4}" text-anchor="end" class="rl sub">${esc(label)}</text>`);
      for (const s of spans.get(name) ?? [])
        body.push(`<line x1="${r1(x(s.from))}" x2="${r1(x(s.to))}" y1="${y}" y2="${y}" class="${cls}"/>`);
      return y;
    };
    for (const c of clients) {
      const cy = lifeline(`client ${c.id}`, `client:${c.id}`, 'alive');
      for (const s of wantSpans(trace, c.id, horizon))
        body.push(`<line x1="${r1(x(s.from))}" x2="${r1(x(s.to))}" y1="${cy}" y2="${cy}" class="wants"/>`);
      for (const e of trace)
        if (e.type === 'client.processor.crashed' && e.subject === c.id)
          marks.push(
            `<circle cx="${r1(x(e.t))}" cy="${cy}" r="4" class="notice"><title>${esc(`${c.id} told: crashed at ${e.t} ms`)}</title></circle>`,
          );
      y += LANE;
    }
    for (const name of spans.keys()) {
      if (name === 'init' || name.startsWith('client:')) continue;
      lifeline(name, name, name === 'monitor' ? 'monitor' : 'proc');
      y += LANE;
    }
    for (const e of trace) {
      const kind = e.type === 'scenario.kill' ? 'kill' : e.type === 'scenario.crash' ? 'crash' : null;
      if (!kind) continue;
      const text = kind === 'kill' ? `${e.data?.signal ?? 'SIGKILL'} ${e.subject}` : `crash ${e.subject}`;
      marks.push(
        `<g class="mk mk-${kind}" data-t="${e.t}" role="button" aria-label="${esc(`${text} at ${e.t} ms`)}"><line x1="${r1(x(e.t))}" x2="${r1(x(e.t))}" y1="${top}" y2="${y - 8}"/><path d="M${r1(x(e.t))} ${top} l-6 -9 h12 z" data-testid="marker-${kind}-${slug(e.subject)}-${key}" data-t="${e.t}"/><text x="${r1(x(e.t) + 7)}" y="${top - 2}">${esc(text)}</text></g>`,
      );
    }
    y += 8;
    if (r < runs.length - 1)
      body.push(`<line x1="0" x2="${width}" y1="${y - 4}" y2="${y - 4}" class="sep"/>`);
  });
  const bottom = y;
  const step = tickStep(horizon);
  const axis = [];
  for (let t = 0; t <= horizon; t += step)
    axis.push(
      `<line x1="${r1(x(t))}" x2="${r1(x(t))}" y1="4" y2="${bottom}" class="grid"/>`,
      `<text x="${r1(x(t))}" y="${bottom + 14}" text-anchor="middle" class="tick">${t >= 1000 ? `${t / 1000}s` : `${t}ms`}</text>`,
    );
  axis.push(`<text x="8" y="${bottom + 14}" class="tick">${esc(axisLabel)}</text>`);
  const cursor = `<line x1="${r1(x(now))}" x2="${r1(x(now))}" y1="0" y2="${bottom + 2}" class="cursor" data-testid="timeline-cursor"/>`;
  const height = bottom + 22;
  return {
    svg: `<svg class="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" data-left="${LEFT}" data-right="${right}">${axis.join('')}${body.join('')}${marks.join('')}${cursor}</svg>`,
    toTime: (px) => Math.round(((px - LEFT) / (right - LEFT)) * horizon),
  };
}
