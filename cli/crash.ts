// `rproc-supervisor crash`: injects a crash into a processor of a sim daemon or a mounted twin, for tests.

import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { CRASH_TYPES } from '../machines/rprocTypes.js';
import { commandArgs } from './commandArgs.js';
import { defaultSocket } from './defaults.js';
import { escapeText } from './escapeText.js';
import { EXIT } from './exitCodes.js';
import { type CliIo, errnoOf } from './io.js';

const REASONS = [...CRASH_TYPES, 'unknown'] as const;

export const CRASH_HELP = `Usage: rproc-supervisor crash <processor> [--reason R] [--socket PATH] [--json]

Injects a crash into <processor> (remoteprocN or its name), as the kernel's rproc_report_crash would
see one, for tests: against a daemon on the sim driver, or a mounted twin's --socket. A daemon on a
board's driver (cdev, sysfs) answers ENOTSUP: a real kernel has no such interface.

Options:
  --reason R     ${REASONS.join(', ')} (default unknown)
  --socket PATH  default $XDG_RUNTIME_DIR/rproc-supervisor.sock, else /run/rproc-supervisor.sock
  --json         print { "processor": { "device", "name" }, "reason" }
  -h, --help     show this help

Exit status: 0; 1 if refused (ENOTSUP, ENODEV); 69 (EX_UNAVAILABLE) when the daemon cannot be reached;
2 for bad usage.
`;

/** Runs `crash`. */
export async function crashCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = commandArgs(
    'crash',
    CRASH_HELP,
    io,
    args,
    { reason: { type: 'string' }, socket: { type: 'string' }, json: { type: 'boolean' } },
    true,
  );
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { reason?: string; socket?: string; json?: boolean };
  const [processor, ...more] = parsed.positionals;
  if (!processor || more.length > 0) {
    io.stderr(`rproc-supervisor crash: expected one <processor>\n\n${CRASH_HELP}`);
    return EXIT.usage;
  }
  const reason = values.reason ?? 'unknown';
  if (!(REASONS as readonly string[]).includes(reason)) {
    io.stderr(
      `rproc-supervisor crash: --reason ${escapeText(reason)}: expected one of ${REASONS.join(', ')}\n`,
    );
    return EXIT.usage;
  }
  const socketPath = values.socket ?? defaultSocket();
  let client: DaemonClient;
  try {
    client = await DaemonClient.connect(socketPath);
  } catch (err) {
    io.stderr(`rproc-supervisor crash: cannot reach the daemon at ${socketPath}: ${errnoOf(err)}\n`);
    return EXIT.unavailable;
  }
  const r = await client.request({ op: 'crash', processor, reason: reason as (typeof REASONS)[number] });
  client.close();
  if (!r.ok) {
    io.stderr(
      `rproc-supervisor crash: ${escapeText(processor)}: ${r.error.code}: ${escapeText(r.error.message)}\n`,
    );
    return r.error.code === 'ECONNRESET' || r.error.code === 'EACCES' ? EXIT.unavailable : EXIT.failed;
  }
  const { device, name } = r.processor;
  if (values.json) io.stdout(`${JSON.stringify({ processor: { device, name }, reason })}\n`);
  else io.stdout(`${escapeText(device)} ${escapeText(name)}: crash injected (${reason})\n`);
  return EXIT.ok;
}
