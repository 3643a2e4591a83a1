// The command as a user runs it (dist/, built by the test script), and the sim daemon the process tests start.

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `bin/rproc-supervisor.js`. */
export const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'rproc-supervisor.js');

/**
 * Arguments of `rproc-supervisor daemon` on the sim driver with one fast processor, m4, written to
 * `dir`/p.json, serving `dir`/d.sock and polling every 10 ms; `extra` is appended.
 */
export function simDaemonArgs(dir: string, extra: string[] = []): { socket: string; args: string[] } {
  writeFileSync(join(dir, 'p.json'), JSON.stringify([{ name: 'm4', bootMs: 20, stopMs: 10 }]));
  const socket = join(dir, 'd.sock');
  return {
    socket,
    args: [
      'daemon',
      '--driver',
      'sim',
      '--processors',
      join(dir, 'p.json'),
      '--socket',
      socket,
      '--poll-ms',
      '10',
      ...extra,
    ],
  };
}
