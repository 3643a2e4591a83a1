// The daemon's bounds on each peer, in-process on the sim driver: leases and connections per peer,
// bounded status pages, labels, TTLs, refused frames that stop their connection, a socket path that is not a socket.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import type { PeerLimits } from '../actors/daemon/peerLimits.js';
import { LineSplitter } from '../actors/daemon/protocol.js';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import { escapeJson, escapeText } from '../cli/escapeText.js';
import { createSupervisor } from '../supervisors/runtime/createSupervisor.js';
import { startDaemon } from '../supervisors/runtime/startDaemon.js';
import { okReply } from './okReply.js';
import { until } from './wait.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(limits: Partial<PeerLimits> = {}, count = 1) {
  const processors = Array.from({ length: count }, (_, i) => ({
    name: i ? `p${i}` : 'm4',
    bootMs: 1,
    stopMs: 1,
  }));
  const driver = createSimDriver({ processors });
  const supervisor = await createSupervisor({ driver, pollMs: 5, graceMs: 10 });
  const socketPath = join(mkdtempSync(join(tmpdir(), 'rproc-limits-')), 'd.sock');
  const logged: string[] = [];
  const daemon = await startDaemon({
    supervisor,
    socketPath,
    limits,
    log: (e) => logged.push(JSON.stringify(e)),
    credentials: () => ({ pid: 1, uid: 1000, gid: 1000 }),
  });
  cleanup.push(async () => {
    await daemon.close();
    await supervisor.close();
  });
  const connect = async () => {
    const c = await DaemonClient.connect(socketPath);
    cleanup.push(async () => c.close());
    return c;
  };
  return { socketPath, connect, supervisor, logged, driver };
}

describe('peer limits', () => {
  it('should refuse a lease past --max-leases-per-peer with EMFILE, and grant it on another connection', async () => {
    const { connect } = await setup({ maxLeasesPerPeer: 3 });
    const c = await connect();
    for (let i = 0; i < 3; i++) okReply(await c.request({ op: 'acquire', processor: 'm4' }));
    const r = await c.request({ op: 'acquire', processor: 'm4' });
    expect(r).toMatchObject({ ok: false, error: { code: 'EMFILE' } });
    okReply(await (await connect()).request({ op: 'acquire', processor: 'm4' }));
  });

  it('should refuse a uid past its connections with EAGAIN, and accept it again once one closes', async () => {
    const { connect } = await setup({ maxConnectionsPerUid: 2 });
    const a = await connect();
    await connect();
    const third = await connect();
    const closed = new Promise((r) => third.on('close', r));
    const r = await third.request({ op: 'ping' });
    expect(r).toMatchObject({ ok: false, error: { code: 'ECONNRESET' } });
    await closed;
    a.close();
    await until(async () => (await (await connect()).request({ op: 'ping' })).ok, 2000, 20);
  });

  it('should page status by processor, bound the leases listed, and answer one processor', async () => {
    const { connect } = await setup({ maxStatusProcessors: 4, maxStatusLeases: 2 }, 10);
    const c = await connect();
    for (let i = 0; i < 5; i++) okReply(await c.request({ op: 'acquire', processor: 'm4' }));
    const first = okReply(await c.request({ op: 'status' })).status;
    expect(first.processors.map((p) => p.name)).toEqual(['m4', 'p1', 'p2', 'p3']);
    expect(first.processors[0]).toMatchObject({ leasesOmitted: 3 });
    expect(first.processors[0]?.leases).toHaveLength(2);
    expect(first.next).toBe('remoteproc3');
    const names: string[] = [];
    let after: string | undefined;
    do {
      const page = okReply(await c.request({ op: 'status', limit: 3, ...(after ? { after } : {}) })).status;
      names.push(...page.processors.map((p) => p.name));
      after = page.next;
    } while (after);
    expect(names).toHaveLength(10);
    const one = okReply(await c.request({ op: 'status', processor: 'p7' })).status;
    expect(one.processors.map((p) => p.device)).toEqual(['remoteproc7']);
    expect(await c.request({ op: 'status', processor: 'gpu' })).toMatchObject({ error: { code: 'ENODEV' } });
    expect(await c.request({ op: 'status', after: 'nope' })).toMatchObject({ error: { code: 'EINVAL' } });
  });

  it('should refuse a client label that is not printable text of at most 64 characters with EINVAL', async () => {
    const { connect } = await setup();
    const c = await connect();
    for (const client of ['a\nwarn: forged', '\u001b[2Jx', 'x'.repeat(65), 'bidi\u202etxt']) {
      const r = await c.request({ op: 'acquire', processor: 'm4', client });
      expect(r).toMatchObject({ ok: false, error: { code: 'EINVAL' } });
    }
    okReply(await c.request({ op: 'acquire', processor: 'm4', client: 'é'.repeat(64) }));
  });

  it('should refuse a ttlMs outside 1 … 2^31−1 with EINVAL and keep the connection', async () => {
    const { connect, driver } = await setup();
    const c = await connect();
    okReply(await c.request({ op: 'acquire', processor: 'm4' }));
    await until(() => driver.twin.inspect(0).state === 'running', 2000, 5);
    const r = await c.request({ op: 'acquire', processor: 'm4', ttlMs: 2 ** 31 });
    expect(r).toMatchObject({ ok: false, error: { code: 'EINVAL' } });
    okReply(await c.request({ op: 'acquire', processor: 'm4', ttlMs: 2 ** 31 - 1 }));
    await new Promise((res) => setTimeout(res, 50));
    expect(driver.twin.inspect(0).state).toBe('running');
  });

  it('should run no frame after a refused one, not even the rest of the same write', async () => {
    const { socketPath, supervisor } = await setup();
    const s = createConnection(socketPath);
    let text = '';
    s.setEncoding('utf8').on('data', (c: string) => {
      text += c;
    });
    const closed = new Promise((r) => s.on('close', r));
    s.write('{"op":"ping","id":1}\n{"op":"bogus","id":2}\n{"op":"acquire","processor":"m4","id":3}\n');
    await closed;
    expect(text).toContain('"id":1,"ok":true');
    expect(text).toContain('"code":"EPROTO"');
    expect(text).not.toContain('"id":3');
    expect(supervisor.status().processors[0]?.leases).toHaveLength(0);
  });

  it('should refuse a --socket path that is a regular file with ENOTSOCK, and leave the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-notsock-'));
    const file = join(dir, 'important');
    writeFileSync(file, 'keep me');
    const supervisor = await createSupervisor({ driver: createSimDriver({ processors: [{ name: 'm4' }] }) });
    cleanup.push(() => supervisor.close());
    await expect(startDaemon({ supervisor, socketPath: file })).rejects.toMatchObject({ code: 'ENOTSOCK' });
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });
});

describe('framing and text', () => {
  it('should split lines in linear time, however a frame is chunked, and refuse one too long', () => {
    const lines: string[] = [];
    let tooLong = 0;
    const s = new LineSplitter(
      (l) => lines.push(l),
      () => tooLong++,
    );
    const frame = `{"op":"ping","id":"${'x'.repeat(60_000)}"}\n`;
    for (const ch of frame) s.push(ch); // 60,000 pushes: quadratic would rescan 1.8e9 bytes
    expect(lines).toHaveLength(1);
    expect(s.partial).toBe(0);
    s.push('y'.repeat(70_000));
    expect(tooLong).toBe(1);
    s.push('{"op":"ping"}\n');
    expect(lines).toHaveLength(1);
  });

  it('should escape what a label could use to forge a log line or drive a terminal', () => {
    expect(escapeText('a\nwarn: x\u001b[2J\\\u202e\u0085')).toBe('a\\nwarn: x\\x1b[2J\\\\\\u{202e}\\x85');
    const json = escapeJson(JSON.stringify({ c: '\u0085\u2028\u{e0001}' }));
    expect(json).toBe('{"c":"\\u0085\\u2028\\udb40\\udc01"}');
    expect(JSON.parse(json)).toEqual({ c: '\u0085\u2028\u{e0001}' });
  });
});

describe('document bounds', () => {
  it('should refuse a scenario past its bounds with EINVAL naming each one', async () => {
    const { parseScenario, SCENARIO_BOUNDS } = await import('../scenarios/scenarioSchema.js');
    const base = { name: 'x', horizonMs: 10_000, processors: [{ name: 'm4' }], clients: [], timeline: [] };
    expect(parseScenario(base).ok).toBe(true);
    const issues = (doc: unknown) => {
      const r = parseScenario(doc);
      return r.ok ? [] : (r.error.issues ?? []);
    };
    expect(issues({ ...base, horizonMs: SCENARIO_BOUNDS.horizonMs + 1 }).join()).toContain('horizonMs');
    expect(issues({ ...base, monitor: { reconnectMs: 0 } }).join()).toContain('monitor.reconnectMs: 0');
    expect(issues({ ...base, monitor: { pollMs: 1 }, horizonMs: 200_000 }).join()).toContain(
      'monitor.pollMs',
    );
    const many = Array.from({ length: 65 }, (_, i) => ({ name: `p${i}` }));
    expect(issues({ ...base, processors: many }).join()).toContain('processors: 65');
  });

  it('should refuse a kernel run document past its bounds with EINVAL', async () => {
    const { parseKernelDocument } = await import('../actors/kernel/kernelDocument.js');
    const r = parseKernelDocument({ processors: [{ name: 'm4' }], ops: [{ op: 'advance', ms: 1e15 }] });
    expect(r).toMatchObject({ ok: false, error: { code: 'EINVAL' } });
    expect(r.ok ? '' : r.error.issues?.join()).toContain('virtual time');
  });
});
