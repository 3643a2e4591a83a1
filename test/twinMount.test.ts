// The mounted twin as a board's files: shell commands, the cdev's ioctls and release, stale mounts, status.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { ioctlInt } from '../actors/drivers/ioctl.js';
import {
  RPROC_GET_SHUTDOWN_ON_RELEASE,
  RPROC_SET_SHUTDOWN_ON_RELEASE,
} from '../actors/kernel/cdevCommand.js';
import type { LiveState } from '../inspector/liveSource.js';
import { bin } from './bin.js';
import { okReply } from './okReply.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { spawnTwin, type TwinProcess } from './twinProcess.js';
import { until } from './wait.js';

warnIfSkipped('test/twinMount.test.ts');

// The twin runs in its own process, so this process may use synchronous calls (ioctl is one) on it.
const twins: TwinProcess[] = [];
afterEach(async () => {
  for (const t of twins.splice(0)) await t.stop();
});
async function twin(kernel = '5.19', extraArgs: string[] = []) {
  const t = await spawnTwin([{ name: 'm4', bootMs: 20, stopMs: 5 }, { name: 'dsp' }], { kernel, extraArgs });
  twins.push(t);
  return {
    ...t,
    state: join(t.sysfsRoot, 'remoteproc0', 'state'),
    dev: join(t.devRoot, 'remoteproc0'),
    read: (attr: string, n = 0) => readFileSync(join(t.sysfsRoot, `remoteproc${n}`, attr), 'utf8'),
  };
}
const sh = (shell: string, script: string) => spawnSync(shell, ['-c', script], { encoding: 'utf8' });

describe.skipIf(cannotMount)('the mounted twin', () => {
  it('should lay out class/remoteproc/remoteprocN/* and dev/remoteprocN, sysfs-like', async () => {
    const t = await twin();
    expect(readdirSync(t.mount).sort()).toEqual(['class', 'dev']);
    expect(readdirSync(t.sysfsRoot)).toEqual(['remoteproc0', 'remoteproc1']);
    expect(readdirSync(join(t.sysfsRoot, 'remoteproc0')).sort()).toEqual(
      ['coredump', 'firmware', 'name', 'recovery', 'state'].sort(),
    );
    expect(readdirSync(t.devRoot)).toEqual(['remoteproc0', 'remoteproc1']);
    expect(t.read('name', 1)).toBe('dsp\n');
    expect(statSync(join(t.sysfsRoot, 'remoteproc0', 'name')).mode & 0o777).toBe(0o444);
    expect(statSync(t.dev).mode & 0o777).toBe(0o600);
  });

  it('should have no recovery or coredump on 5.9', async () => {
    const t = await twin('5.9');
    expect(readdirSync(join(t.sysfsRoot, 'remoteproc0')).sort()).toEqual(['firmware', 'name', 'state']);
    expect(() => t.read('recovery')).toThrow(/ENOENT/);
  });

  it('should take shell commands as a board does: echo to sysfs, printf (no newline) to the cdev', async () => {
    const t = await twin();
    expect(sh('sh', `echo start > ${t.state}`).status).toBe(0);
    expect(t.read('state')).toBe('running\n');
    const echoed = sh('sh', `echo stop > ${t.dev}`);
    expect(echoed.status).not.toBe(0); // dash says "I/O error" for any failed write; bash names the errno
    expect(sh('bash', `echo stop > ${t.dev}`).stderr).toMatch(/write error: Invalid argument/);
    expect(t.read('state')).toBe('running\n');
    expect(sh('sh', `printf stop > ${t.dev}`).status).toBe(0);
    expect(t.read('state')).toBe('offline\n');
    expect(sh('sh', `printf start > ${t.dev} && cat ${t.state}`).stdout).toBe('running\n');
    expect(sh('bash', `echo bogus > ${t.state}`).stderr).toMatch(/Invalid argument/);
    expect(sh('bash', `echo x.elf > ${join(t.sysfsRoot, 'remoteproc0', 'firmware')}`).stderr).toMatch(
      /Device or resource busy/,
    );
    expect(sh('sh', `echo x > ${join(t.sysfsRoot, 'remoteproc0', 'name')}`).stderr).toMatch(
      /Permission denied/,
    );
    expect(sh('sh', `cat ${t.dev}`).stderr).toMatch(/Invalid argument/);
    expect(sh('sh', `touch ${join(t.sysfsRoot, 'remoteproc0', 'new')}`).stderr).toMatch(/Permission denied/);
    expect(sh('sh', `printf startstopdetach > ${t.dev}`).status).not.toBe(0); // 11 bytes: EINVAL
    expect(sh('sh', `printf sto > ${t.dev} && cat ${t.state}`).stdout).toBe('offline\n'); // strncmp prefix
  });

  it('should serve other requests while a write blocks in a boot', async () => {
    const t = await spawnTwin([{ name: 'm4', bootMs: 400 }]);
    twins.push(t);
    const state = join(t.sysfsRoot, 'remoteproc0', 'state');
    const started = Date.now();
    const writer = spawn('sh', ['-c', `echo start > ${state}`]);
    const done = new Promise<number | null>((r) => writer.once('exit', (code) => r(code)));
    await new Promise((r) => setTimeout(r, 100));
    const before = Date.now();
    expect(readFileSync(state, 'utf8')).toBe('offline\n'); // the kernel says RUNNING only once booted
    expect(Date.now() - before).toBeLessThan(200);
    expect(await done).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(readFileSync(state, 'utf8')).toBe('running\n');
  });

  it('should pass the two ioctls with their _IOW/_IOR encodings, and refuse others as the kernel does', async () => {
    const t = await twin();
    const fd = openSync(t.dev, 'r+');
    try {
      expect(ioctlInt(fd, RPROC_GET_SHUTDOWN_ON_RELEASE)).toEqual({ ok: true, value: 0 });
      expect(ioctlInt(fd, RPROC_SET_SHUTDOWN_ON_RELEASE, 1).ok).toBe(true);
      expect(ioctlInt(fd, RPROC_GET_SHUTDOWN_ON_RELEASE)).toEqual({ ok: true, value: 1 });
      expect(ioctlInt(fd, 0x4004b703, 1)).toMatchObject({ ok: false, error: { code: 'EINVAL' } });
      expect(ioctlInt(fd, RPROC_SET_SHUTDOWN_ON_RELEASE, 0).ok).toBe(true);
      expect(ioctlInt(fd, RPROC_GET_SHUTDOWN_ON_RELEASE)).toEqual({ ok: true, value: 0 });
    } finally {
      closeSync(fd);
    }
    const attr = openSync(t.state, 'r');
    expect(ioctlInt(attr, RPROC_GET_SHUTDOWN_ON_RELEASE)).toMatchObject({
      ok: false,
      error: { code: 'ENOTTY' },
    });
    closeSync(attr);
    // No mode check on ioctls: a read-only descriptor may set the flag, but not write a command.
    const ro = openSync(t.dev, 'r');
    expect(ioctlInt(ro, RPROC_SET_SHUTDOWN_ON_RELEASE, 1).ok).toBe(true);
    expect(() => writeSync(ro, 'start')).toThrow(/EBADF/);
    closeSync(ro);
  });

  it('should release on the last close of a description, and the flag is per processor, not per fd', async () => {
    const t = await twin();
    const a = openSync(t.dev, 'r+');
    ioctlInt(a, RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
    writeSync(a, 'start');
    expect(t.read('state')).toBe('running\n');
    const b = openSync(t.dev, 'r'); // never starts anything
    closeSync(b);
    // B's release stops A's processor (kernel-semantics §5.4).
    await until(() => t.read('state') === 'offline\n', 2000);
    closeSync(a);
  });

  it('should clear the dead mount a killed twin leaves, refuse a live one, and unmount on SIGTERM', async () => {
    const first = await twin();
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(() => statSync(first.mount)).toThrow(/ENOTCONN/);
    const second = await spawnTwin([{ name: 'm4' }], { mount: first.mount });
    twins.push(second);
    expect(second.stderr()).toMatch(/cleared a dead mount/);
    expect(readFileSync(join(second.sysfsRoot, 'remoteproc0', 'state'), 'utf8')).toBe('offline\n');
    const third = spawnSync(process.execPath, [bin, 'twin', '--mount', first.mount], { encoding: 'utf8' });
    expect(third.status).toBe(1);
    expect(third.stderr).toMatch(/EBUSY/);
    expect(await second.stop()).toBe(0);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(first.mount);
  });

  it('should answer status on --socket with the processors’ states, and refuse leases', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rproc-twinsock-'));
    const socket = join(dir, 's.sock');
    const t = await twin('5.19', ['--socket', socket]);
    sh('sh', `printf start > ${join(t.devRoot, 'remoteproc1')}`);
    const status = spawnSync(process.execPath, [bin, 'status', '--socket', socket, '--json'], {
      encoding: 'utf8',
    });
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({
      processors: [
        { name: 'm4', device: 'remoteproc0', state: 'offline', leases: [] },
        { name: 'dsp', device: 'remoteproc1', state: 'running', leases: [] },
      ],
    });
    // A process holding dev/remoteproc0 open shows as its holder, with the pid FUSE reported.
    const holder = spawn('bash', ['-c', `exec 3<>${t.dev}; sleep 30`], { stdio: 'ignore' });
    const held = async () => {
      const c = await DaemonClient.connect(socket);
      const r = await c.request({ op: 'status' });
      c.close();
      return okReply(r).status.processors[0]?.leases ?? [];
    };
    await until(async () => (await held()).length === 1, 3000);
    expect((await held())[0]).toMatchObject({ client: `pid ${holder.pid}`, pid: holder.pid });
    holder.kill('SIGKILL');
    await until(async () => (await held()).length === 0, 3000);
    const c = await DaemonClient.connect(socket);
    expect(await c.request({ op: 'acquire', processor: 'm4' })).toMatchObject({
      ok: false,
      error: { code: 'EOPNOTSUPP' },
    });
    const events: unknown[] = [];
    c.on('event', (e) => events.push(e));
    await c.request({ op: 'subscribe' });
    sh('sh', `echo start > ${t.state}`);
    await until(() => events.length > 0, 2000);
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'processor.state', processor: 'remoteproc0', state: 'running' }),
    );
    c.close();
  });

  it('should serve the live inspector (--inspect): states, and the real pid holding a device', async () => {
    const t = await twin('5.19', ['--inspect']);
    expect(t.inspector).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    const url = new URL(t.inspector ?? '');
    const page = await fetch(url);
    expect(page.status).toBe(200);
    // The socket is under the printed URL's token path.
    const ws = new WebSocket(`ws://${url.host}${url.pathname}ws`, { origin: url.origin });
    const states: LiveState[] = [];
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m));
      if (msg.type === 'live.init') states.push(...msg.history.map((h: { state: LiveState }) => h.state));
      if (msg.type === 'live.state') states.push(msg.state);
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    // A shell holds dev/remoteproc0 open and boots it through the descriptor.
    const holder = spawn('bash', ['-c', `exec 3<>${t.dev}; printf start >&3; sleep 30`], { stdio: 'ignore' });
    const m4 = () => states.at(-1)?.processors[0];
    await until(() => m4()?.state === 'running' && (m4()?.leases.length ?? 0) === 1, 3000);
    expect(m4()?.leases[0]).toMatchObject({ pid: holder.pid });
    expect(m4()?.power).toBe(1);
    holder.kill('SIGKILL');
    await until(() => m4()?.leases.length === 0, 3000);
    ws.close();
  });

  it('should print where it is mounted, and exit 0 on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'twin', '--mount', join(await mkdtemp(join(tmpdir(), 'rproc-t-')), 'm')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await until(() => out.includes('stop with Ctrl-C'), 5000);
    expect(out).toMatch(
      /mounted the kernel twin \(profile 5\.19\) on .*, FUSE 7\.\d+ \(kernel offers 7\.\d+\)/,
    );
    expect(out).toMatch(/remoteproc0 \(m4\): .*\/class\/remoteproc\/remoteproc0\/ .*\/dev\/remoteproc0/);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
