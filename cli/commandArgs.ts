// commandArgs: the argument parsing every command shares — its options plus -h/--help, and usage errors.

import { type ParseArgsConfig, parseArgs } from 'node:util';
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
