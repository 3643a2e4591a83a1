// `rproc-supervisor status`: what the daemon holds — processors, their state, and who holds them.

import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import type { StatusBody } from '../actors/daemon/protocol.js';
import { commandArgs } from './commandArgs.js';
import { defaultSocket } from './defaults.js';
import { escapeJson, escapeText } from './escapeText.js';
import { EXIT } from './exitCodes.js';
import { type CliIo, errnoOf } from './io.js';

export const STATUS_HELP = `Usage: rproc-supervisor status [--socket PATH] [--json] [--watch]

Shows the daemon's processors: state, holders (client and pid) and crash count.

Options:
  --socket PATH  default $XDG_RUNTIME_DIR/rproc-supervisor.sock, else /run/rproc-supervisor.sock
  --json         { "processors": [ { "name", "device", "state", "leases": [ { "client", "pid", "since" } ] } ] }
  --watch        print again on every change, until interrupted
  -h, --help     show this help

Exit status: 0; 69 (EX_UNAVAILABLE) when the daemon cannot be reached; 2 for bad usage.
`;

function render(s: StatusBody, json: boolean): string {
  if (json) {
    return `${escapeJson(
      JSON.stringify({
        processors: s.processors.map((p) => ({
          name: p.name,
          device: p.device,
          state: p.state,
          leases: p.leases.map((l) => ({
            client: l.client,
            pid: l.pid,
            since: new Date(l.since).toISOString(),
          })),
        })),
      }),
    )}\n`;
  }
  return `${s.processors
    .map((p) => {
      // Every string shown comes from the daemon, labels from its clients: escaped for the terminal.
      const holders =
        p.leases.map((l) => `${escapeText(l.client)}${l.pid ? ` (pid ${l.pid})` : ''}`).join(', ') ||
        'nobody';
      const more = p.leasesOmitted ? ` and ${p.leasesOmitted} more` : '';
      return `${escapeText(p.device)} ${escapeText(p.name)}: ${escapeText(p.state)}, held by ${holders}${more}, crashes ${p.crashes ?? 0}`;
    })
    .join('\n')}\n`;
}

/** Runs `status`. */
export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = commandArgs('status', STATUS_HELP, io, args, {
    socket: { type: 'string' },
    json: { type: 'boolean' },
    watch: { type: 'boolean' },
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { socket?: string; json?: boolean; watch?: boolean; help?: boolean };
  const socketPath = values.socket ?? defaultSocket();
  let client: DaemonClient;
  try {
    client = await DaemonClient.connect(socketPath);
  } catch (err) {
    io.stderr(`rproc-supervisor status: cannot reach the daemon at ${socketPath}: ${errnoOf(err)}\n`);
    return EXIT.unavailable;
  }
  const show = async () => {
    // The daemon's replies are bounded (pages of processors): read every page, then show them as one.
    const processors: StatusBody['processors'] = [];
    let first: StatusBody | undefined;
    let after: string | undefined;
    do {
      const r = await client.request({ op: 'status', ...(after ? { after } : {}) });
      if (!r.ok) {
        io.stderr(`rproc-supervisor status: ${r.error.code}: ${escapeText(r.error.message)}\n`);
        return false;
      }
      first ??= r.status;
      processors.push(...r.status.processors);
      after = r.status.next;
    } while (after);
    io.stdout(render({ ...(first as StatusBody), processors }, values.json === true));
    return true;
  };
  if (!(await show())) {
    client.close();
    return EXIT.unavailable;
  }
  if (!values.watch) {
    client.close();
    return EXIT.ok;
  }
  await client.request({ op: 'subscribe' });
  client.on('event', () => void show());
  return new Promise((resolve) => {
    client.on('close', () => resolve(EXIT.unavailable));
    process.once('SIGINT', () => {
      client.close();
      resolve(EXIT.ok);
    });
  });
}
