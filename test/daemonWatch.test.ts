// The daemon's `watch` op and lease-lost reasons, in-process on the sim driver: who may watch, what watchers get.

import { mkdtempSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { peerCred } from '../actors/daemon/peerCred.js';
import { leaseLostReason, type PushedEvent } from '../actors/daemon/protocol.js';
import { serveProtocol } from '../actors/daemon/serveProtocol.js';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import { createSupervisor } from '../supervisors/runtime/createSupervisor.js';
import { startDaemon } from '../supervisors/runtime/startDaemon.js';
import { okReply } from './okReply.js';
import { until } from './wait.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A daemon whose peers' uids are `uids()` in connection order (the real SO_PEERCRED's pid kept). */
async function setup(uids?: number[]) {
  const driver = createSimDriver({ processors: [{ name: 'm4', bootMs: 5, stopMs: 5 }] });
  const supervisor = await createSupervisor({ driver, pollMs: 5, graceMs: 10 });
  const socketPath = join(mkdtempSync(join(tmpdir(), 'rproc-watch-')), 'd.sock');
  let n = 0;
  const credentials = (s: Socket) => {
    const c = peerCred(s);
    return c && uids ? { ...c, uid: uids[n++] ?? c.uid } : c;
  };
  const daemon = await startDaemon({ supervisor, socketPath, credentials });
  let closed = false;
  cleanup.push(async () => {
    if (!closed) await daemon.close();
    await supervisor.close();
  });
  const close = async () => {
    closed = true;
    await daemon.close();
  };
  const events = (c: DaemonClient) => {
    const seen: PushedEvent[] = [];
    c.on('event', (e: PushedEvent) => seen.push(e));
    return seen;
  };
  return { socketPath, driver, close, events, state: () => driver.twin.inspect(0).state };
}

describe('watch', () => {
  it('should tell a watcher of the holder’s uid what the holder is told, and lease.ended on a release', async () => {
    const { socketPath, events } = await setup();
    const holder = await DaemonClient.connect(socketPath);
    const watcher = await DaemonClient.connect(socketPath);
    const seen = events(watcher);
    const r = okReply(await holder.request({ op: 'acquire', processor: 'm4' }));
    expect(await watcher.request({ op: 'watch', lease: r.lease })).toMatchObject({
      ok: true,
      processor: { device: 'remoteproc0', name: 'm4' },
    });
    okReply(await holder.request({ op: 'release', lease: r.lease }));
    await until(() => seen.length === 1);
    expect(seen).toEqual([
      { v: 1, event: 'lease.ended', lease: r.lease, processor: 'remoteproc0', end: 'released' },
    ]);
    holder.close();
    watcher.close();
  });

  it('should say lease.ended closed when the holder’s connection ends', async () => {
    const { socketPath, events } = await setup();
    const holder = await DaemonClient.connect(socketPath);
    const watcher = await DaemonClient.connect(socketPath);
    const seen = events(watcher);
    const r = okReply(await holder.request({ op: 'acquire', processor: 'm4' }));
    okReply(await watcher.request({ op: 'watch', lease: r.lease }));
    holder.socket.destroy();
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ event: 'lease.ended', lease: r.lease, end: 'closed' });
    watcher.close();
  });

  it('should refuse an unknown lease (ENOENT) and another uid’s lease (EPERM)', async () => {
    const { socketPath } = await setup([1000, 1001]);
    const holder = await DaemonClient.connect(socketPath);
    const other = await DaemonClient.connect(socketPath);
    const r = okReply(await holder.request({ op: 'acquire', processor: 'm4' }));
    expect(await other.request({ op: 'watch', lease: 'lease-99' })).toMatchObject({
      ok: false,
      error: { code: 'ENOENT' },
    });
    expect(await other.request({ op: 'watch', lease: r.lease })).toMatchObject({
      ok: false,
      error: { code: 'EPERM' },
    });
    holder.close();
    other.close();
  });

  it('should keep a TTL lease alive with pings on the watching connection, and tell both ttl-expired', async () => {
    const { socketPath, events, state } = await setup();
    const holder = await DaemonClient.connect(socketPath);
    const watcher = await DaemonClient.connect(socketPath);
    const held = events(holder);
    const seen = events(watcher);
    const r = okReply(await holder.request({ op: 'acquire', processor: 'm4', ttlMs: 80 }));
    okReply(await watcher.request({ op: 'watch', lease: r.lease }));
    for (let i = 0; i < 10; i++) {
      await new Promise((res) => setTimeout(res, 30));
      okReply(await watcher.request({ op: 'ping' }));
    }
    expect(seen).toEqual([]);
    expect(state()).toBe('running');
    await until(() => seen.length === 1 && held.length === 1);
    const lost = {
      v: 1,
      event: 'lease.lost',
      lease: r.lease,
      processor: 'remoteproc0',
      reason: 'ttl-expired',
    };
    expect(seen).toEqual([lost]);
    expect(held).toEqual([lost]);
    holder.close();
    watcher.close();
  });

  it('should tell holders and watchers daemon-gone before the daemon closes their connections', async () => {
    const { socketPath, events, close } = await setup();
    const holder = await DaemonClient.connect(socketPath);
    const watcher = await DaemonClient.connect(socketPath);
    const held = events(holder);
    const seen = events(watcher);
    const r = okReply(await holder.request({ op: 'acquire', processor: 'm4' }));
    okReply(await watcher.request({ op: 'watch', lease: r.lease }));
    const gone = new Promise((res) => watcher.once('close', res));
    await close();
    await gone;
    expect(seen).toMatchObject([{ event: 'lease.lost', lease: r.lease, reason: 'daemon-gone' }]);
    expect(held).toMatchObject([{ event: 'lease.lost', lease: r.lease, reason: 'daemon-gone' }]);
  });
});

describe('lease-lost reasons of a version 1.0 daemon', () => {
  it('should map expired to ttl-expired and lost to daemon-gone, and keep the others', async () => {
    expect(['expired', 'lost', 'processor-removed', 'x'].map(leaseLostReason)).toEqual([
      'ttl-expired',
      'daemon-gone',
      'processor-removed',
      'x',
    ]);
    // DaemonClient does the mapping on what it reads.
    const socketPath = join(mkdtempSync(join(tmpdir(), 'rproc-v10-')), 'o.sock');
    const server = await serveProtocol(socketPath, 'test', (conn) => ({
      request: (r) => {
        conn.send({ id: r.id, ok: true, lease: 'lease-1', processor: { device: 'remoteproc0', name: 'm4' } });
        conn.send({
          event: 'lease.lost',
          lease: 'lease-1',
          processor: 'remoteproc0',
          reason: 'expired' as never,
        });
      },
    }));
    cleanup.push(() => server.close());
    const c = await DaemonClient.connect(socketPath);
    const seen: PushedEvent[] = [];
    c.on('event', (e: PushedEvent) => seen.push(e));
    await c.request({ op: 'acquire', processor: 'm4' });
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ reason: 'ttl-expired' });
    c.close();
  });
});
