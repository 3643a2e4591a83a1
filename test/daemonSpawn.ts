// daemonSpawn: a daemon as a real process for the process tests, with its status and a `hold` on it.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin } from './bin.js';
import { firstProcessor } from './okReply.js';
import { until as waitUntil } from './wait.js';

const until = (cond: () => Promise<boolean> | boolean, ms = 20_000) => waitUntil(cond, ms, 20);

/**
 * A daemon process (sim on `processors`, or `driverArgs`) polling every 10 ms with `extra` arguments,
 * once its socket exists: its status, a `hold` on m4, its stderr. Children go to `children` (kill them).
 */
export async function spawnDaemon(
  children: ChildProcess[],
  processors: object[],
  extra: string[],
  driverArgs?: string[],
) {
  const dir = mkdtempSync(join(tmpdir(), 'core12-pol-'));
  writeFileSync(join(dir, 'p.json'), JSON.stringify(processors));
  const socket = join(dir, 'd.sock');
  const args = driverArgs ?? ['--driver', 'sim', '--processors', join(dir, 'p.json')];
  const d = spawn(
    process.execPath,
    [bin, 'daemon', ...args, '--socket', socket, '--poll-ms', '10', ...extra],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(d);
  let stderr = '';
  d.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  await until(() => existsSync(socket));
  const status = () => firstProcessor(socket);
  const hold = (script: string) => {
    const h = spawn(process.execPath, [bin, 'hold', 'm4', '--socket', socket, '--', 'sh', '-c', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(h);
    let err = '';
    h.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const exit = new Promise<number | null>((r) => h.once('exit', (code) => r(code)));
    return { exit, stderr: () => err };
  };
  return { dir, socket, d, status, hold, stderr: () => stderr };
}
