// `rproc-supervisor twin add|remove`: registers or unbinds a processor of a running mounted twin at run time (hotplug tests), through its --socket.

import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { formatIssues, processorSchema } from '../actors/kernel/processorSchema.js';
import { commandArgs } from './commandArgs.js';
import { defaultSocket } from './defaults.js';
import { escapeText } from './escapeText.js';
import { EXIT } from './exitCodes.js';
import { type CliIo, errnoOf } from './io.js';

export const TWIN_EDIT_HELP = `Usage: rproc-supervisor twin add <name> [--boot-ms MS] [--stop-ms MS] [--firmware F] --socket PATH [--json]
       rproc-supervisor twin remove <processor> --socket PATH [--json]

For hotplug tests, on a running "twin --mount DIR --socket PATH": add registers one more processor
(rproc_add: the next remoteprocN, its files appear under DIR), remove unbinds one (rproc_del, by
remoteprocN or name: one shutdown, then its files are gone). A daemon on the twin's files sees them
come and go on its next rescan (--rescan-ms).

Options:
  --boot-ms MS   add: how long its boot takes (default the twin's)
  --stop-ms MS   add: how long its stop takes
  --firmware F   add: its firmware name
  --socket PATH  the twin's --socket
  --json         print { "processor": { "device", "name" } }
  -h, --help     show this help

Exit status: 0; 1 if refused (ENODEV for an unknown processor); 69 (EX_UNAVAILABLE) when the twin
cannot be reached; 2 for bad usage.
`;

/** Runs `twin add` or `twin remove`. */
export async function twinEditCommand(action: 'add' | 'remove', args: string[], io: CliIo): Promise<number> {
  const parsed = commandArgs(
    `twin ${action}`,
    TWIN_EDIT_HELP,
    io,
    args,
    {
      'boot-ms': { type: 'string' },
      'stop-ms': { type: 'string' },
      firmware: { type: 'string' },
      socket: { type: 'string' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (typeof parsed === 'number') return parsed;
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const usage = (msg: string) => {
    io.stderr(`rproc-supervisor twin ${action}: ${msg}\n`);
    return EXIT.usage;
  };
  const [target, ...more] = parsed.positionals;
  if (!target || more.length > 0)
    return usage(`expected one <${action === 'add' ? 'name' : 'processor'}>\n\n${TWIN_EDIT_HELP}`);
  let request: Parameters<DaemonClient['request']>[0];
  if (action === 'add') {
    const spec = processorSchema.safeParse({
      name: target,
      ...(v['boot-ms'] !== undefined ? { bootMs: Number(v['boot-ms']) } : {}),
      ...(v['stop-ms'] !== undefined ? { stopMs: Number(v['stop-ms']) } : {}),
      ...(v.firmware !== undefined ? { firmware: v.firmware } : {}),
    });
    if (!spec.success) return usage(formatIssues(spec.error).join('; '));
    request = { op: 'add-processor', ...spec.data };
  } else {
    if (v['boot-ms'] !== undefined || v['stop-ms'] !== undefined || v.firmware !== undefined)
      return usage('--boot-ms, --stop-ms and --firmware are for twin add');
    request = { op: 'remove-processor', processor: target };
  }
  const socketPath = (v.socket as string | undefined) ?? defaultSocket();
  let client: DaemonClient;
  try {
    client = await DaemonClient.connect(socketPath);
  } catch (err) {
    io.stderr(`rproc-supervisor twin ${action}: cannot reach the twin at ${socketPath}: ${errnoOf(err)}\n`);
    return EXIT.unavailable;
  }
  const r = await client.request(request);
  client.close();
  if (!r.ok) {
    io.stderr(
      `rproc-supervisor twin ${action}: ${escapeText(target)}: ${r.error.code}: ${escapeText(r.error.message)}\n`,
    );
    return r.error.code === 'ECONNRESET' || r.error.code === 'EACCES' ? EXIT.unavailable : EXIT.failed;
  }
  const { device, name } = (r as { processor: { device: string; name: string } }).processor;
  if (v.json) io.stdout(`${JSON.stringify({ processor: { device, name } })}\n`);
  else io.stdout(`${escapeText(device)} ${escapeText(name)}: ${action === 'add' ? 'added' : 'removed'}\n`);
  return EXIT.ok;
}
