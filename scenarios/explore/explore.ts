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
import {
  baseScenario,
  checkedBase,
  type ExploreSystem,
  enabledMoves,
  encode,
  INVARIANTS,
  type Invariant,
  type Move,
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
  depth: number;
  states: number;
  transitions: number;
  ms: number;
  invariants: Record<Invariant, 'holds' | 'violated'>;
  counterexamples: Counterexample[];
  excused: Excused[];
}

/** Options of {@link explore}. */
export interface ExploreOptions {
  depth: number;
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
    if (invariant === 'no-leak') {
      replays = m.leakedRefs !== 0;
      scenario.expect = { [sys.strategy]: { leakedRefs: m.leakedRefs } };
    } else {
      // The scenario's `expect` is the invariant's evidence: it replays when `compare` would pass it.
      replays = checkExpect(parsed.value, sys.strategy, m).length === 0;
    }
  }
  return { invariant, detail, moves, scenario, replays };
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
  const found = new Map<Invariant, Counterexample>();
  const excused = new Map<Invariant, Excused>();
  const note = (invariant: Invariant, detail: string, moves: Move[], bound: string | null = null) => {
    if (bound) {
      if (!excused.has(invariant)) excused.set(invariant, { invariant, bound, moves });
    } else if (!found.has(invariant)) found.set(invariant, counterexample(sys, moves, invariant, detail));
  };
  const root = replay(base, []);
  const seen = new Set<string>([encode(root)]);
  let frontier: Move[][] = [[]];
  let transitions = 0;
  let expanded = 0;
  for (let d = 0; d < options.depth && frontier.length; d++) {
    const next: Move[][] = [];
    for (const path of frontier) {
      const parent = replay(base, path);
      for (const move of enabledMoves(parent, sys)) {
        const moves = [...path, move];
        const r = replay(base, moves);
        transitions++;
        for (const b of r.broken) note(b.invariant, b.detail, moves);
        if ('step' in move)
          for (const b of settledViolations(r)) note(b.invariant, b.detail, moves, r.bounded());
        const key = encode(r);
        if (seen.has(key)) continue;
        seen.add(key);
        next.push(moves);
        // eventual-stop: nobody wants it, it is powered; do two steps alone bring it offline?
        const unwanted = unwantedPowered(r.world);
        if (unwanted.length && !found.has('eventual-stop') && !excused.has('eventual-stop')) {
          const later = [...moves, { step: true as const }, { step: true as const }];
          const after = replay(base, later);
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
      options.onProgress?.({ depth: d + 1, states: seen.size, frontier: frontier.length, expanded });
    }
    frontier = next;
  }
  const invariants = Object.fromEntries(
    INVARIANTS.map((i) => [i, found.has(i) ? 'violated' : 'holds']),
  ) as Record<Invariant, 'holds' | 'violated'>;
  return {
    system: sys,
    depth: options.depth,
    states: seen.size,
    transitions,
    ms: Math.round(now() - started),
    invariants,
    counterexamples: INVARIANTS.flatMap((i) => (found.has(i) ? [found.get(i) as Counterexample] : [])),
    excused: INVARIANTS.flatMap((i) => (excused.has(i) && !found.has(i) ? [excused.get(i) as Excused] : [])),
  };
}
