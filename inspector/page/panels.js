// panels: the HTML of the page's panels — each strategy's column (processors, lease table, actor tree)
// and the metrics table with its documented costs. Pure functions of plain data.

import { actorTreeHtml, esc, slug, stateClass, statechartSvg } from './draw.js';
// Built from scenarios/metricCells.ts: the cells and the bad-value rule of `compare` and its HTML report.
import { METRIC_NAMES as METRICS, metricCell } from './metricCells.js';
import { valueText } from './model.js';

/** What the page writes for a processor whose machine it cannot draw (or not yet). */
const NO_CHART = {
  pending:
    'Its machine has not started yet: the kernel twin adds the processor (rproc_add) at 0 ms — step › to see it.',
  none: 'No statechart: the processor is a real one, read through sysfs.',
};

function processorHtml(v, p, statechart) {
  const id = `${slug(v.key)}-${slug(p.name)}`;
  const holders = p.holders === null ? '—' : String(p.holders);
  const state = p.state ?? 'not started';
  const chart =
    p.chart === 'active' && statechart
      ? statechartSvg(statechart, p.value, `chart-${id}`, { state: p.state, power: p.power })
      : p.chart === 'pending' && statechart
        ? `${statechartSvg(statechart, null, `chart-${id}`)}<p class="none" data-testid="chart-note-${id}">${esc(NO_CHART.pending)}</p>`
        : `<p class="none" data-testid="chart-note-${id}">${esc(NO_CHART.none)}</p>`;
  return `<div class="proc" data-testid="proc-${id}" data-state="${esc(p.state ?? '')}" data-power="${p.power ?? ''}" data-holders="${p.holders ?? ''}">
  <div class="proc-head"><span class="proc-name">${esc(p.name)}</span>
  <span class="badge s-${p.state === null ? 'none' : esc(stateClass(p.state, p.step))}" data-testid="state-${id}" title="rproc->state, as a read of its sysfs state file says">${esc(state)}</span>
  <span class="kv" title="the machine's state: what the holder of rproc->lock is doing (idle: nobody holds it)">lock <b data-testid="value-${id}">${esc(valueText(p.value))}</b></span>
  <span class="kv" title="rproc->power: the kernel's count of references">power <b data-testid="power-${id}">${p.power ?? '—'}</b></span>
  <span class="kv" title="${v.monitored ? 'granted leases on it' : 'no lease table: this strategy keeps none'}">holders <b data-testid="holders-${id}">${holders}</b></span></div>
  ${chart}
</div>`;
}

function leaseTableHtml(v, sinceText) {
  if (!v.monitored)
    return '<p class="none leases">No lease table: under this strategy clients act on the kernel directly.</p>';
  const rows = v.leases
    .map(
      (l) =>
        `<tr class="${l.holds ? '' : 'ended'}"><td>${esc(l.client)}</td><td>${esc(l.processor)}</td><td class="num">${l.pid ?? '—'}</td><td>${esc(l.state)}</td><td class="num">${esc(sinceText(l))}</td></tr>`,
    )
    .join('');
  const empty = v.monitor === null ? 'no leases: the monitor has not started yet' : 'no leases';
  return `<table class="leases" data-testid="leases-${slug(v.key)}"><caption>Leases</caption><thead><tr><th>client</th><th>processor</th><th class="num">pid</th><th>state</th><th class="num">since</th></tr></thead><tbody>${rows || `<tr><td colspan="5" class="none">${empty}</td></tr>`}</tbody></table>`;
}

/**
 * Each view (a strategy's run at the cursor, or the live system) as a column: its processors with their
 * statecharts, then its lease table and actor tree (beside the processors in live view). `sinceText`
 * formats a lease's `since`.
 */
export function columnsHtml(views, sinceText, statechart) {
  return views
    .map((v) => {
      const procs = v.processors.map((p) => processorHtml(v, p, statechart)).join('');
      const tree = `<div class="tree" data-testid="tree-${slug(v.key)}"><h3>Actors <span class="dim">· each under its parent, from the inspection stream</span></h3>${actorTreeHtml(v.tree, v.key)}</div>`;
      return `<article class="column${v.key === 'live' ? ' live' : ''}" data-testid="strategy-${slug(v.key)}"><h2>${esc(v.title)}</h2><div class="col-body"><div class="procs">${procs}</div><div class="side">${leaseTableHtml(v, sinceText)}${tree}</div></div></article>`;
    })
    .join('');
}

/**
 * The metrics table of `runs` (as `compare` computes them), the cells a documented cost explains
 * numbered, with the cost as their tooltip and as a footnote.
 */
export function metricsHtml(runs) {
  const head = METRICS.map((m) => `<th class="num">${m}</th>`).join('');
  // Each documented cost a run paid is a footnote; the cells it explains point to it (and say it on hover).
  const notes = [];
  const rows = runs
    .map((r) => {
      const costs = (r.costs ?? []).map((c) => {
        notes.push({ run: r.strategy, cost: c });
        return { n: notes.length, c };
      });
      const cells = METRICS.map((m) => {
        const { text, bad } = metricCell(r.metrics, m);
        const paid = costs.filter(({ c }) => c.metrics.includes(m));
        const tip = paid.map(({ c }) => `Documented cost — ${c.title}: ${c.text}`).join('\n');
        const marks = paid
          .map(
            ({ n }) =>
              `<a class="fn" href="#cost-${n}" data-testid="costmark-${slug(r.strategy)}-${m}">${n}</a>`,
          )
          .join('');
        return `<td class="num${bad ? ' bad' : ''}${paid.length ? ' cost' : ''}"${tip ? ` title="${esc(tip)}"` : ''}><span data-testid="metric-${slug(r.strategy)}-${m}">${esc(text)}</span>${marks}</td>`;
      }).join('');
      return `<tr><td>${esc(r.strategy)}</td>${cells}</tr>`;
    })
    .join('');
  const foot = notes
    .map(({ run, cost }, i) => {
      const at = cost.at.map((a) => `${a.processor} at ${a.t} ms`).join(', ');
      return `<li id="cost-${i + 1}" data-testid="cost-${slug(run)}-${slug(cost.id)}"><b>${esc(cost.title)}</b> (${esc(run)}: ${esc(cost.metrics.join(', '))}; ${esc(at)}). ${esc(cost.text)} <span class="dim">${esc(cost.doc)}</span></li>`;
    })
    .join('');
  return `<table><thead><tr><th>strategy</th>${head}</tr></thead><tbody>${rows}</tbody></table>${
    foot
      ? `<div class="costs" data-testid="costs"><p class="dim">Documented costs: what a strategy pays by design, counted in the numbered cells.</p><ol>${foot}</ol></div>`
      : ''
  }`;
}
