// bench/run.mjs: benchmarks (not tests) of the scenario runner, lease churn and per-lease heap.
// The runtime benchmarks (daemon death detection, lease throughput) are in bench/runtime.mjs.
// Run with `npm run bench` (builds first), `npm run bench -- --json`, `npm run bench -- --quick`.

import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createActor, createMachine } from 'xstate';
import {
  explore,
  parseScenario,
  runScenario,
  runSupervisor,
  STRATEGY_NAMES,
  VirtualClock,
} from '../dist/index.js';
import { exploreBenchmarks } from './explore.mjs';
import { memoryBenchmark } from './memory.mjs';
import { runtimeBenchmarks } from './runtime.mjs';
import { soakBenchmark } from './soak.mjs';
import { median, range, ratios, round } from './stats.mjs';

const HELP = `Usage: node --expose-gc bench/run.mjs [--json] [--quick] [--help]

Benchmarks of rproc-supervisor (built dist/). Each benchmark runs once to warm up, then
REPS times (5; 3 with --quick), interleaved round by round; the median is reported.

  scenario-sweep      every scenarios/builtin/*.json x each of its strategies, via runScenario
  lease-churn         N = 1k / 10k / 100k leases granted to one supervisor, then all released
  bare-actors-100k    100k actors of createMachine({}) created, started, then stopped
  lease-churn-vs-bare ratio lease-churn 100k / bare-actors-100k (same rounds)
  heap-per-lease      heapUsed growth per live granted lease (10k leases + supervisor held)
  explore-depth-8     explore, all five strategies, 2 clients, 1 processor, depth 8 (3 rounds; 1 with --quick)
  explore-speedup     hybrid 2x1 to depth 8 (6 with --quick): states per s of explore's default search
                      (reuse) against replaying every path (replay), interleaved round by round (3; 1)
  explore-closed-*    every strategy, --depth unbounded (burst 3, symmetry) in one 60 s budget: complete or
                      not, states, transitions, verdicts
  explore-3x2-depth-8 hybrid, 3 clients x 2 processors, depth 8, commuting order + symmetry, in 60 s
  death-detection-*   SIGKILL of a lease-holding client process until the daemon's driver is told to stop
                      (200 kills; 50 with --quick), against a bare socket's 'close' (the floor) and a
                      1 s pid-polling monitor (20 kills; 10 with --quick); p50 and p99
  lease-throughput    100 DaemonClient connections in a second process, acquire + release in a loop for
                      1.5 s (1 s with --quick), 5 rounds (3); median round trips (acquire + release) per s,
                      next to, round by round, a bare server answering the same frames (the floor)
  soak-1m-round-trips 1,000,000 acquire + release round trips (200,000 with --quick) over the socket of a
                      daemon process by 100 clients in another; its RSS (after a full GC) at the end
                      against after the first 100,000 (20,000), and the round trips per second; the
                      daemon is \`rproc-supervisor daemon --driver sim\` (its log to /dev/null)
  daemon-rss          RSS of an idle bare node, of a ready \`daemon --driver sim\`, of the soak's daemon
                      when ready and after the soak, of a \`hold m4 -- sleep 30\` wrapper, and of what
                      \`hold --exec\` leaves (sleep itself, no child)

Targets (reported PASS/FAIL; the exit code is 0 either way):
  lease-churn 100k / 10k   <= 11   (linear scaling; was 12)
  lease-churn 100k / bare  <= 3
  explore-depth-8          < 60000 ms for all five strategies
  explore-speedup          >= 5 (reuse / replay states per s)
  explore-closed-all       every strategy complete, < 60000 ms together
  explore-3x2-depth-8      depth 8 reached in < 60000 ms
  death-detection p50      <= 1.1 x the bare socket's p50 (was 1.25)
  death-detection p99      <= 2 x the bare socket's p99
  lease-throughput         >= 20000 round trips/s
  lease-throughput-vs-floor >= 0.8 (daemon / bare server, same run)
  soak-1m-round-trips      RSS at the end within 10 % of RSS after warm-up
  daemon-rss               daemon RSS when ready <= 1.5 x bare node's (a goal)

  --json   print only a JSON array of { name, params, median_ms, ratio } on stdout
  --quick  fewer repetitions (3 instead of 5), fewer kills, a shorter throughput window
  --help   this text
`;

const args = process.argv.slice(2);
for (const a of args) {
  if (!['--json', '--quick', '--help', '-h'].includes(a)) {
    process.stderr.write(`unknown option ${a}\n\n${HELP}`);
    process.exit(2);
  }
}
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}
const JSON_OUT = args.includes('--json');
const REPS = args.includes('--quick') ? 3 : 5;
const CHURN_NS = [1_000, 10_000, 100_000];
const BARE_N = 100_000;
const HEAP_N = 10_000;
const TARGET_SCALING = 11; // issue 16 (was 12)
const TARGET_VS_BARE = 3;

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : null;
const progress = (msg) => {
  if (!JSON_OUT) process.stderr.write(`  ${msg}\n`);
};

/** Times fn() after a full GC (when available), so one workload's garbage is not charged to the next. */
function timed(fn) {
  gc?.();
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

// ---------------------------------------------------------------- scenario-sweep

const builtinDir = new URL('../scenarios/builtin/', import.meta.url);
const scenarios = readdirSync(builtinDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => {
    const parsed = parseScenario(JSON.parse(readFileSync(new URL(f, builtinDir), 'utf8')));
    if (!parsed.ok) throw new Error(`scenarios/builtin/${f}: ${parsed.error.detail}`);
    return parsed.value;
  });
const sweepRuns = scenarios.reduce((n, s) => n + s.strategies.length, 0);

function scenarioSweep() {
  let runs = 0;
  for (const s of scenarios) {
    for (const strategy of s.strategies) {
      const run = runScenario(s, { strategy });
      if (run.trace.length === 0) throw new Error(`${s.name}/${strategy}: empty trace`);
      runs++;
    }
  }
  return runs;
}

// ---------------------------------------------------------------- lease churn (the supervisor tree: leases as children of m4's actor)

/** The supervisor tree of the monitor and the daemon on one processor, with a kernel that answers at once. */
function newSupervisor(clock) {
  const calls = { start: 0, stop: 0 };
  let state = 'offline';
  const answer = (c) => {
    if (c.op === 'start') {
      calls.start++;
      state = 'running';
    } else if (c.op === 'stop') {
      calls.stop++;
      state = 'offline';
    }
    return { ok: true, value: c.op === 'state' || c.op === 'start' ? state : 0 };
  };
  const ended = { count: 0 };
  const sup = runSupervisor({
    processors: ['m4'],
    config: { recoverCrashed: true, reconcile: 'adopt', graceMs: 0, restarted: false },
    driver: { call: (_p, c) => ({ onSettled: (l) => l(answer(c)) }) },
    clock,
    pollMs: 1e9,
    onLeaseEnd: () => ended.count++,
  });
  clock.advanceBy(0);
  return { sup, calls, ended };
}

/** Grants one lease: a child actor of m4's processor actor. */
function grantLease(sup, i) {
  const id = `lease-${i}`;
  sup.acquire({ id, client: `client-${i}`, processor: 'm4', ttlMs: null });
  return id;
}

function leaseChurn(n) {
  const clock = new VirtualClock();
  const { sup, calls, ended } = newSupervisor(clock);
  const leases = new Array(n);
  for (let i = 0; i < n; i++) leases[i] = grantLease(sup, i);
  clock.advanceBy(0);
  const peak = sup.core('m4').votes;
  for (let i = 0; i < n; i++) sup.send('m4', leases[i], 'lease.release');
  clock.advanceBy(0);
  const { votes } = sup.core('m4');
  sup.stop();
  // Sanity: every lease counted, every end seen, one start and one stop made.
  if (peak !== n || votes !== 0 || ended.count !== n || calls.start !== 1 || calls.stop !== 1) {
    throw new Error(
      `lease-churn ${n}: peak ${peak}, votes ${votes}, ended ${ended.count}, calls ${JSON.stringify(calls)}`,
    );
  }
}

// ---------------------------------------------------------------- bare actors

const bareMachine = createMachine({});

function bareActors(n) {
  const actors = new Array(n);
  for (let i = 0; i < n; i++) actors[i] = createActor(bareMachine).start();
  for (let i = 0; i < n; i++) actors[i].stop();
}

// ---------------------------------------------------------------- heap per live lease

function heapPerLease(n) {
  gc?.();
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const clock = new VirtualClock();
  const { sup } = newSupervisor(clock);
  const leases = new Array(n);
  for (let i = 0; i < n; i++) leases[i] = grantLease(sup, i);
  const ms = performance.now() - t0;
  gc?.();
  gc?.();
  const after = process.memoryUsage().heapUsed;
  const pending = clock.pending; // virtual timers held by granted leases (an untimed lease holds none)
  if (sup.core('m4').votes !== n) throw new Error('heap-per-lease: not every lease counted');
  // Keep everything reachable until after the measurement, then end it as the churn does.
  for (const id of leases) sup.send('m4', id, 'lease.release');
  sup.stop();
  return { ms, bytes: (after - before) / n, pending };
}

// ---------------------------------------------------------------- rounds

const workloads = [
  { key: 'sweep', run: scenarioSweep },
  ...CHURN_NS.map((n) => ({ key: `churn-${n}`, run: () => leaseChurn(n) })),
  { key: 'bare', run: () => bareActors(BARE_N) },
];

if (!JSON_OUT) {
  process.stderr.write(
    `rproc-supervisor benchmarks: node ${process.version}, ${REPS} rounds + warm-up, gc ${gc ? 'exposed' : 'NOT exposed (run with node --expose-gc)'}\n`,
  );
}

const samples = Object.fromEntries(workloads.map((w) => [w.key, []]));
for (let r = 0; r <= REPS; r++) {
  progress(r === 0 ? 'warm-up round' : `round ${r}/${REPS}`);
  for (const w of workloads) {
    const ms = timed(w.run);
    if (r > 0) samples[w.key].push(ms);
  }
}

progress('explore-depth-8');
const exploreRuns = [];
for (let r = 0; r < (args.includes('--quick') ? 1 : 3); r++) {
  let states = 0;
  let transitions = 0;
  const ms = timed(() => {
    for (const strategy of STRATEGY_NAMES) {
      const res = explore({ strategy, clients: 2, processors: 1, kernel: '5.19' }, { depth: 8 });
      states += res.states;
      transitions += res.transitions;
    }
  });
  exploreRuns.push({ ms, states, transitions });
}

progress('heap-per-lease');
heapPerLease(HEAP_N); // warm-up
const heap = [];
for (let r = 0; r < REPS; r++) heap.push(heapPerLease(HEAP_N));

// ---------------------------------------------------------------- records

const med = (key) => median(samples[key]);
const perRound = (num, den) => ratios(samples[num], samples[den]);

const records = [];
const sweepMs = med('sweep');
records.push({
  name: 'scenario-sweep',
  params: {
    scenarios: scenarios.length,
    runs: sweepRuns,
    runs_per_s: round((sweepRuns * 1000) / sweepMs, 1),
    reps: REPS,
  },
  median_ms: round(sweepMs, 3),
  ratio: null,
});
for (const n of CHURN_NS) {
  const key = `churn-${n}`;
  const prev = CHURN_NS.includes(n / 10) ? `churn-${n / 10}` : null;
  const params = { n, reps: REPS, us_per_lease: round((med(key) * 1000) / n, 3) };
  let ratio = null;
  if (prev) {
    ratio = round(med(key) / med(prev));
    params.ratio_of = `median(${n}) / median(${n / 10})`;
    params.ratio_range_per_round = range(perRound(key, prev));
    if (n === 100_000) {
      params.target = `<= ${TARGET_SCALING}`;
      params.pass = ratio <= TARGET_SCALING;
    }
  }
  records.push({ name: 'lease-churn', params, median_ms: round(med(key)), ratio });
}
records.push({
  name: 'bare-actors-100k',
  params: { n: BARE_N, reps: REPS, us_per_actor: round((med('bare') * 1000) / BARE_N, 3) },
  median_ms: round(med('bare')),
  ratio: null,
});
const vsBare = round(med('churn-100000') / med('bare'));
records.push({
  name: 'lease-churn-vs-bare',
  params: {
    ratio_of: 'median(lease-churn 100k) / median(bare-actors-100k)',
    ratio_range_per_round: range(perRound('churn-100000', 'bare')),
    target: `<= ${TARGET_VS_BARE}`,
    pass: vsBare <= TARGET_VS_BARE,
  },
  median_ms: null,
  ratio: vsBare,
});
records.push({
  name: 'heap-per-lease',
  params: {
    n: HEAP_N,
    reps: REPS,
    bytes_per_lease: Math.round(median(heap.map((h) => h.bytes))),
    gc: gc !== null,
    pending_timers_while_held: heap[0]?.pending ?? null,
  },
  median_ms: round(median(heap.map((h) => h.ms))),
  ratio: null,
});

const exploreMs = median(exploreRuns.map((r) => r.ms));
records.push({
  name: 'explore-depth-8',
  params: {
    strategies: STRATEGY_NAMES.length,
    clients: 2,
    processors: 1,
    depth: 8,
    states: exploreRuns[0].states,
    transitions: exploreRuns[0].transitions,
    states_per_s: round((exploreRuns[0].states / exploreMs) * 1000, 1),
    reps: exploreRuns.length,
    target: '< 60000 ms',
    pass: exploreMs < 60_000,
  },
  median_ms: round(exploreMs),
  ratio: null,
});

records.push(...exploreBenchmarks({ quick: args.includes('--quick'), progress }));

// ---------------------------------------------------------------- runtime (daemon, real time)

gc?.();
records.push(...(await runtimeBenchmarks({ quick: args.includes('--quick'), progress })));
const soak = await soakBenchmark(
  args.includes('--quick') ? { total: 200_000, warmup: 20_000, progress } : { progress },
);
records.push(soak);
progress('memory: daemon ready vs bare node, hold, hold --exec');
records.push(await memoryBenchmark(soak));

// ---------------------------------------------------------------- output

if (JSON_OUT) {
  process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
} else {
  const rows = records.map((r) => {
    const p = { ...r.params };
    const verdict = p.pass === undefined ? '' : `${p.pass ? 'PASS' : 'FAIL'} (${p.target})`;
    delete p.pass;
    delete p.target;
    delete p.ratio_of;
    delete p.reps;
    const shown = Object.entries(p)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? `${v[0]}..${v[1]}` : v}`)
      .join(' ');
    return [
      r.name,
      shown,
      r.median_ms === null ? '-' : r.median_ms.toFixed(2),
      r.ratio === null ? '-' : r.ratio.toFixed(2),
      verdict,
    ];
  });
  const head = ['benchmark', 'params', 'median ms', 'ratio', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  console.log('');
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  console.log('');
  console.log(`node ${process.version}, ${REPS} rounds (median), ${new Date().toISOString()}`);
}
