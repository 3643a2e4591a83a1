// One metric-cell rule: the CLI table, the HTML report and the inspector page (served the build) read cells the same way.

import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { recordReplay } from '../inspector/recordReplay.js';
import { type Inspector, rprocStatechart, startInspector } from '../inspector/startInspector.js';
import { renderHtmlReport } from '../scenarios/htmlReport.js';
import { METRIC_NAMES, type MetricName, metricCell } from '../scenarios/metricCells.js';
import type { Metrics } from '../scenarios/metrics.js';
import { runScenario } from '../scenarios/runScenario.js';
import { parseScenario } from '../scenarios/scenarioSchema.js';
import { runCli } from './cliHarness.js';

const base: Metrics = {
  orphanMs: 0,
  unavailableMs: 0,
  wrongfulStops: 0,
  stopLatencyMs: 0,
  leakedRefs: 0,
  crashNotices: { notified: 0, of: 0 },
};

/**
 * Cells where the HTML report and the page used to disagree (the page flagged any orphanMs or
 * unavailableMs above 0, and never a missed crash notice, a processor that never stops or a negative
 * leakedRefs), and what both show now.
 */
const cases: Array<[Partial<Metrics>, MetricName, string, boolean]> = [
  [{ unavailableMs: 100 }, 'unavailableMs', '100', false], // every run's boot: was red on the page only
  [{ orphanMs: 20 }, 'orphanMs', '20', false], // a clean stop's own time: was red on the page only
  [{ stopLatencyMs: null }, 'stopLatencyMs', 'never', true], // was red in the report only
  [{ crashNotices: { notified: 0, of: 1 } }, 'crashNotices', '0/1', true], // was red in the report only
  [{ leakedRefs: -1 }, 'leakedRefs', '-1', true], // was red in the report only
  [{ crashNotices: { notified: 1, of: 1 } }, 'crashNotices', '1/1', false],
  [{ wrongfulStops: 1 }, 'wrongfulStops', '1', true],
  [{ leakedRefs: 1 }, 'leakedRefs', '1', true],
  [{ stopLatencyMs: 3110 }, 'stopLatencyMs', '3110', false],
];

const servers: Inspector[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const scenario = (() => {
  const p = parseScenario(
    JSON.parse(readFileSync('scenarios/builtin/client-dies-while-crashed.json', 'utf8')),
  );
  if (!p.ok) throw new Error(p.error.detail);
  return p.value;
})();

describe('metric cells', () => {
  it('should read and flag each value by one rule', () => {
    for (const [m, name, text, bad] of cases)
      expect(metricCell({ ...base, ...m }, name), `${name} ${JSON.stringify(m)}`).toEqual({ text, bad });
  });

  it('should be the cells of the HTML report and the text of the CLI table', () => {
    const runs = scenario.strategies.map((strategy) => runScenario(scenario, { strategy }));
    const html = renderHtmlReport({ scenarios: [{ scenario, runs }] });
    const table = runCli(['compare', 'scenarios/builtin/client-dies-while-crashed.json']).stdout;
    for (const r of runs) {
      const row = html.match(new RegExp(`<tr><td>${r.strategy}</td>(.*?)</tr>`))?.[1] ?? '';
      const shown = [...row.matchAll(/<td( class="bad")?>([^<]*)<\/td>/g)].map((m) => ({
        text: m[2],
        bad: m[1] !== undefined,
      }));
      expect(shown).toEqual(METRIC_NAMES.map((n) => metricCell(r.metrics, n)));
      const line = table.split('\n').find((l) => l.startsWith(`${r.strategy} `)) ?? '';
      expect(line.split(/\s+/).slice(1, 1 + METRIC_NAMES.length)).toEqual(
        METRIC_NAMES.map((n) => metricCell(r.metrics, n).text),
      );
    }
    // The scenario shows every kind of bad cell: a never-stopping processor, a leak, a missed notice.
    expect(html).toContain('<td class="bad">never</td>');
    expect(html).toContain('<td class="bad">0/1</td>');
  });

  it('should reach the inspector page as the same module, which the page uses instead of a rule of its own', async () => {
    const data = recordReplay(scenario, ['sysfs-direct'], await rprocStatechart());
    const s = await startInspector({ source: { kind: 'replay', data }, port: 0 });
    servers.push(s);
    const served = await get(s.port, `/${s.token}/metricCells.js`);
    expect(served.status).toBe(200);
    expect(served.body).not.toMatch(/^import /m); // a browser module on its own
    const mod = (await import(
      `data:text/javascript;base64,${Buffer.from(served.body).toString('base64')}`
    )) as { metricCell: typeof metricCell; METRIC_NAMES: typeof METRIC_NAMES };
    expect(mod.METRIC_NAMES).toEqual(METRIC_NAMES);
    for (const [m, name] of cases)
      expect(mod.metricCell({ ...base, ...m }, name)).toEqual(metricCell({ ...base, ...m }, name));
    // The metrics table is drawn by the page's panels module, with the shared cells.
    const panels = (await get(s.port, `/${s.token}/panels.js`)).body;
    expect(panels).toMatch(/from '\.\/metricCells\.js'/);
    expect(panels).not.toMatch(/notified\}\/\$\{/); // the page's own formatter is gone
    expect(panels).not.toMatch(/'orphanMs',\s*'unavailableMs'/); // and its own list of metrics
  });
});
