// commandArgs: the argument parsing every command shares — its options plus -h/--help, and usage errors.

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { fail, ok, type Result } from '../machines/errno.js';
import { STRATEGY_NAMES, type StrategyName } from '../supervisors/sim/Strategy.js';
import { EXIT } from './exitCodes.js';
import type { CliIo } from './io.js';

/** Parsed arguments, loosely typed: each command narrows `values` to its own options. */
export interface CommandArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses `args` for `rproc-supervisor <command>` with `options` and `-h/--help`. Returns the parsed
 * arguments, or an exit code when there is nothing more to do: 0 after printing `help`, 2 after a usage
 * error (printed with the help).
 */
export function commandArgs(
  command: string,
  help: string,
  io: CliIo,
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  allowPositionals = false,
): CommandArgs | number {
  let parsed: CommandArgs;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
    }) as CommandArgs;
  } catch (err) {
    io.stderr(`rproc-supervisor ${command}: ${(err as Error).message}\n\n${help}`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.stdout(help);
    return EXIT.ok;
  }
  return parsed;
}

/**
 * The strategy options of `compare`, `explore` and `inspect`, for {@link commandArgs}: `--strategy S`,
 * repeatable, and `--strategies a,b`, its alias. Read them with {@link strategyList}.
 */
export const STRATEGY_OPTIONS = {
  strategy: { type: 'string', multiple: true },
  strategies: { type: 'string', multiple: true },
} as const;

/**
 * The strategies {@link STRATEGY_OPTIONS}' values name: every `--strategy` value, then every
 * `--strategies` value, each split at commas and trimmed, in that order, each name once; `undefined`
 * when neither option was given. A value naming no strategy (`--strategy ,`) or an unknown name fails
 * with EINVAL and the one usage message, naming the option as it was spelled:
 * `--strategy: unknown systemd; known: sysfs-direct, …` (`(empty)` for a value naming none).
 */
export function strategyList(values: {
  strategy?: unknown;
  strategies?: unknown;
}): Result<StrategyName[] | undefined> {
  const given = (['strategy', 'strategies'] as const).filter((flag) => values[flag] !== undefined);
  if (given.length === 0) return ok(undefined);
  const names: StrategyName[] = [];
  for (const flag of given) {
    const raw = values[flag];
    const texts = (Array.isArray(raw) ? raw : [raw]).map(String);
    const split = texts.map((t) =>
      t
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    );
    const flat = split.flat();
    const bad = flat.filter((n) => !(STRATEGY_NAMES as readonly string[]).includes(n));
    if (bad.length || split.some((list) => list.length === 0)) {
      return fail(
        'EINVAL',
        `--${flag}`,
        `--${flag}: unknown ${bad.join(', ') || '(empty)'}; known: ${STRATEGY_NAMES.join(', ')}`,
      );
    }
    for (const n of flat as StrategyName[]) if (!names.includes(n)) names.push(n);
  }
  return ok(names);
}
