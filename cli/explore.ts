// `rproc-supervisor explore`: every interleaving of fault moves, invariants, shortest counterexamples.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PROFILE, KERNEL_PROFILES, type KernelProfile, kernelFlag } from '../machines/profile.js';
import { type ExploreResult, explore } from '../scenarios/explore/explore.js';
import {
  checkedBase,
  type ExplorePolicy,
  invariantsOf,
  type Move,
  STRATEGY_BOUNDS,
} from '../scenarios/explore/exploreWorld.js';
import { STRATEGY_NAMES } from '../scenarios/scenarioSchema.js';
import { startRun } from '../scenarios/startRun.js';
import { commandArgs, STRATEGY_OPTIONS, strategyList } from './commandArgs.js';
import { EXIT } from './exitCodes.js';
import { type CliIo, errnoOf } from './io.js';

export const EXPLORE_HELP = `Usage: rproc-supervisor explore [--strategy S…] [--clients N] [--processors N] [--depth D]
                                [--kernel K] [--burst B] [--commute] [--symmetry] [--max-states N]
                                [--policy P] [--json] [--out DIR]

Explores every interleaving of fault moves (acquire, release, SIGKILL/SIGSTOP/SIGCONT per client,
monitor SIGKILL and start, firmware crash, recovery on/off, and a time step) up to depth D, breadth
first, deduplicating world states, and checks the invariants no-orphan, no-wrongful-stop,
eventual-stop and no-leak (docs/explore.md). Each violation comes with its shortest counterexample,
written as a scenario file that \`compare\` replays.

Options:
  --strategy S     one of ${STRATEGY_NAMES.join(', ')}; repeat or comma-separate (default: all);
                   --strategies LIST is the same
  --clients N      clients c0… (default 2)
  --processors N   processors p0… (default 1); client i uses processor i mod N
  --depth D        moves per path (default 6), or \`unbounded\`: until no new state appears, then
                   "complete": true (or which part of the state keeps the space open)
  --burst B        at most B moves at one instant, then only \`step\` (default: none; 3 with
                   --depth unbounded)
  --commute        try moves on different processors at one instant in one order only (they commute)
  --symmetry       clients of the same processor are interchangeable: a state and its renaming are one
  --max-states N   an unbounded search gives up after N states (default 200000)
  --policy P       the monitor's ownership policy: exclusive (default), shared or attach (monitor
                   strategies only; docs/explore.md lists the invariants each must hold)
  --kernel K       a profile (${KERNEL_PROFILES.join(', ')}) or a release (6.1.192, what uname -r prints); default ${DEFAULT_PROFILE}
  --json           a JSON array of results, one per strategy
  --out DIR        write each counterexample as DIR/<strategy>-<invariant>.json
  -h, --help       show this help

Exit status: 0 when the exploration ran (violations are findings, not failures); 2 for bad usage.
`;

/** A move as a user reads it: `acquire c0`, `SIGKILL client:c0`, `step`. */
export function describeMove(m: Move): string {
  if ('step' in m) return 'step';
  if ('acquire' in m) return `acquire ${m.acquire}`;
  if ('release' in m) return `release ${m.release}`;
  if ('kill' in m) return `${m.signal ?? 'SIGKILL'} ${m.kill}`;
  if ('crash' in m) return `crash ${m.crash}`;
  if ('start' in m) return `start ${m.start}`;
  if ('recovery' in m) return `recovery ${m.recovery}=${m.value}`;
  if ('fork' in m) return `fork ${m.fork}`;
  return JSON.stringify(m);
}

function positiveInt(name: string, value: string | undefined, fallback: number): number | string {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : `--${name} ${value}: expected a positive integer`;
}

function report(r: ExploreResult): string {
  const lines = [
    `${r.system.strategy} (kernel ${r.system.kernel}, ${r.system.clients} client(s), ${r.system.processors} processor(s), depth ${r.depth}): ${r.states} states, ${r.transitions} transitions, ${r.ms} ms`,
  ];
  if (r.unbounded)
    lines.push(
      r.complete
        ? `  complete: no new state after depth ${r.depth}${r.reduction.burst ? ` (bursts of at most ${r.reduction.burst} moves)` : ''}`
        : `  NOT complete: still open in ${(r.open ?? []).join('; ') || 'nothing found (state limit)'}`,
    );
  for (const inv of invariantsOf(r.system)) {
    const c = r.counterexamples.find((x) => x.invariant === inv);
    const e = r.excused.find((x) => x.invariant === inv);
    if (c) {
      lines.push(`  ${inv.padEnd(17)} VIOLATED  ${c.detail}`);
      lines.push(`  ${''.padEnd(17)}           ${c.moves.map(describeMove).join(' → ')}`);
    } else {
      lines.push(`  ${inv.padEnd(17)} holds${e ? `  (documented bound reached: ${e.bound})` : ''}`);
    }
  }
  const bound = STRATEGY_BOUNDS[r.system.strategy];
  if (bound) lines.push(`  bound: ${bound}`);
  return lines.join('\n');
}

/** Runs `explore` with `args`. Returns the exit code. */
export function exploreCommand(args: string[], io: CliIo): number {
  const parsed = commandArgs('explore', EXPLORE_HELP, io, args, {
    ...STRATEGY_OPTIONS,
    clients: { type: 'string' },
    processors: { type: 'string' },
    depth: { type: 'string' },
    kernel: { type: 'string' },
    burst: { type: 'string' },
    commute: { type: 'boolean' },
    symmetry: { type: 'boolean' },
    'max-states': { type: 'string' },
    policy: { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const usage = (msg: string) => {
    io.stderr(`rproc-supervisor explore: ${msg}\n`);
    return EXIT.usage;
  };
  const chosen = strategyList(values);
  if (!chosen.ok) return usage(chosen.error.detail ?? chosen.error.code);
  const policy = (values.policy ?? 'exclusive') as string;
  if (!['exclusive', 'shared', 'attach'].includes(policy))
    return usage(`--policy ${policy}: expected exclusive, shared or attach`);
  // A policy is the monitor's: only strategies with a monitor have one.
  const hasMonitor = (strategy: (typeof STRATEGY_NAMES)[number]) => {
    const base = checkedBase({ strategy, clients: 1, processors: 1, kernel: DEFAULT_PROFILE });
    const started = startRun(base, strategy);
    return started.run.monitor !== undefined;
  };
  let names = chosen.value ?? [...STRATEGY_NAMES];
  if (policy !== 'exclusive') {
    const without = names.filter((n) => !hasMonitor(n));
    if (chosen.value && without.length)
      return usage(`--policy ${policy}: ${without.join(', ')} has no monitor (a policy is the monitor's)`);
    names = names.filter(hasMonitor);
  }
  const clients = positiveInt('clients', values.clients as string | undefined, 2);
  const processors = positiveInt('processors', values.processors as string | undefined, 1);
  const unbounded = values.depth === 'unbounded';
  const depth = unbounded ? 0 : positiveInt('depth', values.depth as string | undefined, 6);
  const burst = positiveInt('burst', values.burst as string | undefined, unbounded ? 3 : 0);
  const maxStates = positiveInt('max-states', values['max-states'] as string | undefined, 200_000);
  for (const v of [clients, processors, depth, burst, maxStates]) if (typeof v === 'string') return usage(v);
  const flag = kernelFlag(values.kernel as string | undefined);
  if (!flag.ok) return usage(flag.error.detail as string);
  const kernel = flag.value;
  const results: ExploreResult[] = [];
  for (const strategy of names) {
    const sys = {
      strategy,
      clients: clients as number,
      processors: processors as number,
      kernel: kernel as KernelProfile,
      ...(policy !== 'exclusive' ? { policy: policy as ExplorePolicy } : {}),
    };
    const r = explore(sys, {
      depth: unbounded ? 'unbounded' : (depth as number),
      maxStates: maxStates as number,
      reduction: {
        ...((burst as number) > 0 ? { burst: burst as number } : {}),
        ...(values.commute ? { commute: true } : {}),
        ...(values.symmetry ? { symmetry: true } : {}),
      },
      onProgress: io.isTTY
        ? (p) =>
            io.stderr(
              `\r${strategy}: depth ${p.depth}/${unbounded ? '∞' : depth}, ${p.states} states, ${p.expanded} expanded   `,
            )
        : undefined,
    });
    if (io.isTTY) io.stderr(`\r${' '.repeat(78)}\r`);
    results.push(r);
    if (!values.json) io.stdout(`${report(r)}\n\n`);
  }
  if (values.out) {
    const dir = values.out as string;
    try {
      mkdirSync(dir, { recursive: true });
      for (const r of results) {
        for (const c of r.counterexamples) {
          writeFileSync(
            join(dir, `${r.system.strategy}-${c.invariant}.json`),
            `${JSON.stringify(c.scenario, null, 2)}\n`,
          );
        }
      }
    } catch (err) {
      io.stderr(`rproc-supervisor explore: --out ${dir}: cannot write: ${errnoOf(err)}\n`);
      return EXIT.failed;
    }
  }
  if (values.json) {
    // A strategy's documented bound goes with its result (hybrid-fdstore's orphan time).
    const out = results.map((r) => {
      const bound = STRATEGY_BOUNDS[r.system.strategy];
      return bound ? { ...r, bound } : r;
    });
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
  }
  return EXIT.ok;
}
