// bench/explore.mjs: explore's benchmarks — reuse against replay (same run, interleaved), closed state spaces, 3 clients x 2 processors.

import { performance } from 'node:perf_hooks';
import { explore, STRATEGY_NAMES } from '../dist/index.js';
import { median, ratios as perRound, range, round } from './stats.mjs';

const sys = (strategy, clients = 2, processors = 1) => ({ strategy, clients, processors, kernel: '5.19' });

/** The explore records: speed-up of `reuse` over `replay`, closed spaces of every strategy, the 3x2 run. */
export function exploreBenchmarks({ quick, progress }) {
  const records = [];
  // Reuse against replay: hybrid 2x1 to depth 8 (depth 6 with --quick), rounds interleaved on one machine.
  const depth = quick ? 6 : 8;
  const rounds = quick ? 1 : 3;
  const rates = { replay: [], reuse: [] };
  let states = 0;
  for (let r = 0; r < rounds; r++) {
    for (const search of ['replay', 'reuse']) {
      progress(`explore-speedup: ${search}, round ${r + 1}/${rounds}`);
      const t0 = performance.now();
      const res = explore(sys('hybrid'), { depth, search });
      rates[search].push((res.states * 1000) / (performance.now() - t0));
      states = res.states;
    }
  }
  const ratios = perRound(rates.reuse, rates.replay);
  const ratio = round(median(ratios));
  records.push({
    name: 'explore-speedup',
    params: {
      strategy: 'hybrid',
      depth,
      states,
      replay_states_per_s: round(median(rates.replay), 1),
      reuse_states_per_s: round(median(rates.reuse), 1),
      ratio_of: 'median per round of reuse / replay states per s',
      ratio_range_per_round: range(ratios),
      reps: rounds,
      target: '>= 5',
      pass: ratio >= 5,
    },
    median_ms: null,
    ratio,
  });

  // Closed state spaces: every strategy, --depth unbounded with its default burst 3 and symmetry, in a
  // 60 s budget shared by all of them.
  const budget = 60_000;
  const started = performance.now();
  const closed = [];
  for (const strategy of STRATEGY_NAMES) {
    const left = budget - (performance.now() - started);
    progress(`explore-closed: ${strategy} (${Math.max(0, Math.round(left / 1000))} s left)`);
    const t0 = performance.now();
    const r =
      left > 0
        ? explore(sys(strategy), {
            depth: 'unbounded',
            maxMs: left,
            reduction: { burst: 3, symmetry: true },
          })
        : null;
    closed.push({
      strategy,
      complete: r?.complete ?? false,
      states: r?.states ?? 0,
      transitions: r?.transitions ?? 0,
      depth: r?.depth ?? 0,
      ms: Math.round(performance.now() - t0),
      verdicts: r
        ? Object.entries(r.invariants)
            .map(([k, v]) => `${k}:${v === 'holds' ? 'holds' : 'VIOLATED'}`)
            .join(',')
        : 'not run',
      ...(r?.open ? { open: r.open } : {}),
    });
  }
  const closedMs = performance.now() - started;
  for (const c of closed) {
    records.push({
      name: `explore-closed-${c.strategy}`,
      params: {
        complete: c.complete,
        states: c.states,
        transitions: c.transitions,
        depth: c.depth,
        burst: 3,
        verdicts: c.verdicts,
      },
      median_ms: c.ms,
      ratio: null,
    });
  }
  records.push({
    name: 'explore-closed-all',
    params: {
      strategies: closed.length,
      complete: closed.filter((c) => c.complete).length,
      target: 'all complete, < 60000 ms together',
      pass: closed.every((c) => c.complete) && closedMs < budget,
    },
    median_ms: round(closedMs),
    ratio: null,
  });

  // 3 clients x 2 processors, hybrid, depth 8, commuting order + symmetry, stopped at 60 s.
  progress('explore-3x2: hybrid, 3 clients, 2 processors, depth 8 (60 s budget)');
  const t0 = performance.now();
  const big = explore(sys('hybrid', 3, 2), {
    depth: 8,
    maxMs: 60_000,
    reduction: { commute: true, symmetry: true },
  });
  const bigMs = performance.now() - t0;
  records.push({
    name: 'explore-3x2-depth-8',
    params: {
      strategy: 'hybrid',
      clients: 3,
      processors: 2,
      depth_reached: big.cut ? big.depth : 8,
      states: big.states,
      transitions: big.transitions,
      states_per_s: round((big.states * 1000) / bigMs, 1),
      target: 'depth 8 < 60000 ms',
      pass: !big.cut && bigMs < 60_000,
    },
    median_ms: round(bigMs),
    ratio: null,
  });
  return records;
}
