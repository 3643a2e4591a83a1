// The inspector in real headless Chromium (Debian's, driven by playwright-core): the replay of the
// built-in "monitor crash" scenario agrees with `compare`, and the live daemon page follows a SIGKILL.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

/** A fresh page that records every URL it requests, WebSockets included. */
async function openPage(url: string): Promise<{ page: Page; requested: string[] }> {
  const page = await context.newPage();
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  page.on('websocket', (ws) => requested.push(ws.url()));
  await page.goto(url);
  return { page, requested };
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
    const { page, requested } = await openPage(url);
    await expect.poll(() => text(page, 'state-hybrid-m4'), { timeout: 15_000 }).toBe('offline');

    // Stop just before the monitor's SIGKILL, then step event by event until hybrid's m4 is offline.
    await page.getByTestId('marker-kill-monitor-sysfs-monitor').click();
    expect(Number(await text(page, 'time'))).toBe(3000);
    expect(await text(page, 'state-hybrid-m4')).toBe('running');
    expect(await text(page, 'holders-sysfs-monitor-m4')).toBe('1');
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
    // The statechart is drawn from the machine, with the active state highlighted.
    expect(await page.locator('[data-testid="chart-hybrid-m4"] g.active').count()).toBeGreaterThan(0);

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

    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((u) => !local(u, port))).toEqual([]);
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
    const { page, requested } = await openPage(url);
    await expect.poll(() => text(page, 'state-live-m4'), { timeout: 15_000 }).toBe('offline');

    const hold = cli(['hold', 'm4', '--socket', socket, '--', 'sleep', '60']);
    await expect.poll(() => text(page, 'holders-live-m4'), { timeout: 15_000 }).toBe('1');
    await expect.poll(() => text(page, 'state-live-m4'), { timeout: 15_000 }).toBe('running');
    expect(await page.getByTestId('leases-live').textContent()).toContain(String(hold.child.pid));

    // The daemon found nothing powered at start, so it has nothing to adopt and no grace period to wait.
    const killed = Date.now();
    process.kill(-(hold.child.pid as number), 'SIGKILL');
    // A string: evaluated in the page (this test is compiled without the DOM's types).
    await page.waitForFunction(
      `document.querySelector('[data-testid="holders-live-m4"]')?.textContent === '0' &&
       document.querySelector('[data-testid="state-live-m4"]')?.textContent === 'offline'`,
      undefined,
      { timeout: 10_000, polling: 20 },
    );
    const latency = Date.now() - killed;
    console.log(`live inspector: lease table and state updated ${latency} ms after SIGKILL`);
    expect(latency).toBeLessThan(1000);
    expect(await page.getByTestId('leases-live').textContent()).toContain('no leases');

    expect(requested.filter((u) => !local(u, port))).toEqual([]);
    await page.close();
    daemon.child.kill('SIGTERM');
    await until(() => daemon.child.exitCode !== null, 10_000, 20);
    expect(daemon.child.exitCode).toBe(0);
  }, 90_000);
});
