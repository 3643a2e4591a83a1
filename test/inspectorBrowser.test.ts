// The inspector in real headless Chromium (Debian's, driven by playwright-core): the replay of the
// built-in "monitor crash" scenario agrees with `compare` and says what it shows at every instant, the
// live daemon page follows a SIGKILL, and the actor tree nests spawned children under their parent.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createActor, setup, spawnChild, stopChild } from 'xstate';
import { createInspectionStream } from '../inspector/inspectionStream.js';
import { startInspector } from '../inspector/startInspector.js';
import { bin, simDaemonArgs } from './bin.js';
import { runCli } from './cliHarness.js';
import { until } from './wait.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`inspector browser tests skipped: no ${CHROMIUM} (apt-get install chromium)`);

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    try {
      process.kill(-(c.pid as number), 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
});

/** Spawns `rproc-supervisor ARGS…` in its own process group; collects its output. */
function cli(args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (c) => {
    out.stdout += String(c);
  });
  child.stderr?.on('data', (c) => {
    out.stderr += String(c);
  });
  return { child, out };
}

let context: BrowserContext;
let profile: string;
beforeAll(async () => {
  if (!haveChromium) return;
  profile = mkdtempSync(join(tmpdir(), 'rproc-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);
afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/**
 * A fresh page that records every URL it requests, WebSockets included, and every error it reports
 * (uncaught exceptions, console errors: a CSP refusal is one).
 */
async function openPage(url: string): Promise<{ page: Page; requested: string[]; errors: string[] }> {
  const page = await context.newPage();
  const requested: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  page.on('websocket', (ws) => requested.push(ws.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  return { page, requested, errors };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
/** Text or an attribute value as the browser serialises it, decoded. */
const decode = (s: string) =>
  s.replace(/&(#\d+|[a-z]+);/g, (e, n: string) =>
    n.startsWith('#') ? String.fromCharCode(Number(n.slice(1))) : (ENTITIES[n] ?? e),
  );

/**
 * The actor tree panel `testid` as [name, data-parent, name of the enclosing item] per actor, in
 * document order: the page's stated parent and the one its nesting draws must agree. Read in one call
 * (the live page re-renders between calls) and walked as the page's own markup: `<li … data-parent=…>
 * <span class="an">name</span> … </li>`.
 */
async function treeOf(page: Page, testid: string): Promise<Array<[string, string, string]>> {
  const html = await page.getByTestId(testid).innerHTML();
  const out: Array<[string, string, string]> = [];
  const open: string[] = [];
  for (const m of html.matchAll(
    /<li\b[^>]*\bdata-parent="([^"]*)"[^>]*><span class="an">([^<]*)<\/span>|<\/li>/g,
  )) {
    if (m[0] === '</li>') {
      open.pop();
      continue;
    }
    const name = decode(m[2] ?? '');
    out.push([name, decode(m[1] ?? ''), open.at(-1) ?? '']);
    open.push(name);
  }
  return out;
}

/** The lock step highlighted in a processor's chart, and the kernel state it is tinted with. */
async function highlighted(page: Page, chart: string) {
  const leaf = page.locator(`[data-testid="${chart}"] g.active[data-kernel-state]`);
  expect(await leaf.count()).toBe(1);
  return {
    step: await leaf.getAttribute('data-state'),
    kernel: await leaf.getAttribute('data-kernel-state'),
  };
}

const local = (url: string, port: number) =>
  url.startsWith(`http://127.0.0.1:${port}/`) ||
  url.startsWith(`ws://127.0.0.1:${port}/`) ||
  url.startsWith('data:') ||
  url.startsWith('blob:');

const text = (page: Page, testid: string) => page.getByTestId(testid).textContent();

describe.skipIf(!haveChromium)('the inspector in Chromium', () => {
  it('should replay the monitor crash: at the monitor death sysfs-monitor runs with no holder, hybrid is offline, as compare says', async () => {
    const file = 'scenarios/builtin/monitor-crash-no-restart.json';
    const server = cli([
      'inspect',
      file,
      '--strategy',
      'sysfs-monitor',
      '--strategy',
      'hybrid',
      '--port',
      '0',
      '--json',
    ]);
    await until(() => server.out.stdout.includes('\n'), 20_000, 20);
    const { url } = JSON.parse(server.out.stdout.split('\n')[0] as string) as { url: string };
    const port = Number(new URL(url).port);
    const { page, requested, errors } = await openPage(url);
    await page.getByTestId('strategy-hybrid').waitFor({ timeout: 15_000 });

    // Time 0, before the first event: nothing exists yet, and the page says so. Both strategies have a
    // statechart (the twin's machine) and a lease table (the monitor's), not yet started.
    expect(await text(page, 'time')).toBe('0');
    for (const s of ['sysfs-monitor', 'hybrid']) {
      expect(await text(page, `state-${s}-m4`)).toBe('not started');
      expect(await page.getByTestId(`chart-${s}-m4`).count()).toBe(1);
      expect(await text(page, `chart-note-${s}-m4`)).toContain('has not started yet');
      expect(await text(page, `leases-${s}`)).toContain('the monitor has not started yet');
    }
    expect(await page.getByTestId('columns').textContent()).not.toMatch(/real one|No lease table/);
    // One step: the twin's processor actor is the first thing a run creates, and the tree shows it.
    await page.getByTestId('step').click();
    await expect.poll(() => page.getByTestId('tree-sysfs-monitor').textContent()).toContain('remoteproc0');

    // Stop just before the monitor's SIGKILL, then step event by event until hybrid's m4 is offline.
    await page.getByTestId('marker-kill-monitor-sysfs-monitor').click();
    expect(Number(await text(page, 'time'))).toBe(3000);
    expect(await text(page, 'state-hybrid-m4')).toBe('running');
    expect(await text(page, 'holders-sysfs-monitor-m4')).toBe('1');
    // The lock is idle while m4 runs: the highlighted step says so, tinted with rproc->state.
    expect(await highlighted(page, 'chart-hybrid-m4')).toEqual({ step: 'idle', kernel: 'running' });
    // The tree: every actor of the run, each drawn under the parent the stream names.
    const tree = await treeOf(page, 'tree-hybrid');
    expect(tree.map(([name]) => name).sort()).toEqual(['lease:audio', 'm4', 'remoteproc0', 'supervisor']);
    for (const [name, parent, drawn] of tree) expect(drawn, name).toBe(parent);
    // supervisor → its processor actor → the lease, a spawned child of its processor's actor.
    const parentOf = (n: string) => tree.find(([name]) => name === n)?.[1];
    expect([parentOf('lease:audio'), parentOf('m4')]).toEqual(['m4', 'supervisor']);
    let steps = 0;
    while ((await text(page, 'state-hybrid-m4')) !== 'offline') {
      expect(++steps, 'hybrid never went offline after the monitor died').toBeLessThan(200);
      await page.getByTestId('step').click();
    }
    const t = Number(await text(page, 'time'));
    expect(t).toBeGreaterThanOrEqual(3000);
    expect(t).toBeLessThan(6000); // the client is still alive: only the monitor has died
    expect(await text(page, 'state-sysfs-monitor-m4')).toBe('running');
    expect(await text(page, 'holders-sysfs-monitor-m4')).toBe('0');
    expect(await text(page, 'holders-hybrid-m4')).toBe('0');
    expect(await page.getByTestId('leases-sysfs-monitor').textContent()).toContain('monitor gone');
    // The statechart is drawn from the machine: the same idle lock step, now on an offline processor.
    expect(await highlighted(page, 'chart-hybrid-m4')).toEqual({ step: 'idle', kernel: 'offline' });
    expect(await highlighted(page, 'chart-sysfs-monitor-m4')).toEqual({ step: 'idle', kernel: 'running' });
    expect(await page.getByTestId('tree-sysfs-monitor').textContent()).toMatch(/lease:audio.*stopped/);

    if (process.env.RPROC_INSPECTOR_SCREENSHOT) {
      await page.setViewportSize({ width: 1360, height: 1130 });
      await page.screenshot({ path: process.env.RPROC_INSPECTOR_SCREENSHOT, fullPage: false });
    }

    // What the page shows is what compare computes for the same file.
    const compared = runCli(['compare', file, '--strategies', 'sysfs-monitor,hybrid', '--json']);
    expect(compared.code).toBe(0);
    const runs = JSON.parse(compared.stdout) as Array<{ strategy: string; metrics: Record<string, unknown> }>;
    for (const r of runs) {
      for (const [name, value] of Object.entries(r.metrics)) {
        const shown =
          value === null
            ? 'never'
            : typeof value === 'object'
              ? `${(value as { notified: number; of: number }).notified}/${(value as { of: number }).of}`
              : String(value);
        expect(await text(page, `metric-${r.strategy}-${name}`), `${r.strategy} ${name}`).toBe(shown);
      }
    }
    const orphan = (s: string) => runs.find((r) => r.strategy === s)?.metrics.orphanMs as number;
    // Running with no holder at the monitor's death is what becomes orphan time; offline is none.
    expect(orphan('sysfs-monitor')).toBeGreaterThan(0);
    expect(orphan('hybrid')).toBe(0);
    // hybrid's wrongful stop and unavailability are its documented fail-safe: the cells say so (a
    // tooltip and a numbered footnote); sysfs-monitor paid no documented cost.
    for (const m of ['wrongfulStops', 'unavailableMs']) {
      expect(await page.getByTestId(`costmark-hybrid-${m}`).count()).toBe(1);
      const cell = page.getByTestId(`metric-hybrid-${m}`).locator('xpath=..');
      expect(await cell.getAttribute('title')).toContain('hybrid’s fail-safe stop');
    }
    expect(await page.locator('[data-testid^="costmark-sysfs-monitor-"]').count()).toBe(0);
    expect(await text(page, 'cost-hybrid-hybrid.fail-safe-stop')).toMatch(/m4 at 3000 ms.*docs\/explore\.md/);

    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((u) => !local(u, port))).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
    server.child.kill('SIGTERM');
  }, 90_000);

  it('should follow a live daemon: a SIGKILLed hold client leaves the lease table and the processor stops within a second', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-live-'));
    const { socket, args } = simDaemonArgs(dir, ['--inspect']);
    const daemon = cli(args);
    await until(() => /inspector url=(\S+)/.test(daemon.out.stderr) && existsSync(socket), 20_000, 20);
    const url = (/inspector url=(\S+)/.exec(daemon.out.stderr) as RegExpExecArray)[1] as string;
    const port = Number(new URL(url).port);
    // The printed URL carries the token; the page and its socket load under it (no 403 in `errors`).
    expect(new URL(url).pathname).toMatch(/^\/[0-9a-f]{32}\/$/);
    const { page, requested, errors } = await openPage(url);
    await expect.poll(() => text(page, 'state-live-m4'), { timeout: 15_000 }).toBe('offline');

    const hold = cli(['hold', 'm4', '--socket', socket, '--', 'sleep', '60']);
    await expect.poll(() => text(page, 'holders-live-m4'), { timeout: 15_000 }).toBe('1');
    await expect.poll(() => text(page, 'state-live-m4'), { timeout: 15_000 }).toBe('running');
    expect(await page.getByTestId('leases-live').textContent()).toContain(String(hold.child.pid));
    // The lease table is above the fold of a 900 px high window, beside the processors.
    // (polled: the live page re-renders, and a replaced element has no box for a moment)
    await expect
      .poll(async () => {
        const box = await page.getByTestId('leases-live').boundingBox();
        return box ? box.y + box.height : Number.POSITIVE_INFINITY;
      })
      .toBeLessThan(900);
    expect(await highlighted(page, 'chart-live-m4')).toEqual({ step: 'idle', kernel: 'running' });
    // The actors of the daemon: the twin's processor (recorded when the inspector attached) and the
    // supervisor (at its first event), each under the parent the stream names.
    await expect
      .poll(async () => (await treeOf(page, 'tree-live')).map(([n]) => n).sort())
      .toEqual(expect.arrayContaining(['remoteproc0', 'supervisor']));
    const misdrawn = async () =>
      (await treeOf(page, 'tree-live')).filter(([, parent, drawn]) => parent !== drawn);
    await expect.poll(misdrawn).toEqual([]);

    // The daemon found nothing powered at start, so it has nothing to adopt and no grace period to wait.
    const killed = Date.now();
    process.kill(-(hold.child.pid as number), 'SIGKILL');
    // A selector, matched by Playwright's injected script in its own world: no eval in the page, whose
    // CSP (script-src 'self') refuses it — waitForFunction evals its predicate there, and failed so.
    await page
      .locator('[data-testid="proc-live-m4"][data-holders="0"][data-state="offline"]')
      .waitFor({ state: 'attached', timeout: 10_000 });
    expect(await text(page, 'holders-live-m4')).toBe('0');
    expect(await text(page, 'state-live-m4')).toBe('offline');
    const latency = Date.now() - killed;
    console.log(`live inspector: lease table and state updated ${latency} ms after SIGKILL`);
    expect(latency).toBeLessThan(1000);
    expect(await page.getByTestId('leases-live').textContent()).toContain('no leases');

    expect(requested.filter((u) => !local(u, port))).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
    daemon.child.kill('SIGTERM');
    await until(() => daemon.child.exitCode !== null, 10_000, 20);
    expect(daemon.child.exitCode).toBe(0);
  }, 90_000);

  it('should draw a spawned child under its parent in the actor tree, and its end', async () => {
    const child = setup({}).createMachine({ id: 'child', initial: 'on', states: { on: {} } });
    const parent = setup({ actors: { child } }).createMachine({
      id: 'parent',
      on: { add: { actions: spawnChild('child', { id: 'kid' }) }, drop: { actions: stopChild('kid') } },
    });
    const stream = createInspectionStream();
    const root = createActor(parent, { id: 'root', inspect: stream.observer }).start();
    const live = { state: () => ({ title: 'tree', strategy: null, processors: [] }), stream };
    const server = await startInspector({ source: { kind: 'live', live }, port: 0 });
    try {
      const { page, errors } = await openPage(server.url);
      await expect.poll(() => treeOf(page, 'tree-live'), { timeout: 15_000 }).toEqual([['root', '', '']]);
      root.send({ type: 'add' });
      await expect
        .poll(() => treeOf(page, 'tree-live'))
        .toEqual([
          ['root', '', ''],
          ['kid', 'root', 'root'],
        ]);
      expect(await page.getByTestId('actor-live-kid').getAttribute('data-status')).toBe('active');
      root.send({ type: 'drop' });
      await expect.poll(() => page.getByTestId('actor-live-kid').getAttribute('data-status')).toBe('stopped');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      root.stop();
      await server.close();
    }
  }, 60_000);
});
