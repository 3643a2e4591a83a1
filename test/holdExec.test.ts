// `hold --exec` with real processes: hold becomes CMD (same pid, no wrapper), the lease lives as long as CMD.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bin, simDaemonArgs } from './bin.js';
import { firstProcessor } from './okReply.js';
import { until as waitUntil } from './wait.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const until = (cond: () => Promise<boolean> | boolean, ms = 15_000) => waitUntil(cond, ms, 20);

async function daemon() {
  const dir = mkdtempSync(join(tmpdir(), 'rproc-exec-'));
  const { socket, args } = simDaemonArgs(dir);
  const d = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
  children.push(d);
  await until(() => existsSync(socket));
  return { dir, socket, status: () => firstProcessor(socket) };
}

/** `rproc-supervisor hold --exec m4 … -- cmd…`. */
function holdExec(socket: string, cmd: string[], extra: string[] = []) {
  const h = spawn(
    process.execPath,
    [bin, 'hold', '--exec', 'm4', '--socket', socket, ...extra, '--', ...cmd],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(h);
  let out = '';
  let err = '';
  h.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  h.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const exited = new Promise<number | null>((r) => h.on('exit', (code) => r(code)));
  return { h, exited, out: () => out, err: () => err };
}

/** The pids whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const sleepPath = () =>
  realpathSync(spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim());

describe('hold --exec, as processes', () => {
  it('should become CMD itself (same pid, no wrapper left) and end the lease when CMD is SIGKILLed', async () => {
    const { status } = await daemon().then(async (d) => {
      const run = holdExec(d.socket, ['sleep', '30']);
      await until(async () => {
        const s = await d.status();
        return s?.state === 'running' && s.leases.length === 1;
      });
      const pid = run.h.pid as number;
      // hold's own process is now sleep: its program, its arguments, nothing under it.
      await until(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u000030\u0000');
      expect(realpathSync(readlinkSync(`/proc/${pid}/exe`))).toBe(sleepPath());
      expect(childrenOf(pid)).toEqual([]);
      // It holds its standard streams and the lease's connection, the number $RPROC_LEASE_FD says.
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\u0000');
      const fd = env.find((e) => e.startsWith('RPROC_LEASE_FD='))?.slice('RPROC_LEASE_FD='.length);
      expect(fd).toMatch(/^\d+$/);
      // Its descriptors: its standard streams, the lease's, and at most what a sleep spawned the same
      // way inherits from the runner; none of Node's. (The runner's set varies: a descriptor it has
      // open for a moment without close-on-exec can reach one spawn and not the other.)
      const plain = spawn('sleep', ['30'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(plain);
      const baseline = readdirSync(`/proc/${plain.pid}/fd`).map(Number);
      const fds = readdirSync(`/proc/${pid}/fd`).map(Number);
      expect(fds).toEqual(expect.arrayContaining([0, 1, 2, Number(fd)]));
      expect(fds.filter((f) => f > 2 && f !== Number(fd) && !baseline.includes(f))).toEqual([]);
      expect(readlinkSync(`/proc/${pid}/fd/${fd}`)).toMatch(/^socket:/);
      run.h.kill('SIGKILL');
      await run.exited;
      return d;
    });
    await until(async () => {
      const s = await status();
      return s?.state === 'offline' && s.leases.length === 0;
    });
  }, 60_000);

  it('should hand CMD a blocking descriptor on which it speaks the protocol, and end the lease with CMD', async () => {
    const { socket, status } = await daemon();
    // CMD asks for status on the inherited descriptor and reads the reply with blocking reads (on a
    // non-blocking descriptor readSync throws EAGAIN).
    const script = `const fs = require('node:fs'); const fd = Number(process.env.RPROC_LEASE_FD);
fs.writeSync(fd, '{"v":1,"id":7,"op":"status"}\\n');
let got = ''; const b = Buffer.alloc(65536);
while (!got.includes('\\n')) got += b.toString('utf8', 0, fs.readSync(fd, b));
process.stdout.write(got.slice(0, got.indexOf('\\n')));`;
    const run = holdExec(socket, [process.execPath, '-e', script]);
    expect(await run.exited, run.err()).toBe(0);
    const reply = JSON.parse(run.out()) as { id: number; ok: boolean; status: { processors: unknown[] } };
    expect(reply).toMatchObject({ id: 7, ok: true });
    await until(async () => {
      const s = await status();
      return s?.state === 'offline' && s.leases.length === 0;
    });
  }, 60_000);

  it('should exit 127 when CMD cannot be run, and the lease end with it', async () => {
    const { socket, status } = await daemon();
    const run = holdExec(socket, ['/nonexistent/cmd']);
    expect(await run.exited).toBe(127);
    expect(run.err()).toMatch(/\/nonexistent\/cmd: ENOENT/);
    await until(async () => {
      const s = await status();
      return s?.state === 'offline' && s.leases.length === 0;
    });
  }, 60_000);

  it('should refuse --exec with --reconnect or --on-lost (exit 2), since no wrapper remains', () => {
    for (const flag of [['--reconnect'], ['--on-lost', 'kill']]) {
      const r = spawnSync(process.execPath, [bin, 'hold', '--exec', 'm4', ...flag, '--', 'true'], {
        encoding: 'utf8',
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--exec cannot be combined with/);
    }
  });
});
