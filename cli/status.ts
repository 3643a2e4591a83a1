// `rproc-supervisor status`: what the daemon holds — processors, their state, and who holds them.

import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import type { StatusBody } from '../actors/daemon/protocol.js';
import { commandArgs } from './commandArgs.js';
import { defaultSocket } from './defaults.js';
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
    return `${JSON.stringify({
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
    })}\n`;
  }
  return `${s.processors
    .map((p) => {
      const holders =
        p.leases.map((l) => `${l.client}${l.pid ? ` (pid ${l.pid})` : ''}`).join(', ') || 'nobody';
      return `${p.device} ${p.name}: ${p.state}, held by ${holders}, crashes ${p.crashes ?? 0}`;
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
    const r = await client.request({ op: 'status' });
    if (!r.ok) {
      io.stderr(`rproc-supervisor status: ${r.error.code}: ${r.error.message}\n`);
      return false;
    }
    io.stdout(render(r.status, values.json === true));
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
