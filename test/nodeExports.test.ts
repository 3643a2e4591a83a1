// rproc-supervisor/node from the built package, in a process of its own: startDaemon, DaemonClient and mountTwin as an embedder imports them.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';

warnIfSkipped('test/nodeExports.test.ts (its mountTwin part)');

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs an ES module script as an application that depends on this package would: the script in an
 * app directory whose node_modules/rproc-supervisor is this repository (its package.json `exports`,
 * its built dist/).
 */
function run(script: string) {
  const app = mkdtempSync(join(tmpdir(), 'rproc-app-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(repo, join(app, 'node_modules', 'rproc-supervisor'), 'dir');
  writeFileSync(join(app, 'main.mjs'), script);
  const r = spawnSync(process.execPath, [join(app, 'main.mjs')], {
    cwd: app,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr, out: r.status === 0 ? JSON.parse(r.stdout) : r.stdout };
}

describe('rproc-supervisor/node', { timeout: 90_000 }, () => {
  it('should export startDaemon and DaemonClient: a daemon embedded on the sim driver grants a lease', () => {
    const r = run(`
      import { mkdtempSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      import { createSimDriver, createSupervisor, DaemonClient, leaseLostReason, startDaemon } from 'rproc-supervisor/node';
      const supervisor = await createSupervisor({ driver: createSimDriver({ processors: [{ name: 'm4', bootMs: 5 }] }) });
      const socketPath = join(mkdtempSync(join(tmpdir(), 'rproc-node-')), 'd.sock');
      const daemon = await startDaemon({ supervisor, socketPath });
      const client = await DaemonClient.connect(socketPath);
      const lost = new Promise((r) => client.on('event', (e) => e.event === 'lease.lost' && r(e.reason)));
      const acquired = await client.request({ op: 'acquire', processor: 'm4', client: 'embedded' });
      await daemon.close();
      const reason = await lost;
      await supervisor.close();
      console.log(JSON.stringify({ acquired, reason, mapped: leaseLostReason('expired') }));
    `);
    expect(r.stderr).toBe('');
    expect(r.out).toEqual({
      acquired: { v: 1, id: 1, ok: true, lease: 'lease-1', processor: { device: 'remoteproc0', name: 'm4' } },
      reason: 'daemon-gone',
      mapped: 'ttl-expired',
    });
  });

  it.skipIf(cannotMount)(
    'should export mountTwin: the twin’s files, mounted from an embedding process',
    () => {
      const r = run(`
      import { mkdtempSync } from 'node:fs';
      import { readFile } from 'node:fs/promises';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      import { createSimDriver, mountTwin } from 'rproc-supervisor/node';
      const m = await mountTwin({ dir: join(mkdtempSync(join(tmpdir(), 'rproc-nodemnt-')), 'mnt'), processors: [{ name: 'm4' }], initTimeoutMs: 30000 });
      const name = (await readFile(join(m.sysfsRoot, 'remoteproc0', 'name'), 'utf8')).trim();
      const state = (await readFile(join(m.sysfsRoot, 'remoteproc0', 'state'), 'utf8')).trim();
      await m.close();
      console.log(JSON.stringify({ name, state, sim: typeof createSimDriver }));
    `);
      expect(r.stderr).toBe('');
      expect(r.out).toEqual({ name: 'm4', state: 'offline', sim: 'function' });
    },
  );
});
