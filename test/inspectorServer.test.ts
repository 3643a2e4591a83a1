// The inspector's server: 127.0.0.1 only, the page and its files, WebSocket messages; and the CLI's usage.

import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createActor } from 'xstate';
import { createInspectionStream, type StreamActor } from '../inspector/inspectionStream.js';
import type { LiveSource, LiveState } from '../inspector/liveSource.js';
import { recordReplay } from '../inspector/recordReplay.js';
import { type Inspector, rprocStatechart, startInspector } from '../inspector/startInspector.js';
import { leaseMachine } from '../machines/leaseMachine.js';
import { parseScenario } from '../scenarios/scenarioSchema.js';
import { runCli } from './cliHarness.js';
import { until } from './wait.js';

const servers: Inspector[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function replayServer() {
  const parsed = parseScenario(
    JSON.parse(readFileSync('scenarios/builtin/monitor-crash-no-restart.json', 'utf8')),
  );
  if (!parsed.ok) throw new Error('bad scenario');
  const data = recordReplay(parsed.value, ['sysfs-monitor', 'hybrid'], await rprocStatechart());
  const s = await startInspector({ source: { kind: 'replay', data }, port: 0 });
  servers.push(s);
  return s;
}

/** GET `path` with an optional Host header; resolves with status, headers and body. */
function get(port: number, path: string, host?: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: host ? { host } : {} }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

/** The messages a WebSocket client receives, collected. */
function client(url: string, origin?: string) {
  const messages: Array<{ type: string; [k: string]: unknown }> = [];
  const ws = new WebSocket(url, origin ? { origin } : {});
  ws.on('message', (m) => messages.push(JSON.parse(String(m))));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, opened };
}

describe('startInspector', () => {
  it('should listen on 127.0.0.1 only and serve the page, its module files and its style sheet', async () => {
    const s = await replayServer();
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/${s.token}/`);
    expect(s.token).toMatch(/^[0-9a-f]{32}$/);
    const t = `/${s.token}`;
    const page = await get(s.port, `${t}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="app.js">');
    // Without the token (or with another), nothing is served: 403.
    for (const bad of ['/', '/app.js', '/ws', `/${'0'.repeat(32)}/`, `/${s.token.slice(1)}/app.js`, t])
      expect((await get(s.port, bad)).status).toBe(403);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    for (const f of ['/app.js', '/draw.js', '/model.js', '/panels.js', '/app.css'])
      expect((await get(s.port, `${t}${f}`)).status).toBe(200);
    expect((await get(s.port, `${t}/../package.json`)).status).toBe(404);
    expect((await get(s.port, `/../${s.token}/app.js`)).status).not.toBe(200);
    // No external URL anywhere in what the page loads.
    for (const f of ['/', '/app.js', '/draw.js', '/model.js', '/panels.js', '/app.css'])
      expect((await get(s.port, `${t}${f}`)).body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    // DNS rebinding: another Host is refused.
    expect((await get(s.port, `${t}/`, `evil.example:${s.port}`)).status).toBe(421);
    await expect(
      new Promise((resolve, reject) => {
        const req = request({ host: '::1', port: s.port, path: '/' }, resolve);
        req.on('error', reject);
        req.end();
      }),
    ).rejects.toThrow();
  });

  it('should send the recorded replay, answer pings, and survive bad frames', async () => {
    const s = await replayServer();
    const c = client(`ws://127.0.0.1:${s.port}/${s.token}/ws`);
    await c.opened;
    await until(() => c.messages.length > 0);
    const replay = c.messages[0] as unknown as {
      type: string;
      v: number;
      data: { runs: Array<{ strategy: string }> };
    };
    expect(replay.type).toBe('replay');
    expect(replay.v).toBe(1);
    expect(replay.data.runs.map((r) => r.strategy)).toEqual(['sysfs-monitor', 'hybrid']);
    c.ws.send('{not json');
    c.ws.send(Buffer.from([0, 1, 2]), { binary: true });
    c.ws.send(JSON.stringify({ type: 'nonsense', x: [1, 2] }));
    c.ws.send('x'.repeat(200_000)); // over maxPayload: this socket is closed, the server lives on
    await until(() => c.ws.readyState === WebSocket.CLOSED, 3000);
    const d = client(`ws://127.0.0.1:${s.port}/${s.token}/ws`);
    await d.opened;
    d.ws.send(JSON.stringify({ type: 'ping' }));
    await until(() => d.messages.some((m) => m.type === 'pong'));
    d.ws.close();
  });

  it('should refuse sockets without the token (403)', async () => {
    const s = await replayServer();
    for (const path of ['/ws', `/${'f'.repeat(32)}/ws`]) {
      const c = client(`ws://127.0.0.1:${s.port}${path}`);
      await expect(c.opened).rejects.toThrow(/403/);
    }
  });

  it('should refuse sockets from another origin', async () => {
    const s = await replayServer();
    const c = client(`ws://127.0.0.1:${s.port}/${s.token}/ws`, 'https://evil.example');
    await expect(c.opened).rejects.toThrow(/403/);
  });

  it('should push a live state change at once, with the stream events', async () => {
    let state: LiveState = { title: 't', strategy: null, processors: [] };
    let changed = () => {};
    const stream = createInspectionStream();
    const live: LiveSource = {
      state: () => state,
      subscribe: (cb) => {
        changed = cb;
        return () => {};
      },
      stream,
    };
    // An actor the stream knows, created before it: a page joining late gets it in `actors`.
    const lease = createActor(leaseMachine, {
      input: { id: 'l1', client: 'a', processor: 'm4', ttlMs: null },
    });
    lease.start();
    stream.seen(lease);
    const s = await startInspector({ source: { kind: 'live', live }, port: 0, pollMs: 60_000 });
    servers.push(s);
    const c = client(`ws://127.0.0.1:${s.port}/${s.token}/ws`);
    await c.opened;
    await until(() => c.messages.some((m) => m.type === 'live.init'));
    const init = c.messages.find((m) => m.type === 'live.init') as unknown as { actors: StreamActor[] };
    expect(init.actors).toEqual([
      {
        actor: lease.sessionId,
        name: lease.id,
        machine: 'lease',
        parent: null,
        t: expect.any(Number),
        status: 'active',
      },
    ]);
    const sent = Date.now();
    state = {
      title: 't',
      strategy: 'hybrid',
      processors: [
        { name: 'm4', device: 'remoteproc0', state: 'running', power: 1, value: 'idle', leases: [] },
      ],
    };
    changed();
    await until(() => c.messages.some((m) => m.type === 'live.state'), 1000);
    expect(Date.now() - sent).toBeLessThan(1000);
    const msg = c.messages.find((m) => m.type === 'live.state') as unknown as { state: LiveState };
    expect(msg.state.processors[0]?.state).toBe('running');
    c.ws.close();
  });

  it('should report a port in use as an error', async () => {
    const s = await replayServer();
    const parsed = parseScenario(
      JSON.parse(readFileSync('scenarios/builtin/monitor-crash-no-restart.json', 'utf8')),
    );
    if (!parsed.ok) throw new Error('bad');
    const data = recordReplay(parsed.value, ['hybrid'], await rprocStatechart());
    await expect(startInspector({ source: { kind: 'replay', data }, port: s.port })).rejects.toThrow(
      /EADDRINUSE/,
    );
  });
});

describe('rproc-supervisor inspect (usage)', () => {
  const run = async (args: string[]) => {
    const r = runCli(['inspect', ...args]);
    return { code: await r.code, stdout: r.stdout, stderr: r.stderr };
  };

  it('should print its help', async () => {
    const r = runCli(['inspect', '--help']);
    expect(await r.code).toBe(0);
  });

  it('should reject an unknown scenario, an unknown strategy and a bad port with usage errors', async () => {
    const a = await run(['no-such-scenario']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(
      /no-such-scenario: no such file or built-in scenario; built-in: .*monitor-crash-no-restart/,
    );
    const b = await run(['monitor-crash-no-restart', '--strategy', 'hybrid,bogus']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--strategy: unknown bogus; known: sysfs-direct/);
    const c = await run(['--port', '70000']);
    expect(c.code).toBe(2);
    const d = await run(['--stately-ws', 'http://x']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/ws:\/\//);
  });

  it('should be listed in the main help', () => {
    expect(runCli(['--help']).stdout).toMatch(/inspect \[SCENARIO\]/);
  });
});
