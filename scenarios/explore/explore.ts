// explore: breadth-first search over every interleaving of fault moves, with invariants and shortest counterexamples.

import { checkExpect } from '../checkExpect.js';
import { runScenario } from '../runScenario.js';
import {
  type ExpectBound,
  type MetricName,
  parseScenario,
  type ScenarioJson,
  type TimelineEvent,
} from '../scenarioSchema.js';
import { ComponentGrowth, groupOf, type Reduction, reduceMoves, symmetric } from './exploreReduce.js';
import {
  baseScenario,
  checkedBase,
  type ExploreSystem,
  enabledMoves,
  encode,
  type Invariant,
  invariantsOf,
  type Move,
  type Replay,
  replay,
  STEP_MS,
  settledViolations,
  unwantedPowered,
} from './exploreWorld.js';

/** The shortest path found that breaks an invariant, as moves and as a replayable scenario. */
export interface Counterexample {
  invariant: Invariant;
  detail: string;
  moves: Move[];
  scenario: ScenarioJson;
  /** Running `scenario` with `compare` shows the violation in its metrics (see its `expect`). */
  replays: boolean;
}

/** A violation the strategy documents as its bound, found and reported, not counted against it. */
export interface Excused {
  invariant: Invariant;
  bound: string;
  moves: Move[];
}

/** What exploring one strategy found. */
export interface ExploreResult {
  system: ExploreSystem;
  /** The depth asked for, or the depth reached by an `unbounded` search. */
  depth: number;
  /** True when the search ran out of new states: every reachable state (under the reduction) was seen. */
  complete: boolean;
  /** `unbounded`: the search went on until no new state appeared (or `maxStates`). */
  unbounded: boolean;
  /** The reduction the search used (absent fields: none). */
  reduction: Reduction;
  /** How states were reached: `replay` (each path from a fresh world, as before) or `reuse`. */
  search: 'replay' | 'reuse';
  /** An unbounded search that did not close: the parts of the state still taking new values. */
  open?: string[];
  states: number;
  transitions: number;
  ms: number;
  /** Each invariant checked (the four; under shared or attach, no-wrongful-stop and the policy's own). */
  invariants: Partial<Record<Invariant, 'holds' | 'violated'>>;
  counterexamples: Counterexample[];
  excused: Excused[];
}

/** Options of {@link explore}. */
export interface ExploreOptions {
  /** Moves per path, or `unbounded`: until no new state appears (up to `maxStates`). */
  depth: number | 'unbounded';
  /** An unbounded search gives up (complete: false) after this many states. @default 200000 */
  maxStates?: number;
  /** Burst bound and commuting-move order (exploreReduce.ts). @default none */
  reduction?: Reduction;
  /**
   * `reuse` (default): a reached state's world is kept for its checks and its moves are listed from it;
   * `replay`: as before, every path (and its parent, and each eventual-stop check) replayed from a fresh
   * world. Both give the same result; `replay` is kept to measure the difference.
   */
  search?: 'replay' | 'reuse';
  /** Write power counts past the leak cap as the cap (exploreWorld.ts `powerCap`). @default unbounded */
  abstract?: boolean;
  /** Called after each state is expanded. */
  onProgress?: (p: { depth: number; states: number; frontier: number; expanded: number }) => void;
  /** Time source for `ms` (the real clock by default; only for reporting). */
  now?: () => number;
}

/** The metric that shows each invariant's violation when a counterexample is replayed by `compare`. */
function evidence(invariant: Invariant): Partial<Record<MetricName, ExpectBound>> {
  switch (invariant) {
    case 'no-orphan':
      return { orphanMs: { min: STEP_MS } };
    case 'no-wrongful-stop':
      return { wrongfulStops: { min: 1 } };
    case 'eventual-stop':
      return { stopLatencyMs: null };
    case 'no-leak':
    case 'no-foreign-stop':
    case 'never-stops':
      return {};
  }
}

/** Writes `moves` as a scenario: events at the same instant until a step, which adds {@link STEP_MS}. */
export function toScenario(
  sys: ExploreSystem,
  moves: readonly Move[],
  invariant: Invariant,
  detail: string,
): ScenarioJson {
  const base = baseScenario(sys);
  let t = 0;
  const timeline: TimelineEvent[] = [];
  for (const m of moves) {
    if ('step' in m) t += STEP_MS;
    else timeline.push({ at: t, ...m } as TimelineEvent);
  }
  return {
    ...base,
    name: `${sys.strategy} breaks ${invariant} (kernel ${sys.kernel})`,
    description: `Shortest counterexample found by explore: ${detail}.`,
    horizonMs: t + STEP_MS,
    timeline,
    expect: { [sys.strategy]: evidence(invariant) },
  };
}

function counterexample(
  sys: ExploreSystem,
  moves: Move[],
  invariant: Invariant,
  detail: string,
): Counterexample {
  const scenario = toScenario(sys, moves, invariant, detail);
  const parsed = parseScenario(scenario);
  let replays = false;
  if (parsed.ok) {
    const m = runScenario(parsed.value, { strategy: sys.strategy }).metrics;
    if (invariant === 'no-foreign-stop' || invariant === 'never-stops') {
      // No metric shows these: the replay of the moves breaks the rule again.
      replays = replay(checkedBase(sys), moves).broken.some((b) => b.invariant === invariant);
    } else if (invariant === 'no-leak') {
      replays = m.leakedRefs !== 0;
      scenario.expect = { [sys.strategy]: { leakedRefs: m.leakedRefs } };
    } else {
      // The scenario's `expect` is the invariant's evidence: it replays when `compare` would pass it.
      replays = checkExpect(parsed.value, sys.strategy, m).length === 0;
    }
  }
  return { invariant, detail, moves, scenario, replays };
}

/** Two steps in `r`'s own world (its last move's checks are done): what a replay of the path + 2 steps gives. */
function stepTwice(r: Replay): Replay {
  r.world.clock.advanceBy(STEP_MS);
  r.world.clock.advanceBy(STEP_MS);
  return r;
}

/**
 * Explores every sequence of at most `depth` moves from the base scenario of `sys`, breadth first, keeping
 * one path per distinct world state (by {@link encode}); so the first violation found of each invariant
 * is a shortest one.
 */
export function explore(sys: ExploreSystem, options: ExploreOptions): ExploreResult {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const base = checkedBase(sys);
  const unbounded = options.depth === 'unbounded';
  const maxDepth = unbounded ? Number.POSITIVE_INFINITY : (options.depth as number);
  const maxStates = options.maxStates ?? 200_000;
  const reduction = options.reduction ?? {};
  const mode = options.search ?? 'reuse';
  // The power-count abstraction closes the per-client strategies' spaces; a bounded search keeps exact counts.
  const abstractFor = (options.abstract ?? unbounded) ? sys : undefined;
  const keyOf = (r: Replay): string => {
    const key = encode(r, abstractFor);
    return reduction.symmetry ? symmetric(key, sys) : key;
  };
  const found = new Map<Invariant, Counterexample>();
  const excused = new Map<Invariant, Excused>();
  const checked = invariantsOf(sys);
  const note = (invariant: Invariant, detail: string, moves: Move[], bound: string | null = null) => {
    if (!checked.includes(invariant)) return;
    if (bound) {
      if (!excused.has(invariant)) excused.set(invariant, { invariant, bound, moves });
    } else if (!found.has(invariant)) found.set(invariant, counterexample(sys, moves, invariant, detail));
  };
  /** The moves tried from the state `r` reached by `path`. */
  const movesFrom = (r: Replay, path: Move[]) => reduceMoves(enabledMoves(r, sys), path, sys, reduction);
  const root = replay(base, []);
  const rootKey = keyOf(root);
  const growth = new ComponentGrowth(sys);
  growth.add(rootKey);
  // Each state, with the lowest processor its moves were cut from (commuting order; -1: none cut).
  const seen = new Map<string, number>([[rootKey, -1]]);
  const lastGroup = (moves: Move[]) => {
    const g = moves.length ? groupOf(moves[moves.length - 1] as Move, sys) : null;
    return reduction.commute && g !== null ? g : -1;
  };
  let frontier: Array<{ path: Move[]; moves: Move[] | null }> = [{ path: [], moves: movesFrom(root, []) }];
  let transitions = 0;
  let expanded = 0;
  let depth = 0;
  let capped = false;
  for (; depth < maxDepth && frontier.length; depth++) {
    if (unbounded && seen.size >= maxStates) {
      capped = true;
      break;
    }
    growth.level();
    const next: typeof frontier = [];
    for (const node of frontier) {
      const { path } = node;
      const moves = node.moves ?? movesFrom(replay(base, path), path);
      for (const move of moves) {
        const to = [...path, move];
        const r = replay(base, to);
        transitions++;
        for (const b of r.broken) note(b.invariant, b.detail, to);
        if ('step' in move)
          for (const b of settledViolations(r)) note(b.invariant, b.detail, to, r.bounded());
        const key = keyOf(r);
        const g = lastGroup(to);
        const had = seen.get(key);
        if (had !== undefined && g >= had) continue;
        if (had === undefined) growth.add(key);
        seen.set(key, g);
        next.push({ path: to, moves: mode === 'reuse' ? movesFrom(r, to) : null });
        if (had !== undefined) continue;
        // eventual-stop: nobody wants it, it is powered; do two steps alone bring it offline?
        const unwanted = unwantedPowered(r.world);
        if (unwanted.length && !found.has('eventual-stop') && !excused.has('eventual-stop')) {
          const later = [...to, { step: true as const }, { step: true as const }];
          // `reuse`: the two steps are taken in this world, which is not needed any more.
          const after = mode === 'reuse' ? stepTwice(r) : replay(base, later);
          const still = unwantedPowered(after.world).filter((p) => unwanted.includes(p));
          if (still.length) {
            note(
              'eventual-stop',
              `${still.join(', ')} still powered for nobody after two steps`,
              later,
              after.bounded(),
            );
          }
        }
      }
      expanded++;
      options.onProgress?.({ depth: depth + 1, states: seen.size, frontier: frontier.length, expanded });
    }
    frontier = next;
  }
  const complete = frontier.length === 0 && !capped;
  const invariants = Object.fromEntries(
    checked.map((i) => [i, found.has(i) ? 'violated' : 'holds']),
  ) as Partial<Record<Invariant, 'holds' | 'violated'>>;
  return {
    system: sys,
    depth: unbounded ? depth : (options.depth as number),
    complete,
    unbounded,
    reduction,
    search: mode,
    ...(unbounded && !complete ? { open: growth.growing() } : {}),
    states: seen.size,
    transitions,
    ms: Math.round(now() - started),
    invariants,
    counterexamples: checked.flatMap((i) => (found.has(i) ? [found.get(i) as Counterexample] : [])),
    excused: checked.flatMap((i) => (excused.has(i) && !found.has(i) ? [excused.get(i) as Excused] : [])),
  };
}
