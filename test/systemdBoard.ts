// A board for the systemd tests: the mounted twin with m4 (its states recorded, its power count read) and the daemon on its cdev under the test's service manager.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import type { PushedEvent } from '../actors/daemon/protocol.js';
import { firstProcessor, okReply } from './okReply.js';
import { startServiceManager, type TestServiceManager } from './serviceManager.js';
import { cdevDriverArgs, spawnTwin, type TwinProcess } from './twinProcess.js';
import { until } from './wait.js';

/** Processes killed and clean-ups run after each test of a file that imports this. */
export const children: ChildProcess[] = [];
export const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** Resolves with a child's exit code (null when a signal ended it) once it has exited. */
export const exitOf = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );

/** A twin with m4, its status socket subscribed (every state it passes through is recorded). */
export async function board(): Promise<{
  twin: TwinProcess;
  twinSocket: string;
  states: string[];
  power: () => Promise<number | undefined>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'systemd14-board-'));
  const twinSocket = join(dir, 'twin.sock');
  const twin = await spawnTwin([{ name: 'm4', bootMs: 50, stopMs: 10 }], {
    kernel: '5.19',
    extraArgs: ['--socket', twinSocket],
  });
  cleanups.push(() => twin.stop());
  const sub = await DaemonClient.connect(twinSocket);
  const states: string[] = [];
  sub.on('event', (e: PushedEvent) => {
    if (e.event === 'processor.state') states.push(e.state);
  });
  okReply(await sub.request({ op: 'subscribe' }));
  cleanups.push(() => sub.close());
  return { twin, twinSocket, states, power: async () => (await firstProcessor(twinSocket))?.power };
}

/** The service manager, and a launcher of the daemon on the twin's files under it. */
export function service(twin: TwinProcess, extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'systemd14-svc-'));
  const m: TestServiceManager = startServiceManager(join(dir, 'notify'));
  cleanups.push(() => m.close());
  const socket = join(dir, 'd.sock');
  const args = ['daemon', ...cdevDriverArgs(twin), '--socket', socket, '--poll-ms', '20', ...extra];
  /** Starts the daemon (with the stored descriptors when `stored`) and resolves once it is ready. */
  const start = async (stored: boolean, env: Record<string, string> = {}) => {
    const ready = m.with('READY', '1').length;
    const child = m.launch(args, { stored, env: { FDSTORE: '8', ...env } });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
    });
    children.push(child);
    await until(
      () => m.with('READY', '1').length > ready || child.exitCode !== null || child.signalCode !== null,
      20000,
    );
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`daemon exited ${child.exitCode}: ${err}`);
    return { child, stderr: () => err };
  };
  return { m, socket, start, args };
}
