// `rproc-supervisor compare`: runs fault scenarios against the strategies and prints their metrics.

import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkExpect, describeFailure, type ExpectFailure } from '../scenarios/checkExpect.js';
import { metricCell } from '../scenarios/metricCells.js';
import { runScenario, type ScenarioRun } from '../scenarios/runScenario.js';
import { METRIC_NAMES, parseScenario, type Scenario, STRATEGY_NAMES } from '../scenarios/scenarioSchema.js';
import { commandArgs, STRATEGY_OPTIONS, strategyList } from './commandArgs.js';
import { EXIT } from './exitCodes.js';
import { type CliIo, errnoOf, problemLines, readJson } from './io.js';
import { packageRoot } from './packageRoot.js';

export const COMPARE_HELP = `Usage: rproc-supervisor compare [FILE…] [--strategy S…] [--json] [--html FILE] [--check]

Runs fault scenarios (default: the built-in ones) against each supervision strategy in virtual time
and prints, per scenario, a table of strategies × metrics. The format is in docs/scenarios.md.

Options:
  --strategy S       run only S, one of ${STRATEGY_NAMES.join(', ')}; repeat or comma-separate
                     (default: each scenario's own strategies)
  --strategies LIST  the same as --strategy: a comma-separated list
  --json             a JSON array of {"scenario", "strategy", "metrics"}
  --html FILE        also write a self-contained page with timelines and tables
  --check            exit 1 when any scenario's "expect" fails, and say which
  -h, --help         show this help

Exit status: 0 ok; 1 an expectation failed (with --check); 2 bad usage or a malformed scenario.
`;

/** The built-in scenario files, in name order. */
export function builtinScenarioFiles(): string[] {
  const dir = join(packageRoot(), 'scenarios', 'builtin');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

const COLUMNS = METRIC_NAMES;

function table(runs: ScenarioRun[], failures: ExpectFailure[]): string {
  const head = ['strategy', ...COLUMNS, 'expect'];
  const rows = runs.map((r) => {
    const bad = failures.filter((f) => f.strategy === r.strategy);
    return [
      r.strategy,
      ...COLUMNS.map((k) => metricCell(r.metrics, k).text),
      bad.length ? `FAIL ${bad.map((f) => f.metric).join(',')}` : '',
    ];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((v, c) =>
        c === 0 || c === cells.length - 1 ? v.padEnd(widths[c] ?? 0) : v.padStart(widths[c] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/** One line per timeline event that was a no-op for some strategies (a target they do not have). */
function noops(runs: ScenarioRun[]): string {
  const byEvent = new Map<string, string[]>();
  for (const r of runs) {
    for (const e of r.trace) {
      if (e.type !== 'scenario.noop') continue;
      const key = `${e.subject} at ${e.t} ms`;
      byEvent.set(key, [...(byEvent.get(key) ?? []), r.strategy]);
    }
  }
  return [...byEvent]
    .map(([event, who]) => `no-op: ${event} (no such live process under ${who.join(', ')})\n`)
    .join('');
}

/** Runs `compare` with `args`. Returns the exit code. */
export function compare(
  args: string[],
  io: CliIo,
  render?: (input: { scenarios: Array<{ scenario: Scenario; runs: ScenarioRun[] }> }) => string,
): number {
  const parsed = commandArgs(
    'compare',
    COMPARE_HELP,
    io,
    args,
    {
      ...STRATEGY_OPTIONS,
      json: { type: 'boolean' },
      html: { type: 'string' },
      check: { type: 'boolean' },
    },
    true,
  );
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as {
    strategy?: string[];
    strategies?: string[];
    json?: boolean;
    html?: string;
    check?: boolean;
    help?: boolean;
  };
  const positionals = parsed.positionals;
  const chosen = strategyList(values);
  if (!chosen.ok) {
    io.stderr(`rproc-supervisor compare: ${chosen.error.detail}\n`);
    return EXIT.usage;
  }
  const only = chosen.value;
  const files = positionals.length ? positionals : builtinScenarioFiles();
  const scenarios: Scenario[] = [];
  for (const file of files) {
    const read = readJson(io.readFile, file);
    if (!read.ok) {
      io.stderr(`rproc-supervisor compare: ${file}: ${read.error.detail}\n`);
      return EXIT.usage;
    }
    const parsed = parseScenario(read.value);
    if (!parsed.ok) {
      io.stderr(
        `rproc-supervisor compare: ${file}: malformed scenario, nothing was run:\n${problemLines(parsed.error)
          .map((e) => `  ${e}\n`)
          .join('')}`,
      );
      return EXIT.usage;
    }
    scenarios.push(parsed.value);
  }
  const total = scenarios.reduce(
    (n, s) => n + s.strategies.filter((x) => !only || only.includes(x)).length,
    0,
  );
  let done = 0;
  const progress = (label: string) => {
    if (!io.isTTY) return;
    const width = 24;
    const filled = Math.round((done / Math.max(1, total)) * width);
    io.stderr(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label.slice(0, 40).padEnd(40)}`,
    );
  };
  const results: Array<{ scenario: Scenario; runs: ScenarioRun[] }> = [];
  const failures: ExpectFailure[] = [];
  for (const scenario of scenarios) {
    const runs: ScenarioRun[] = [];
    for (const strategy of scenario.strategies.filter((x) => !only || only.includes(x))) {
      progress(`${scenario.name} · ${strategy}`);
      const run = runScenario(scenario, { strategy });
      runs.push(run);
      failures.push(...checkExpect(scenario, strategy, run.metrics));
      done++;
    }
    results.push({ scenario, runs });
  }
  if (io.isTTY) io.stderr(`\r${' '.repeat(80)}\r`);
  if (values.json) {
    const out = results.flatMap(({ runs }) =>
      runs.map((r) => ({ scenario: r.scenario, strategy: r.strategy, metrics: r.metrics })),
    );
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    for (const { scenario, runs } of results) {
      const bad = failures.filter((f) => f.scenario === scenario.name);
      io.stdout(
        `${scenario.name} (kernel ${scenario.kernel}, ${scenario.horizonMs} ms)\n${table(runs, bad)}\n${noops(runs)}\n`,
      );
    }
  }
  if (values.html) {
    if (!render) {
      io.stderr('rproc-supervisor compare: --html is not available in this build\n');
      return EXIT.usage;
    }
    try {
      writeFileSync(values.html, render({ scenarios: results }));
    } catch (err) {
      io.stderr(`rproc-supervisor compare: --html ${values.html}: cannot write: ${errnoOf(err)}\n`);
      return EXIT.failed;
    }
  }
  if (values.check) {
    for (const f of failures) io.stderr(`expect failed: ${describeFailure(f)}\n`);
    if (failures.length) return EXIT.failed;
    io.stderr(
      `expect: all ${results.reduce((n, r) => n + r.runs.length, 0)} runs of ${results.length} scenarios hold\n`,
    );
  }
  return EXIT.ok;
}
