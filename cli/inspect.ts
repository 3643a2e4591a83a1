// `rproc-supervisor inspect`: replays a scenario in the local web inspector (127.0.0.1 only).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { forwardToStately, type StatelyForwarder } from '../inspector/forwardToStately.js';
import { DEFAULT_STREAM_BOUND } from '../inspector/inspectionStream.js';
import { recordReplay } from '../inspector/recordReplay.js';
import { type Inspector, rprocStatechart, startInspector } from '../inspector/startInspector.js';
import {
  parseScenario,
  type Scenario,
  STRATEGY_NAMES,
  type StrategyName,
} from '../scenarios/scenarioSchema.js';
import { commandArgs, STRATEGY_OPTIONS, strategyList } from './commandArgs.js';
import { builtinScenarioFiles } from './compare.js';
import { EXIT } from './exitCodes.js';
import { type CliIo, errnoOf, problemLines, readJson } from './io.js';
import { parsePort } from './liveInspectFlags.js';

export { inspectWithoutPort, LIVE_INSPECT_OPTIONS, liveInspectPort, parsePort } from './liveInspectFlags.js';

/** The built-in scenario `inspect` opens when none is named. */
export const DEFAULT_INSPECT_SCENARIO = 'monitor-crash-no-restart';

export const INSPECT_HELP = `Usage: rproc-supervisor inspect [SCENARIO] [--strategy S]… [--port P] [--open] [--json]
                                [--stately-ws URL]

Replays a fault scenario in the local web inspector: each processor's statechart (drawn from
machines/rproc itself) with its state and power count, the lease table, a swimlane timeline, an event
log and the run's metrics, with play / pause / step / speed over virtual time. Several strategies are
shown side by side on one time axis. The page is served on 127.0.0.1 only and requests nothing from
any other address (docs/inspector.md).

SCENARIO is a scenario file, or a built-in scenario's file name or "name" (default: ${DEFAULT_INSPECT_SCENARIO}).

Options:
  --strategy S       show strategy S (repeatable, or comma-separated); default: the scenario's strategies,
                     one of ${STRATEGY_NAMES.join(', ')}; --strategies LIST is the same
  --port P           TCP port on 127.0.0.1 (default 0: a free one); the URL is printed
  --open             open the page with xdg-open when there is one (the URL is printed anyway)
  --json             print {"url": …} as one JSON line instead of the text line
  --stately-ws URL   also forward the raw inspection events to this WebSocket (e.g. a
                     @statelyai/inspect relay) so Stately's inspector can attach; off by default
  -h, --help         show this help

Runs until SIGINT or SIGTERM. Exit status: 0 stopped by a signal; 1 the server could not start;
2 bad usage or a malformed scenario.
`;

/** Finds `name` on PATH. */
function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** Prints the URL (text or JSON) and, with `open`, hands it to xdg-open when there is one. */
export function announce(
  url: string,
  options: { open?: boolean; json?: boolean; label?: string },
  io: CliIo,
): void {
  io.stdout(options.json ? `${JSON.stringify({ url })}\n` : `${options.label ?? 'inspector'}: ${url}\n`);
  if (!options.open) return;
  const opener = onPath('xdg-open');
  if (!opener) {
    io.stderr(`no xdg-open here: open ${url} in a browser\n`);
    return;
  }
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => io.stderr(`xdg-open failed: open ${url} in a browser\n`));
    child.unref();
  } catch (err) {
    io.stderr(`xdg-open failed (${errnoOf(err)}): open ${url} in a browser\n`);
  }
}

/** The scenario file `arg` names: a path, a built-in file name (with or without .json), or a built-in's "name". */
function scenarioFile(arg: string, io: CliIo): string | null {
  if (existsSync(arg)) return arg;
  const builtins = builtinScenarioFiles();
  const byFile = builtins.find((f) => basename(f, '.json') === arg || basename(f) === arg);
  if (byFile) return byFile;
  for (const f of builtins) {
    const read = readJson(io.readFile, f); // a broken built-in cannot match
    if (read.ok && (read.value as { name?: unknown } | null)?.name === arg) return f;
  }
  return null;
}

/** Resolves when SIGINT or SIGTERM arrives. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = () => on('SIGINT');
    const onTerm = () => on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

/** Runs `inspect` with `args` until a signal. Resolves with the exit code. */
export async function inspectCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = commandArgs(
    'inspect',
    INSPECT_HELP,
    io,
    args,
    {
      ...STRATEGY_OPTIONS,
      port: { type: 'string' },
      open: { type: 'boolean' },
      json: { type: 'boolean' },
      'stately-ws': { type: 'string' },
    },
    true,
  );
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as {
    strategy?: string[];
    strategies?: string[];
    port?: string;
    open?: boolean;
    json?: boolean;
    'stately-ws'?: string;
  };
  const usage = (msg: string) => {
    io.stderr(`rproc-supervisor inspect: ${msg}\n`);
    return EXIT.usage;
  };
  if (parsed.positionals.length > 1) return usage(`one scenario at a time, got ${parsed.positionals.length}`);
  const port = parsePort(values.port ?? '0');
  if (port === null) return usage(`--port ${values.port}: expected 0…65535`);

  const arg = parsed.positionals[0] ?? DEFAULT_INSPECT_SCENARIO;
  const file = scenarioFile(arg, io);
  if (!file) {
    const names = builtinScenarioFiles().map((f) => basename(f, '.json'));
    return usage(`${arg}: no such file or built-in scenario; built-in: ${names.join(', ')}`);
  }
  const read = readJson(io.readFile, file);
  if (!read.ok) return usage(`${file}: ${read.error.detail}`);
  const scenario = parseScenario(read.value);
  if (!scenario.ok)
    return usage(
      `${file}: malformed scenario:\n${problemLines(scenario.error)
        .map((e) => `  ${e}`)
        .join('\n')}`,
    );
  const s: Scenario = scenario.value;

  const chosen = strategyList(values);
  if (!chosen.ok) return usage(chosen.error.detail ?? chosen.error.code);
  const strategies: StrategyName[] = chosen.value ?? s.strategies;

  let stately: StatelyForwarder | undefined;
  if (values['stately-ws']) {
    try {
      stately = await forwardToStately(values['stately-ws']);
    } catch (err) {
      return usage((err as Error).message);
    }
  }
  const data = recordReplay(s, strategies, await rprocStatechart(), {
    bound: DEFAULT_STREAM_BOUND,
    ...(stately ? { forward: stately.forward } : {}),
  });
  let inspector: Inspector;
  try {
    inspector = await startInspector({ source: { kind: 'replay', data }, port });
  } catch (err) {
    stately?.stop();
    io.stderr(`rproc-supervisor inspect: 127.0.0.1:${port}: ${errnoOf(err)}\n`);
    return EXIT.failed;
  }
  if (!parsed.positionals[0])
    io.stderr(`no scenario named: showing the built-in ${DEFAULT_INSPECT_SCENARIO}\n`);
  announce(inspector.url, { open: values.open === true, json: values.json === true }, io);
  await untilSignal();
  await inspector.close();
  stately?.stop();
  return EXIT.ok;
}
