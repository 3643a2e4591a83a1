// The daemon and `hold` as real OS processes on the sim driver: death of any kind ends a lease.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { bin, simDaemonArgs } from './bin.js';
import { firstProcessor } from './okReply.js';
import { until as waitUntil } from './wait.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

const until = (cond: () => Promise<boolean> | boolean, ms = 5000) => waitUntil(cond, ms, 20);

/** Spawns `rproc-supervisor daemon` on the sim driver with the processor m4 (test/bin.ts). */
function spawnDaemon(
  dir: string,
  stdio: 'ignore' | ['ignore', 'ignore', 'pipe'] = ['ignore', 'ignore', 'pipe'],
) {
  const d = spawn(process.execPath, [bin, ...simDaemonArgs(dir).args], { stdio });
  children.push(d);
  return d;
}

async function daemon() {
  const dir = mkdtempSync(join(tmpdir(), 'rproc-proc-'));
  const { socket } = simDaemonArgs(dir);
  const d = spawnDaemon(dir);
  await until(() => existsSync(socket));
  const status = () => firstProcessor(socket);
  return { dir, socket, d, status };
}

function hold(socket: string, script: string) {
  const h = spawn(process.execPath, [bin, 'hold', 'm4', '--socket', socket, '--', 'sh', '-c', script], {
    stdio: 'ignore',
    detached: true, // its own process group, so the group can be killed at once
  });
  children.push(h);
  return h;
}

describe('daemon and hold, as processes', () => {
  it('should end the lease and stop the processor when the whole hold group is SIGKILLed', async () => {
    const { socket, status } = await daemon();
    const h = hold(socket, 'sleep 30');
    await until(async () => (await status())?.state === 'running');
    process.kill(-(h.pid as number), 'SIGKILL');
    await until(async () => {
      const s = await status();
      return s?.state === 'offline' && s.leases.length === 0;
    });
  });

  it('should stop the processor only after both holders are gone', async () => {
    const { socket, status } = await daemon();
    const a = hold(socket, 'sleep 30');
    const b = hold(socket, 'sleep 30');
    await until(async () => (await status())?.leases.length === 2);
    process.kill(-(a.pid as number), 'SIGKILL');
    await until(async () => (await status())?.leases.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect((await status())?.state).toBe('running');
    process.kill(-(b.pid as number), 'SIGKILL');
    await until(async () => (await status())?.state === 'offline');
  });

  it('should keep the lease through a SIGKILL of the wrapper alone, until the command exits', async () => {
    const { dir, socket, status } = await daemon();
    const done = join(dir, 'done');
    const started = join(dir, 'started');
    // The reply comes once m4 runs; CMD runs after it: wait for CMD, not for the state.
    const h = hold(socket, `touch ${started}; sleep 1; touch ${done}`);
    await until(() => existsSync(started));
    h.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect((await status())?.leases).toHaveLength(1);
    await until(() => existsSync(done));
    await until(async () => (await status())?.state === 'offline');
  });

  it('should exit 69 without running the command when the daemon cannot be reached', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-none-'));
    const r = spawnSync(
      process.execPath,
      [bin, 'hold', 'm4', '--socket', join(dir, 'no.sock'), '--', 'touch', join(dir, 'ran')],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(69);
    expect(r.stderr).toMatch(/cannot reach the daemon .*ENOENT/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('should answer --help, and refuse a missing command with exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-none-'));
    const r = spawnSync(process.execPath, [bin, 'hold', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(
      spawnSync(process.execPath, [bin, 'hold', 'm4', '--socket', join(dir, 's')], { encoding: 'utf8' })
        .status,
    ).toBe(2);
  });

  it('should release what it holds and stop the processor on SIGTERM', async () => {
    const { socket, d, status } = await daemon();
    const c = await DaemonClient.connect(socket);
    await c.request({ op: 'acquire', processor: 'm4' });
    await until(async () => (await status())?.state === 'running');
    const exited = new Promise<number | null>((r) => d.on('exit', (code) => r(code)));
    d.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });

  it('should exit with the command’s code, forwarded from a real run', async () => {
    const { socket } = await daemon();
    const r = await new Promise<number | null>((resolve) => {
      const h = spawn(process.execPath, [bin, 'hold', 'm4', '--socket', socket, '--', 'sh', '-c', 'exit 7'], {
        stdio: 'ignore',
      });
      children.push(h);
      h.on('exit', (code) => resolve(code));
    });
    expect(r).toBe(7);
  });

  it('should lose the lease of a frozen (SIGSTOPped) holder after its TTL', async () => {
    const { socket, status } = await daemon();
    const h = spawn(
      process.execPath,
      [bin, 'hold', 'm4', '--socket', socket, '--ttl', '1000', '--', 'sleep', '30'],
      {
        stdio: 'ignore',
        detached: true,
      },
    );
    children.push(h);
    await until(async () => (await status())?.state === 'running');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await status())?.leases).toHaveLength(1); // the pings (every 333 ms) keep it past the TTL
    process.kill(-(h.pid as number), 'SIGSTOP');
    await until(async () => {
      const s = await status();
      return s?.state === 'offline' && s.leases.length === 0;
    });
    process.kill(-(h.pid as number), 'SIGKILL');
    process.kill(-(h.pid as number), 'SIGCONT');
  });

  it('should re-register with --reconnect after the daemon restarts', async () => {
    const first = await daemon();
    const started = join(first.dir, 'started');
    const h = spawn(
      process.execPath,
      [
        bin,
        'hold',
        'm4',
        '--socket',
        first.socket,
        '--reconnect',
        '--',
        'sh',
        '-c',
        `touch ${started}; sleep 30`,
      ],
      {
        stdio: 'ignore',
        detached: true,
      },
    );
    children.push(h);
    // Granted (CMD runs only after the reply, which waits for m4 to run), not just asked for.
    await until(() => existsSync(started));
    first.d.kill('SIGKILL');
    await new Promise((r) => first.d.on('exit', r));
    // A new daemon on the same socket path: the stale socket is cleared.
    spawnDaemon(first.dir, 'ignore');
    await until(async () => {
      try {
        return (await first.status())?.leases.length === 1;
      } catch {
        return false;
      }
    });
    await until(async () => (await first.status())?.state === 'running');
    process.kill(-(h.pid as number), 'SIGKILL');
  }, 20_000);

  it('should run the embedded-service example to the end', () => {
    const example = join(dirname(bin), '..', 'examples', 'embedded-service.mjs');
    const r = spawnSync(process.execPath, [example], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('adsp crashed');
    expect(r.stdout).toContain('done: the processor is offline');
  });
});
