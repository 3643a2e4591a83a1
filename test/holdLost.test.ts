// `hold` acts on a lost lease, as real processes: the daemon SIGKILLed or stopped, a TTL expired, --on-lost, --reconnect, a failed boot.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../actors/daemon/protocol.js';
import { serveProtocol } from '../actors/daemon/serveProtocol.js';
import { bin, simDaemonArgs } from './bin.js';
import { firstProcessor } from './okReply.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { cdevDriverArgs, spawnTwin, type TwinProcess } from './twinProcess.js';
import { until as waitUntil } from './wait.js';

warnIfSkipped('test/holdLost.test.ts (its mounted-twin part)');

const children: ChildProcess[] = [];
const twins: TwinProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const t of twins.splice(0)) await t.stop();
  for (const c of cleanups.splice(0)) await c();
});
const until = (cond: () => Promise<boolean> | boolean, ms = 15_000) => waitUntil(cond, ms, 20);

function spawnDaemon(args: string[]) {
  const d = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(d);
  return d;
}

async function simDaemon(dir = mkdtempSync(join(tmpdir(), 'rproc-holdlost-'))) {
  const { socket, args } = simDaemonArgs(dir);
  const d = spawnDaemon(args);
  await until(() => existsSync(socket));
  return { dir, socket, d, args };
}

/** `hold m4` with `extra` flags around `sh -c script`, its stderr kept, and its exit status. */
function hold(socket: string, script: string, extra: string[] = [], processor = 'm4') {
  const h = spawn(
    process.execPath,
    [bin, 'hold', processor, '--socket', socket, ...extra, '--', 'sh', '-c', script],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(h);
  let stderr = '';
  h.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const code = new Promise<number | null>((r) => h.once('exit', (c) => r(c)));
  return { h, code, stderr: () => stderr };
}

async function leases(socket: string) {
  return (await firstProcessor(socket))?.leases ?? [];
}

/** Waits for a {@link waiter} CMD to run: the wrapper is then watching its lease. */
const started = (dir: string) => until(() => existsSync(join(dir, 'started')));
/** A CMD that says it runs (`dir`/started), records a SIGTERM in `dir`/term and otherwise waits for `dir`/go. */
const waiter = (dir: string) =>
  `trap 'echo term > ${dir}/term; exit 143' TERM; touch ${dir}/started; while [ ! -e ${dir}/go ]; do sleep 0.05; done; echo done > ${dir}/done`;

const LOST = (reason: string) => `rproc-supervisor hold: lease lost (${reason})\n`;

describe('hold acts on a lost lease (sim driver)', { timeout: 40_000 }, () => {
  it('should print the reason, SIGTERM CMD and exit 69 when the daemon is SIGKILLed', async () => {
    const { dir, socket, d } = await simDaemon();
    const h = hold(socket, waiter(dir));
    await started(dir);
    d.kill('SIGKILL');
    const got = [await h.code, h.stderr()];
    expect(got).toEqual([69, LOST('daemon-gone')]);
    expect(readFileSync(join(dir, 'term'), 'utf8')).toBe('term\n');
  });

  it('should say daemon-gone when the daemon shuts down cleanly (SIGTERM)', async () => {
    const { dir, socket, d } = await simDaemon();
    const h = hold(socket, waiter(dir));
    await started(dir);
    d.kill('SIGTERM');
    const got = [await h.code, h.stderr()];
    expect(got).toEqual([69, LOST('daemon-gone')]);
    expect(existsSync(join(dir, 'term'))).toBe(true);
  });

  it('should act on an expired TTL (the wrapper stopped, so nobody pinged)', async () => {
    const { dir, socket } = await simDaemon();
    const h = hold(socket, waiter(dir), ['--ttl', '300']);
    await started(dir);
    // Pings come from the wrapper alone: a stopped wrapper lets the TTL run out.
    h.h.kill('SIGSTOP');
    await until(async () => (await leases(socket)).length === 0);
    h.h.kill('SIGCONT');
    expect([await h.code, h.stderr()]).toEqual([69, LOST('ttl-expired')]);
  });

  it('should keep a TTL lease alive by pinging on its own connection', async () => {
    const { dir, socket } = await simDaemon();
    const h = hold(socket, waiter(dir), ['--ttl', '150']);
    await started(dir);
    await new Promise((r) => setTimeout(r, 600)); // four TTLs
    expect(await leases(socket)).toHaveLength(1);
    writeFileSync(join(dir, 'go'), '');
    expect(await h.code).toBe(0);
    expect(h.stderr()).toBe('');
  });

  it('should SIGKILL CMD with --on-lost kill, and leave it alone with --on-lost ignore (exit 69 when it ends)', async () => {
    const { socket, d } = await simDaemon();
    const killDir = mkdtempSync(join(tmpdir(), 'rproc-holdkill-'));
    const ignoreDir = mkdtempSync(join(tmpdir(), 'rproc-holdignore-'));
    const k = hold(socket, waiter(killDir), ['--on-lost', 'kill']);
    const i = hold(socket, waiter(ignoreDir), ['--on-lost', 'ignore']);
    await started(killDir);
    await started(ignoreDir);
    d.kill('SIGKILL');
    expect([await k.code, k.stderr()]).toEqual([69, LOST('daemon-gone')]);
    expect(existsSync(join(killDir, 'term'))).toBe(false); // SIGKILL: no trap ran
    await until(() => i.stderr() === LOST('daemon-gone'));
    await new Promise((r) => setTimeout(r, 200));
    expect(i.h.exitCode).toBe(null); // CMD still runs
    writeFileSync(join(ignoreDir, 'go'), '');
    expect(await i.code).toBe(69);
    expect(readFileSync(join(ignoreDir, 'done'), 'utf8')).toBe('done\n');
    expect(existsSync(join(ignoreDir, 'term'))).toBe(false);
  });

  it('should get the lease back with --reconnect when the daemon comes back, and not touch CMD', async () => {
    const { dir, socket, d, args } = await simDaemon();
    const h = hold(socket, waiter(dir), ['--reconnect']);
    await started(dir);
    d.kill('SIGKILL');
    await new Promise((r) => d.once('exit', r));
    spawnDaemon(args);
    await until(async () => existsSync(socket) && (await leases(socket).catch(() => [])).length === 1);
    // The status shows the lease as soon as it is asked for; hold hears once m4 runs.
    await until(() => h.stderr().length > 0);
    expect(h.stderr()).toMatch(
      /^rproc-supervisor hold: lease acquired again \(lease-1, after daemon-gone\)\n$/,
    );
    writeFileSync(join(dir, 'go'), '');
    expect(await h.code).toBe(0);
    expect(existsSync(join(dir, 'term'))).toBe(false);
  });

  it('should act on the loss with --reconnect when the daemon does not come back (within 10 s)', async () => {
    const { dir, socket, d } = await simDaemon();
    const h = hold(socket, waiter(dir), ['--reconnect']);
    await started(dir);
    d.kill('SIGKILL');
    const got = [await h.code, h.stderr()];
    expect(got).toEqual([69, LOST('daemon-gone')]);
  });

  it('should leave the lease descriptor to CMD: CMD reads every reply to its own pings', async () => {
    const { dir, socket } = await simDaemon();
    // CMD pings through $RPROC_LEASE_FD and reads the replies; the wrapper reads none of them.
    const script = join(dir, 'pinger.mjs');
    writeFileSync(
      script,
      `import { Socket } from 'node:net';
const s = new Socket({ fd: Number(process.env.RPROC_LEASE_FD), readable: true, writable: true });
let buf = '';
const got = [];
s.setEncoding('utf8');
s.on('data', (c) => {
  buf += c;
  for (let nl; (nl = buf.indexOf('\\n')) >= 0; buf = buf.slice(nl + 1)) got.push(JSON.parse(buf.slice(0, nl)));
  if (got.length === 20) { console.error(JSON.stringify(got.map((g) => g.id))); process.exit(0); }
});
let i = 0;
const t = setInterval(() => { s.write(JSON.stringify({ op: 'ping', id: ++i }) + '\\n'); if (i === 20) clearInterval(t); }, 50);
`,
    );
    const h = spawn(
      process.execPath,
      [bin, 'hold', 'm4', '--socket', socket, '--ttl', '300', '--', process.execPath, script],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    children.push(h);
    let err = '';
    h.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise((r) => h.once('exit', r));
    expect([code, err]).toEqual([0, `${JSON.stringify(Array.from({ length: 20 }, (_, i) => i + 1))}\n`]);
  });
});

describe('hold when the acquire fails', () => {
  /** A protocol server in this process that answers every acquire with `error`. */
  async function refusing(error: { code: string; message: string; during?: 'boot' }) {
    const socketPath = join(mkdtempSync(join(tmpdir(), 'rproc-holdref-')), 'r.sock');
    const server = await serveProtocol(socketPath, 'test', (conn) => ({
      request: (r) => conn.send({ id: r.id, ok: false, error } as ServerFrame),
    }));
    cleanups.push(() => server.close());
    return socketPath;
  }

  it.each([
    [{ code: 'ENOENT', message: 'ENOENT: firmware m4.elf not found', during: 'boot' as const }, 69],
    [{ code: 'ETIMEDOUT', message: 'ETIMEDOUT: not running after 30000 ms' }, 69],
    [{ code: 'EBUSY', message: 'EBUSY: firmware conflict' }, 1],
  ])('should not run CMD on %o, and exit %i naming the errno', async (error, status) => {
    const socket = await refusing(error);
    const dir = mkdtempSync(join(tmpdir(), 'rproc-holdcmd-'));
    const h = hold(socket, `touch ${dir}/ran`);
    expect(await h.code).toBe(status);
    expect(h.stderr()).toBe(`rproc-supervisor hold: m4: ${error.code}: ${error.message}\n`);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });
});

// A lease lost between the acquire's answer and the wrapper's watch (its processor removed, say: seen on
// a real unbind in the lab guest) is a lost lease: CMD is not run, the reason is said, exit 69.
describe('hold on a lease lost before its watch is in place', { timeout: 40_000 }, () => {
  /**
   * A protocol server in this process that grants every acquire (lease-1) and then: `lost` pushes the
   * lease's `lease.lost` on the holder's connection; the watch is answered ENOENT (`watch: 'gone'`) or
   * granted with the `lease.lost` in the same write (`watch: 'then-lost'`).
   */
  async function losing(lost: boolean, watch: 'gone' | 'then-lost') {
    const socketPath = join(mkdtempSync(join(tmpdir(), 'rproc-holdearly-')), 'e.sock');
    const lostEvent = {
      event: 'lease.lost',
      lease: 'lease-1',
      processor: 'remoteproc0',
      reason: 'processor-removed',
    } as ServerFrame;
    const server = await serveProtocol(socketPath, 'test', (conn) => ({
      request: (r) => {
        if (r.op === 'acquire') {
          conn.send({
            id: r.id,
            ok: true,
            lease: 'lease-1',
            processor: { device: 'remoteproc0', name: 'm4' },
          } as ServerFrame);
          if (lost) conn.send(lostEvent);
        } else if (r.op === 'watch' && watch === 'gone')
          conn.send({
            id: r.id,
            ok: false,
            error: { code: 'ENOENT', message: 'ENOENT: no lease lease-1' },
          } as ServerFrame);
        else if (r.op === 'watch') {
          conn.send({ id: r.id, ok: true, processor: 'remoteproc0' } as ServerFrame);
          conn.send(lostEvent);
        } else conn.send({ id: r.id, ok: true } as ServerFrame);
      },
    }));
    cleanups.push(() => server.close());
    return socketPath;
  }

  it.each([
    ['the reason the lease.lost gave', true, 'processor-removed'],
    [
      'that the lease ended before it was watched when no lease.lost says why',
      false,
      'ended before it was watched',
    ],
  ])('should not run CMD when the watch finds the lease gone, and say %s', async (_, lost, reason) => {
    const socket = await losing(lost, 'gone');
    const dir = mkdtempSync(join(tmpdir(), 'rproc-holdcmd-'));
    const h = hold(socket, `touch ${dir}/ran`);
    expect([await h.code, h.stderr()]).toEqual([69, LOST(reason)]);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('should act on a lease.lost that comes in the same data as the watch’s answer', async () => {
    const socket = await losing(false, 'then-lost');
    const dir = mkdtempSync(join(tmpdir(), 'rproc-holdcmd-'));
    const h = hold(socket, waiter(dir));
    expect([await h.code, h.stderr()]).toEqual([69, LOST('processor-removed')]);
  });
});

describe.skipIf(cannotMount)('hold acts on a lost lease (mounted twin, cdev driver)', () => {
  it('should print daemon-gone, SIGTERM CMD and exit 69 when the daemon is SIGKILLed; the twin stops m4', async () => {
    const t = await spawnTwin([{ name: 'm4', bootMs: 20, stopMs: 5 }]);
    twins.push(t);
    const socket = join(t.dir, 'd.sock');
    const d = spawnDaemon(['daemon', ...cdevDriverArgs(t), '--socket', socket, '--poll-ms', '20']);
    await until(() => existsSync(socket));
    const h = hold(socket, waiter(t.dir));
    await started(t.dir);
    const state = () => readFileSync(join(t.sysfsRoot, 'remoteproc0', 'state'), 'utf8').trim();
    await until(() => state() === 'running');
    d.kill('SIGKILL');
    const got = [await h.code, h.stderr()];
    expect(got).toEqual([69, LOST('daemon-gone')]);
    expect(existsSync(join(t.dir, 'term'))).toBe(true);
    await until(() => state() === 'offline');
  });
});
