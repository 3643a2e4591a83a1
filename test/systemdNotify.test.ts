// The daemon under a service manager played by the test: sd_notify messages (path and abstract sockets), the watchdog, socket activation.

import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { bindUnix } from '../actors/daemon/sdNotify.js';
import { simDaemonArgs } from './bin.js';
import { parseNotification, startServiceManager, type TestServiceManager } from './serviceManager.js';
import { until } from './wait.js';

const children: ChildProcess[] = [];
const managers: TestServiceManager[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const m of managers.splice(0)) m.close();
});

const exitOf = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );

function manager(path: string): TestServiceManager {
  const m = startServiceManager(path);
  managers.push(m);
  return m;
}

function launch(
  m: TestServiceManager,
  args: string[],
  options?: Parameters<TestServiceManager['launch']>[1],
) {
  const c = m.launch(args, options);
  let err = '';
  c.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  children.push(c);
  return { child: c, stderr: () => err };
}

describe('sd_notify', () => {
  it('should parse KEY=value lines', () => {
    expect(parseNotification('READY=1\nSTATUS=a=b c\n')).toEqual({ READY: '1', STATUS: 'a=b c' });
  });

  for (const kind of ['path', 'abstract'] as const) {
    it(`should send READY=1 with a STATUS= line and MAINPID once serving, and STOPPING=1 on SIGTERM (${kind} NOTIFY_SOCKET)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'systemd14-notify-'));
      const path = kind === 'path' ? join(dir, 'notify') : `@systemd14-notify-${process.pid}-${Date.now()}`;
      const m = manager(path);
      const { socket, args } = simDaemonArgs(dir);
      const d = launch(m, args);
      await until(() => m.with('READY', '1').length === 1, 15000);
      const ready = m.with('READY', '1')[0]?.fields ?? {};
      expect(ready.MAINPID).toBe(String(d.child.pid));
      expect(ready.STATUS).toBe('0/1 processors running, 0 leases');
      // Ready means serving: a client is answered at once.
      const c = await DaemonClient.connect(socket);
      const got = await c.request({ op: 'acquire', processor: 'm4' });
      expect(got.ok).toBe(true);
      // The summary follows what happens (checked every second).
      await until(() => m.with('STATUS', '1/1 processors running, 1 leases').length > 0, 5000);
      expect(m.with('STOPPING')).toHaveLength(0);
      d.child.kill('SIGTERM');
      expect(await exitOf(d.child)).toBe(0);
      await until(() => m.with('STOPPING', '1').length === 1);
      c.close();
    });
  }

  it('should send WATCHDOG=1 about every half of WATCHDOG_USEC, and none without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'systemd14-wd-'));
    const m = manager(join(dir, 'notify'));
    const d = launch(m, simDaemonArgs(dir).args, { env: { WATCHDOG_USEC: '200000' } });
    await until(() => m.with('READY', '1').length === 1, 15000);
    const at = m.with('WATCHDOG').length;
    await new Promise((r) => setTimeout(r, 1000));
    const pings = m.with('WATCHDOG', '1').length - at;
    // Every 100 ms for 1 s: about 10 (fewer on a loaded machine, never none).
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(pings).toBeLessThanOrEqual(12);
    d.child.kill('SIGTERM');
    await exitOf(d.child);

    const dir2 = mkdtempSync(join(tmpdir(), 'systemd14-wd-'));
    const m2 = manager(join(dir2, 'notify'));
    const d2 = launch(m2, simDaemonArgs(dir2).args, { env: { WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' } });
    await until(() => m2.with('READY', '1').length === 1, 15000);
    await new Promise((r) => setTimeout(r, 500));
    expect(m2.with('WATCHDOG')).toHaveLength(0); // WATCHDOG_PID names another process
    d2.child.kill('SIGTERM');
    await exitOf(d2.child);
  });
});

describe('socket activation', () => {
  it('should serve on the passed socket, answer a client that connected before it was ready, and never unlink it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'systemd14-act-'));
    const m = manager(join(dir, 'notify'));
    const path = join(dir, 'activated.sock');
    const listening = bindUnix(path, 'stream');
    if (!listening.ok) throw new Error(listening.error.code);
    const { args } = simDaemonArgs(dir);
    // No --socket: the passed one is served. The client connects before the daemon exists.
    const withoutSocket = args.filter((a, i) => a !== '--socket' && args[i - 1] !== '--socket');
    const early = await DaemonClient.connect(path);
    const asked = early.request({ op: 'acquire', processor: 'm4', client: 'early' });
    const d = launch(m, withoutSocket, { listen: { fd: listening.value, name: 'rproc-supervisor.socket' } });
    const reply = await asked;
    expect(reply.ok).toBe(true);
    expect(m.with('READY', '1')).toHaveLength(1);
    expect(d.stderr()).toMatch(/listening socket=fd 3 \(rproc-supervisor\.socket\)/);
    d.child.kill('SIGTERM');
    expect(await exitOf(d.child)).toBe(0);
    early.close();
    // The path is the unit's: still a socket, and the next instance serves on it.
    expect(lstatSync(path).isSocket()).toBe(true);
    const d2 = launch(m, withoutSocket, { listen: { fd: listening.value, name: 'rproc-supervisor.socket' } });
    const again = await DaemonClient.connect(path);
    const st = await again.request({ op: 'status' });
    expect(st.ok).toBe(true);
    again.close();
    d2.child.kill('SIGTERM');
    await exitOf(d2.child);
    expect(existsSync(path)).toBe(true);
  });
});
