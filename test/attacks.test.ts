// The attack suite: a local user's attacks on a real daemon process — each bounded in time, each
// checking that the daemon still answers, that a legitimate holder keeps its lease, and that RSS stays bounded.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { type AttackedDaemon, attackedDaemon, legitimateHolder, rawConnect } from './attackDaemon.js';
import { bin } from './bin.js';
import { okReply } from './okReply.js';
import { until } from './wait.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function underAttack(opts: Parameters<typeof attackedDaemon>[0] = {}) {
  const d = await attackedDaemon(opts);
  cleanups.push(() => d.stop());
  const legit = await legitimateHolder(d.socket);
  cleanups.push(() => legit.close());
  return { d, legit, rssBefore: d.rssKiB() };
}

/**
 * What every attack must leave: an answering daemon, the legitimate lease, an RSS grown less than
 * `boundMiB` (100 MiB unless the attack's own bounds add up to more).
 */
async function survived(
  d: AttackedDaemon,
  legit: { kept(): Promise<boolean> },
  rssBefore: number,
  boundMiB = 100,
) {
  expect(d.proc.exitCode, 'the daemon is still running').toBeNull();
  expect(await d.answers(), 'the daemon answers a new connection').toBe(true);
  expect(await legit.kept(), 'the legitimate holder keeps its lease').toBe(true);
  // Bounded: the attacks below would take it to hundreds of MiB or GiB unbounded.
  expect(d.rssKiB() - rssBefore, 'RSS growth in KiB').toBeLessThan(boundMiB * 1024);
}

/** Runs the command without blocking this process (the legitimate holder keeps pinging meanwhile). */
function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    p.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const sockets = (list: Array<Socket | null>) => list.filter((s): s is Socket => s !== null);

// Each case takes a few seconds on an idle machine; the bound leaves room for a loaded one (daemon
// start-up alone took 8 s at a load average of 19 on 2 cores).
describe('attacks on the daemon', { timeout: 60_000 }, () => {
  it('should close a peer that asks for status without reading, not buffer it (status amplification)', async () => {
    const { d, legit, rssBefore } = await underAttack();
    // 2,016 leases over 32 connections (63 each, under the per-peer bound of 64).
    const holders = await Promise.all(Array.from({ length: 32 }, () => DaemonClient.connect(d.socket)));
    cleanups.push(() => {
      for (const h of holders) h.close();
    });
    await Promise.all(
      holders.flatMap((h) =>
        Array.from({ length: 63 }, async () => okReply(await h.request({ op: 'acquire', processor: 'm4' }))),
      ),
    );
    const attacker = await rawConnect(d.socket);
    if (!attacker) throw new Error('cannot connect');
    cleanups.push(() => attacker.destroy());
    attacker.pause();
    attacker.write('{"op":"status","id":1}\n'.repeat(20_000));
    await until(() => d.log().includes('peer does not read its replies, closing connection'), 30_000, 20);
    await survived(d, legit, rssBefore);
  });

  it('should drop a subscriber that does not read with a reason, and keep the others going', async () => {
    const processors = Array.from({ length: 100 }, (_, i) => ({ name: `p${i}`, bootMs: 1, stopMs: 1 }));
    const { d, legit, rssBefore } = await underAttack({
      processors: [{ name: 'm4', bootMs: 5, stopMs: 5 }, ...processors],
      extra: ['--poll-ms', '5', '--max-unsent-bytes', '65536'],
    });
    const subscribers = sockets(await Promise.all(Array.from({ length: 10 }, () => rawConnect(d.socket))));
    cleanups.push(() => {
      for (const s of subscribers) s.destroy();
    });
    for (const s of subscribers) {
      s.pause();
      s.write('{"op":"subscribe","id":1}\n');
    }
    // Churn: every processor started and stopped over and over, each change an event to each subscriber.
    const churn = await DaemonClient.connect(d.socket);
    cleanups.push(() => churn.close());
    let churning = true;
    const loop = (async () => {
      while (churning) {
        const got = await Promise.all(
          processors.map((p) => churn.request({ op: 'acquire', processor: p.name })),
        );
        await new Promise((r) => setTimeout(r, 20));
        await Promise.all(got.map((g) => (g.ok ? churn.request({ op: 'release', lease: g.lease }) : null)));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await until(() => (d.log().match(/subscriber dropped/g)?.length ?? 0) >= subscribers.length, 30_000, 50);
    churning = false;
    await loop;
    // The dropped subscriber's connection is still open, and the reason is in what it was sent.
    const first = subscribers[0] as Socket;
    let text = '';
    first.setEncoding('utf8').on('data', (c: string) => {
      text += c;
    });
    first.resume();
    await until(() => text.includes('"subscription.dropped"'), 5000, 20);
    expect(text).toContain('"reason":"slow-reader"');
    await survived(d, legit, rssBefore);
  });

  it('should close 500 slowloris connections after --frame-timeout-ms, answering all along', async () => {
    const { d, legit, rssBefore } = await underAttack({
      extra: ['--frame-timeout-ms', '1500', '--max-connections-per-uid', '2000'],
    });
    const slow = sockets(await Promise.all(Array.from({ length: 500 }, () => rawConnect(d.socket))));
    expect(slow.length).toBe(500);
    cleanups.push(() => {
      for (const s of slow) s.destroy();
    });
    let closed = 0;
    for (const s of slow) {
      s.on('close', () => closed++);
      s.resume();
      s.write('{"op":"status","i');
    }
    // While they hold their half frames, the daemon answers.
    expect(await d.answers()).toBe(true);
    await until(() => closed === slow.length, 30_000, 20);
    expect(d.log()).toContain('partial frame held for more than 1500 ms');
    await survived(d, legit, rssBefore);
  });

  it('should stay up with connections up to its descriptor limit (ulimit -n 128)', async () => {
    const { d, legit, rssBefore } = await underAttack({ nofile: 128 });
    const flood = sockets(await Promise.all(Array.from({ length: 300 }, () => rawConnect(d.socket))));
    cleanups.push(() => {
      for (const s of flood) s.destroy();
    });
    let open = flood.length;
    for (const s of flood) {
      s.on('close', () => open--);
      s.resume();
    }
    await new Promise((r) => setTimeout(r, 500));
    // At most its bound (the limit less the descriptors it keeps for itself) stay open.
    expect(open).toBeLessThanOrEqual(128 - 64);
    expect(d.proc.exitCode).toBeNull();
    expect(await legit.kept()).toBe(true);
    for (const s of flood) s.destroy();
    await survived(d, legit, rssBefore);
  });

  it('should refuse a ttlMs of 2^31 (EINVAL) and not stop the processor (TTL overflow)', async () => {
    const { d, legit, rssBefore } = await underAttack();
    const c = await DaemonClient.connect(d.socket);
    cleanups.push(() => c.close());
    for (const ttlMs of [2 ** 31, 2 ** 40]) {
      const r = await c.request({ op: 'acquire', processor: 'm4', ttlMs });
      expect(r).toMatchObject({ ok: false, error: { code: 'EINVAL' } });
    }
    await new Promise((r) => setTimeout(r, 200));
    const s = okReply(await c.request({ op: 'status', processor: 'm4' })).status.processors[0];
    expect(s?.state).toBe('running');
    const hold = await run(['hold', 'm4', '--socket', d.socket, '--ttl', String(2 ** 31), '--', 'true']);
    expect(hold.status).toBe(2);
    expect(hold.stderr).toContain('--ttl');
    await survived(d, legit, rssBefore);
  });

  it('should keep a pinging TTL holder’s lease through a 5 s SIGSTOP of the daemon', async () => {
    const { d, rssBefore } = await underAttack();
    const holder = await legitimateHolder(d.socket, 'm4', 1000); // pings every 250 ms
    cleanups.push(() => holder.close());
    await new Promise((r) => setTimeout(r, 500));
    process.kill(d.pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 5000));
    process.kill(d.pid, 'SIGCONT');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await holder.kept()).toBe(true);
    expect(d.log()).not.toContain('lease expired');
    await survived(d, holder, rssBefore);
  });

  it('should escape what a peer sends in the daemon’s text log and in status (log and terminal injection)', async () => {
    const { d, legit, rssBefore } = await underAttack();
    const c = await DaemonClient.connect(d.socket);
    cleanups.push(() => c.close());
    const forged = 'x\ninfo: lease granted lease=lease-99 client=root\u001b[2J';
    const r = await c.request({ op: 'acquire', processor: 'm4', client: forged });
    expect(r).toMatchObject({ ok: false, error: { code: 'EINVAL' } });
    // A malformed frame whose error quotes it: the quote reaches the log escaped.
    const raw = await rawConnect(d.socket);
    raw?.resume();
    raw?.write('\u001b[31mred\rinfo: forged line {\n');
    await until(() => d.log().includes('protocol error'), 3000, 20);
    expect(d.log()).not.toContain('\u001b');
    expect(d.log()).not.toMatch(/^info: forged/m);
    expect(d.log()).not.toContain('client=root');
    const status = await run(['status', '--socket', d.socket]);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain('legit');
    expect(status.stdout).not.toContain('\u001b');
    await survived(d, legit, rssBefore);
  });

  it('should refuse --socket on a regular file with ENOTSOCK and leave the file as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-attack-file-'));
    const file = join(dir, 'passwd');
    writeFileSync(file, 'root:x:0:0\n');
    const r = spawnSync(process.execPath, [bin, 'daemon', '--driver', 'sim', '--socket', file], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ENOTSOCK');
    expect(readFileSync(file, 'utf8')).toBe('root:x:0:0\n');
  });

  it('should answer 403 to the inspector without its token, HTTP and WebSocket', async () => {
    const { d, legit, rssBefore } = await underAttack({ extra: ['--inspect'] });
    const url = new URL(inspectorUrl(d.log()));
    const base = `http://127.0.0.1:${url.port}`;
    for (const path of ['/', '/app.js', '/ws', `/${'0'.repeat(32)}/`])
      expect((await fetch(`${base}${path}`)).status).toBe(403);
    expect((await fetch(url)).status).toBe(200);
    const refused = await wsOpen(`ws://127.0.0.1:${url.port}/ws`);
    expect(refused).toMatch(/403/);
    expect(await wsOpen(`ws://127.0.0.1:${url.port}${url.pathname}ws`)).toBe('open');
    await survived(d, legit, rssBefore);
  });

  it('should stay bounded with pages that never read while leases are pinged in a flood (inspector flood)', async () => {
    const { d, legit, rssBefore } = await underAttack({ extra: ['--inspect'] });
    const url = new URL(inspectorUrl(d.log()));
    // 300 TTL leases over 5 connections, so every ping is a burst of inspection events.
    const flooders = await Promise.all(Array.from({ length: 5 }, () => DaemonClient.connect(d.socket)));
    cleanups.push(() => {
      for (const f of flooders) f.close();
    });
    for (const f of flooders)
      await Promise.all(
        Array.from({ length: 60 }, async () =>
          okReply(await f.request({ op: 'acquire', processor: 'm4', client: 'flood', ttlMs: 60_000 })),
        ),
      );
    const pages = await Promise.all(
      Array.from({ length: 5 }, () => wsConnect(`ws://127.0.0.1:${url.port}${url.pathname}ws`)),
    );
    cleanups.push(() => {
      for (const p of pages) p.terminate();
    });
    for (const p of pages) (p as unknown as { _socket: Socket })._socket.pause();
    const end = Date.now() + 6000;
    while (Date.now() < end) {
      await Promise.all(flooders.map((f) => f.request({ op: 'ping' })));
    }
    // The inspector's own bounds add up to 52 MiB of text (8 MiB unread per page × 5, 8 MiB of stream
    // and 4 MiB of states stored), held as JS strings and socket buffers: a clean-clone run measured
    // 100.2 MiB of growth, over the general 100 MiB bound; this case gets 160.
    await survived(d, legit, rssBefore, 160);
    // A new page still gets a bounded first message.
    const fresh = await wsConnect(`ws://127.0.0.1:${url.port}${url.pathname}ws`);
    cleanups.push(() => fresh.terminate());
    const first = await new Promise<string>((resolve) => fresh.once('message', (m) => resolve(String(m))));
    expect(first.length).toBeLessThan(4 * 1024 * 1024);
    expect(JSON.parse(first).type).toBe('live.init');
  });
});

function inspectorUrl(log: string): string {
  const m = /inspector url=(\S+)/.exec(log);
  if (!m?.[1]) throw new Error('no inspector url in the log');
  return m[1];
}

/** 'open', or the error a WebSocket to `url` fails with. */
function wsOpen(url: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('error', (err) => resolve(String(err.message)));
  });
}

function wsConnect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
