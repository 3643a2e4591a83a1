// htmlReport: the `compare --html` page: per scenario, a timeline per strategy and a metrics table.

import { METRIC_NAMES, metricCell } from './metricCells.js';
import type { ScenarioRun } from './runScenario.js';
import type { Scenario } from './scenarioSchema.js';
import { esc, MARK_COLORS, renderTimeline, STATE_COLORS, TIMELINE_CSS } from './svgTimeline.js';

/** What {@link renderHtmlReport} draws: each scenario with its runs, in order. */
export interface HtmlReportInput {
  scenarios: Array<{ scenario: Scenario; runs: ScenarioRun[] }>;
}

const CSS = `
body { font-family: system-ui, sans-serif; color: #222; margin: 24px; max-width: 960px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 4px; padding-top: 12px; border-top: 2px solid #ccc; }
h3 { font-size: 14px; margin: 16px 0 4px; font-family: ui-monospace, monospace; }
p.desc { margin: 0 0 8px; color: #444; }
p.meta { margin: 0 0 8px; color: #777; font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin: 8px 0; color: #333; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.sw { display: inline-block; width: 16px; height: 11px; }
.ln { display: inline-block; width: 22px; height: 0; }
.vm { display: inline-block; width: 0; height: 13px; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; background: ${STATE_COLORS.crashed}; }
table { border-collapse: collapse; margin: 14px 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; font-family: ui-monospace, monospace; }
td.bad { color: #b00000; font-weight: 600; }
${TIMELINE_CSS}`;

function legend(): string {
  const band = (label: string, color: string) =>
    `<span><i class="sw" style="background:${color}"></i>${esc(label)}</span>`;
  const line = (label: string, style: string) =>
    `<span><i class="ln" style="${style}"></i>${esc(label)}</span>`;
  const mark = (label: string, border: string) =>
    `<span><i class="vm" style="border-left:${border}"></i>${esc(label)}</span>`;
  return [
    '<div class="legend">',
    band('offline', STATE_COLORS.offline),
    band('booting / attaching / recovering', STATE_COLORS.booting),
    band('running', STATE_COLORS.running),
    band('attached', STATE_COLORS.attached),
    band('crashed', STATE_COLORS.crashed),
    band('detached', STATE_COLORS.detached),
    band('suspended', STATE_COLORS.suspended),
    band('deleted', STATE_COLORS.deleted),
    '</div><div class="legend">',
    line('client wants its processor', `border-top:5px solid ${MARK_COLORS.client}`),
    line('client alive, not wanting', `border-top:2px dashed ${MARK_COLORS.client}`),
    line('monitor / script / child alive', `border-top:3px solid ${MARK_COLORS.process}`),
    mark('kill (signal)', `2px solid ${MARK_COLORS.kill}`),
    mark('firmware crash', `2px dashed ${MARK_COLORS.crash}`),
    mark('no-op fault (no such process)', `2px dotted ${MARK_COLORS.noop}`),
    '<span><i class="dot"></i>crash notice received</span>',
    '</div>',
  ].join('');
}

const COLUMNS = METRIC_NAMES;

function metricsTable(runs: ScenarioRun[]): string {
  const head = `<tr><th>strategy</th>${COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr>`;
  const rows = runs.map((r) => {
    const tds = COLUMNS.map((c) => {
      const { text, bad } = metricCell(r.metrics, c);
      return `<td${bad ? ' class="bad"' : ''}>${esc(text)}</td>`;
    });
    return `<tr><td>${esc(r.strategy)}</td>${tds.join('')}</tr>`;
  });
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

/**
 * Renders one self-contained HTML page (inline CSS and SVG, no script, no external URL): per scenario a
 * heading, a legend, one timeline per strategy run and a metrics table. Deterministic: the same input
 * gives the same string, byte for byte.
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  const sections = input.scenarios.map(({ scenario, runs }) => {
    const parts = [
      `<section>\n<h2>${esc(scenario.name)}</h2>`,
      scenario.description ? `<p class="desc">${esc(scenario.description)}</p>` : '',
      `<p class="meta">kernel ${esc(scenario.kernel)} · horizon ${scenario.horizonMs / 1000} s · ${
        scenario.processors.length
      } processor(s) · ${scenario.clients.length} client(s)</p>`,
      legend(),
      ...runs.map((r) => `<h3>${esc(r.strategy)}</h3>\n${renderTimeline(scenario, r)}`),
      metricsTable(runs),
      '</section>',
    ];
    return parts.filter(Boolean).join('\n');
  });
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>rproc-supervisor: strategy comparison</title>',
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<h1>rproc-supervisor: strategy comparison</h1>',
    `<p class="meta">${input.scenarios.length} scenario(s). Time runs left to right in virtual seconds.</p>`,
    ...sections,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
