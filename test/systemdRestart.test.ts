// Restart continuity through the fd store: the hybrid daemon on the cdev driver over the mounted twin, restarted by a service manager played by the test.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { bin } from './bin.js';
import { firstProcessor, okReply } from './okReply.js';
import { startServiceManager } from './serviceManager.js';
import { board, children, cleanups, exitOf, service } from './systemdBoard.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { cdevDriverArgs } from './twinProcess.js';
import { until } from './wait.js';

warnIfSkipped('test/systemdRestart.test.ts');

describe.skipIf(cannotMount)('restart continuity through the fd store (cdev on the mounted twin)', () => {
  it('should keep a held processor running across restarts (SIGTERM and SIGKILL), resume its lease, and stop it once the store is closed', async () => {
    const b = await board();
    const { m, socket, start } = service(b.twin, ['--resume-grace-ms', '3000']);
    const d1 = await start(false);
    const c1 = await DaemonClient.connect(socket);
    const got = okReply(await c1.request({ op: 'acquire', processor: 'm4', client: 'audio' }));
    expect(got.resume).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await b.power()).toBe(1);
    // The descriptor and the lease table went to the store, the descriptor as SCM_RIGHTS.
    await until(
      () => m.store.some((s) => s.name === 'remoteproc0') && m.store.some((s) => s.name === 'leases'),
    );
    const fdMessage = m.with('FDNAME', 'remoteproc0')[0];
    expect(fdMessage?.fields).toMatchObject({ FDSTORE: '1', FDPOLL: '0' });
    expect(fdMessage?.fds).toHaveLength(1);
    const before = b.states.length;

    // systemctl restart: SIGTERM, then a new instance with the stored descriptors.
    d1.child.kill('SIGTERM');
    expect(await exitOf(d1.child)).toBe(0);
    expect(m.with('STOPPING', '1')).toHaveLength(1);
    await until(() => c1.socket.destroyed || c1.socket.readableEnded);
    expect((await firstProcessor(b.twinSocket))?.state).toBe('running');
    const d2 = await start(true);
    expect(d2.stderr()).toMatch(/descriptors handed back by the service manager/);
    const c2 = await DaemonClient.connect(socket);
    const again = okReply(await c2.request({ op: 'resume', token: got.resume as string }));
    expect(again.lease).toBe(got.lease);
    expect(again.resume).toBe(got.resume);
    expect(d2.stderr()).toMatch(/info: adopt/);
    // A token is good once: the lease is live again.
    const twice = await c2.request({ op: 'resume', token: got.resume as string });
    expect(twice.ok ? null : twice.error.code).toBe('ENOENT');

    // A crash of the daemon (SIGKILL): the same, the store holds the descriptors.
    d2.child.kill('SIGKILL');
    await exitOf(d2.child);
    const d3 = await start(true);
    const c3 = await DaemonClient.connect(socket);
    const third = okReply(await c3.request({ op: 'resume', token: got.resume as string }));
    expect(third.lease).toBe(got.lease);
    const status = okReply(await c3.request({ op: 'status' })).status.processors[0];
    expect(status?.leases.map((l) => [l.lease, l.client])).toEqual([[got.lease, 'audio']]);
    // Nothing stopped or booted m4 across two restarts, and no reference was added.
    await new Promise((r) => setTimeout(r, 300));
    expect(b.states.slice(before)).toEqual([]);
    expect(await b.power()).toBe(1);

    // The unit fails for good: the daemon dies and the service manager closes the store.
    d3.child.kill('SIGKILL');
    await exitOf(d3.child);
    expect((await firstProcessor(b.twinSocket))?.state).toBe('running');
    m.closeStore();
    await until(async () => (await firstProcessor(b.twinSocket))?.state === 'offline', 5000);
    expect(await b.power()).toBe(0);
    for (const c of [c1, c2, c3]) c.close();
  });

  it('should stop an inherited processor whose lease does not resume within --resume-grace-ms', async () => {
    const b = await board();
    const { socket, start } = service(b.twin, ['--resume-grace-ms', '800']);
    const d1 = await start(false);
    const c1 = await DaemonClient.connect(socket);
    okReply(await c1.request({ op: 'acquire', processor: 'm4' }));
    d1.child.kill('SIGKILL');
    await exitOf(d1.child);
    c1.close();
    const t0 = Date.now();
    const d2 = await start(true);
    await until(async () => (await firstProcessor(b.twinSocket))?.state === 'offline', 10000);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(800);
    expect(await b.power()).toBe(0);
    expect(b.states.filter((s) => s === 'running')).toHaveLength(1); // booted once, at the first acquire
    d2.child.kill('SIGTERM');
    await exitOf(d2.child);
  });

  it('should send WATCHDOG=1 only while the driver answers (the twin SIGSTOPped: no ping)', async () => {
    const b = await board();
    const dir = mkdtempSync(join(tmpdir(), 'systemd14-wd-'));
    const m = startServiceManager(join(dir, 'notify'));
    cleanups.push(() => m.close());
    const args = ['daemon', ...cdevDriverArgs(b.twin), '--socket', join(dir, 'd.sock'), '--poll-ms', '1000'];
    const d = m.launch(args, { env: { WATCHDOG_USEC: '400000' } });
    children.push(d);
    await until(() => m.with('READY', '1').length > 0, 20000);
    await until(() => m.with('WATCHDOG', '1').length >= 2, 5000);
    b.twin.child.kill('SIGSTOP');
    cleanups.push(() => b.twin.child.kill('SIGCONT'));
    await new Promise((r) => setTimeout(r, 500)); // a ping already under way may land
    const during = m.with('WATCHDOG', '1').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(m.with('WATCHDOG', '1').length).toBe(during);
    b.twin.child.kill('SIGCONT');
    await until(() => m.with('WATCHDOG', '1').length > during, 10000);
  });

  it('should let hold --reconnect resume its lease across a restart, CMD running on', async () => {
    const b = await board();
    const { socket, start } = service(b.twin, ['--resume-grace-ms', '5000']);
    const d1 = await start(false);
    const dir = mkdtempSync(join(tmpdir(), 'systemd14-hold-'));
    const h = spawn(
      process.execPath,
      [
        bin,
        'hold',
        'm4',
        '--socket',
        socket,
        '--reconnect',
        '--',
        'sh',
        '-c',
        `touch ${join(dir, 'up')}; sleep 30`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(h);
    let err = '';
    h.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    await until(() => existsSync(join(dir, 'up')), 10000);
    const lease = (await firstProcessor(socket))?.leases[0]?.lease;
    expect(lease).toBeDefined();
    d1.child.kill('SIGTERM');
    await exitOf(d1.child);
    await start(true);
    await until(() => /lease resumed/.test(err), 10000);
    expect(err).toContain(`lease resumed (${lease}`);
    expect(h.exitCode).toBeNull();
    expect((await firstProcessor(socket))?.leases.map((l) => l.lease)).toEqual([lease]);
    expect(b.states.filter((s) => s === 'offline')).toEqual([]);
  });
});
