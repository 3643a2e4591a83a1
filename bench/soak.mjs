// bench/soak.mjs: the soak benchmark — 1,000,000 acquire + release round trips over the socket of a
// real daemon process by 100 clients; its RSS at the end against its RSS after warm-up.

import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** The target: RSS at the end at most this fraction above RSS after warm-up (less is no leak). */
export const SOAK_RSS_TOLERANCE = 0.1;

/**
 * The clients, in a second process: `clients` loops share one count; each prints `warm` once
 * `warmup` round trips are done, and `done <round trips> <ms>` when `total` are.
 */
const CLIENT_SCRIPT = `
import { DaemonClient } from ${JSON.stringify(new URL('../dist/actors/daemon/DaemonClient.js', import.meta.url).href)};
const [socketPath, clients, warmup, total] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
process.stdin.on('end', () => process.exit(0)).resume();
const conns = await Promise.all(Array.from({ length: clients }, () => DaemonClient.connect(socketPath)));
let started = 0, done = 0, t0 = 0, pause = null;
const loop = async (c) => {
  while (started < total) {
    if (pause) await pause;
    started++;
    const a = await c.request({ op: 'acquire', processor: 'm4' });
    if (!a.ok) throw new Error('acquire: ' + JSON.stringify(a.error));
    const r = await c.request({ op: 'release', lease: a.lease });
    if (!r.ok) throw new Error('release: ' + JSON.stringify(r.error));
    done++;
    if (done % 100000 === 0) process.stdout.write('at ' + done + '\\n');
    if (done === warmup) {
      // A pause after warm-up, the daemon idle as at the end, for its first RSS reading.
      pause = new Promise((r) => setTimeout(r, 1500)).then(() => {
        pause = null;
        t0 = performance.now();
      });
      process.stdout.write('warm\\n');
    }
  }
};
await Promise.all(conns.map(loop));
process.stdout.write('done ' + (done - warmup) + ' ' + (performance.now() - t0) + '\\n', () => process.exit(0));
`;

/**
 * Preloaded into the daemon (and the bare node it is compared with): SIGUSR2 runs a full GC, so that
 * RSS readings are taken on a collected heap; its stdin is the bench's, so when the bench goes,
 * however it went, so does it.
 */
export const GC_ON_SIGNAL = `data:text/javascript,${encodeURIComponent(
  "process.on('SIGUSR2', () => globalThis.gc?.()); process.stdin.on('end', () => process.exit(0)).resume();",
)}`;

/** `rproc-supervisor` as a user runs it. */
export const BIN = new URL('../bin/rproc-supervisor.js', import.meta.url).pathname;

/**
 * Node's argv for `rproc-supervisor daemon --driver sim` on one instant processor `m4` (its file written
 * in `dir`), serving `socket`, with a full GC on SIGUSR2 ({@link GC_ON_SIGNAL}) for RSS readings.
 */
export function simDaemonArgv(dir, socket) {
  writeFileSync(join(dir, 'p.json'), JSON.stringify([{ name: 'm4', bootMs: 0, stopMs: 0 }]));
  const daemon = ['daemon', '--driver', 'sim', '--processors', join(dir, 'p.json'), '--socket', socket];
  return ['--expose-gc', '--import', GC_ON_SIGNAL, BIN, ...daemon];
}

export const rssKiB = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The daemon's RSS just after a full GC in it. */
async function collectedRss(pid) {
  process.kill(pid, 'SIGUSR2');
  await sleep(200);
  return rssKiB(pid);
}

/**
 * Runs the soak: a daemon process on the sim driver (one processor that boots and stops at once), 100
 * clients, `total` round trips of which `warmup` come first; returns its benchmark record.
 * @param {{ total?: number, warmup?: number, clients?: number, progress?: (msg: string) => void }} o
 */
export async function soakBenchmark({
  total = 1_000_000,
  warmup = 100_000,
  clients = 100,
  progress = () => {},
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rproc-soak-'));
  const socket = join(dir, 'd.sock');
  // The daemon as a board runs it: `rproc-supervisor daemon` on the sim driver, its log (one line per
  // lease granted) to a file.
  const logFd = openSync(join(dir, 'daemon.log'), 'w');
  const daemon = spawn(process.execPath, simDaemonArgv(dir, socket), { stdio: ['pipe', 'ignore', logFd] });
  const log = () => readFileSync(join(dir, 'daemon.log'), 'utf8');
  try {
    const deadline = Date.now() + 20_000;
    while (!log().includes('info: ready')) {
      if (Date.now() > deadline || daemon.exitCode !== null)
        throw new Error(`soak: the daemon did not start: ${log()}`);
      await sleep(20);
    }
    // Ready and idle, before any client: its RSS (no GC forced: as it runs).
    await sleep(1000);
    const rssReady = rssKiB(daemon.pid);
    const t0 = performance.now();
    progress(`soak: ${total} acquire + release round trips by ${clients} clients (${warmup} to warm up)`);
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', CLIENT_SCRIPT, socket, String(clients), String(warmup), String(total)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    let rssWarm = 0;
    let warmRead = null;
    let out = '';
    const finished = new Promise((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (c) => {
        out += c;
        // Every 100,000 round trips: where the RSS is (not after a GC: under load), for the progress line.
        for (const [, n] of c.matchAll(/at (\d+)/g))
          progress(`soak: ${n} round trips, RSS ${rssKiB(daemon.pid)} KiB`);
        if (!warmRead && out.includes('warm\n'))
          warmRead = sleep(500)
            .then(() => collectedRss(daemon.pid))
            .then((kib) => {
              rssWarm = kib;
            });
      });
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`soak: clients exited ${code}`)),
      );
    });
    await finished;
    await warmRead;
    const [, trips, ms] = /done (\d+) ([\d.]+)/.exec(out) ?? [];
    const rssEnd = await collectedRss(daemon.pid);
    const growth = (rssEnd - rssWarm) / rssWarm;
    const perS = (Number(trips) * 1000) / Number(ms);
    progress(`soak took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return {
      name: 'soak-1m-round-trips',
      params: {
        round_trips: total,
        clients,
        warmup,
        round_trips_per_s: Math.round(perS),
        rss_ready_kib: rssReady,
        rss_warm_kib: rssWarm,
        rss_end_kib: rssEnd,
        rss_growth_pct: Math.round(growth * 1000) / 10,
        target: `RSS end <= +${SOAK_RSS_TOLERANCE * 100}% of RSS after warm-up`,
        pass: rssWarm > 0 && growth <= SOAK_RSS_TOLERANCE,
      },
      median_ms: Math.round((Number(ms) / Number(trips)) * clients * 1000) / 1000,
      ratio: Math.round((rssEnd / rssWarm) * 100) / 100,
    };
  } finally {
    daemon.kill('SIGKILL');
    closeSync(logFd);
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node bench/soak.mjs [total]`: the soak alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const total = Number(process.argv[2] ?? 1_000_000);
  const record = await soakBenchmark({
    total,
    warmup: Number(process.argv[3] ?? Math.min(100_000, Math.floor(total / 10))),
    progress: (m) => console.error(m),
  });
  console.log(JSON.stringify(record, null, 2));
}
