// exploreReduce: what keeps explore's search small — the burst bound, the commuting-move order, and which part of the state keeps a space open.

import type { ExploreSystem, Move } from './exploreWorld.js';

/**
 * The non-step moves at the end of `path`: the moves made at the current instant (every move but `step`
 * happens at the same instant as the one before it).
 */
export function burstOf(path: readonly Move[]): number {
  let n = 0;
  for (let i = path.length - 1; i >= 0 && !('step' in (path[i] as Move)); i--) n++;
  return n;
}

/**
 * The processor a move acts on alone, or null for a move that touches every processor (`step`, the
 * monitor's death or start). A client's moves act on its processor (client i on processor i mod P).
 */
export function groupOf(move: Move, sys: ExploreSystem): number | null {
  const client = (id: string) => Number(id.slice(1)) % sys.processors;
  if ('acquire' in move) return client(move.acquire);
  if ('release' in move) return client(move.release);
  if ('kill' in move) return move.kill.startsWith('client:') ? client(move.kill.slice(7)) : null;
  if ('crash' in move) return Number(move.crash.slice(1));
  if ('recovery' in move) return Number(move.recovery.slice(1));
  return null;
}

/** How the search is cut down; every field off by default (the search as it always was). */
export interface Reduction {
  /** At most this many moves at one instant: after them only `step` is enabled. */
  burst?: number;
  /**
   * Commuting moves in one order only: at one instant, moves on different processors commute, so after
   * a move on processor g no move on a processor below g is tried until the next step or monitor move.
   */
  commute?: boolean;
  /**
   * Symmetry: clients of the same processor are interchangeable (they differ only in name), so a state
   * and its renaming are one state: the key is the least encoding over those renamings.
   */
  symmetry?: boolean;
}

/** Every renaming of clients that maps each client to one of the same processor (at most 720 per processor). */
function renamings(sys: ExploreSystem): Array<Map<string, string>> {
  const perms = <T>(xs: T[]): T[][] =>
    xs.length <= 1
      ? [xs]
      : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((r) => [x, ...r]));
  let out: Array<Map<string, string>> = [new Map()];
  for (let p = 0; p < sys.processors; p++) {
    const ids = Array.from({ length: sys.clients }, (_, i) => i).filter((i) => i % sys.processors === p);
    if (ids.length > 6) continue;
    const next: Array<Map<string, string>> = [];
    for (const m of out)
      for (const perm of perms(ids)) {
        const n = new Map(m);
        for (const [k, id] of ids.entries()) n.set(`c${id}`, `c${perm[k]}`);
        next.push(n);
      }
    out = next;
  }
  return out;
}

const CLIENT = /\bc(\d+)\b/g;

/** `key` with its clients renamed by `m`, its sorted lists sorted again. */
function renamed(key: string, m: Map<string, string>): string {
  const [procs, wanting, alive, conns, monitor] = JSON.parse(key.replace(CLIENT, (c) => m.get(c) ?? c)) as [
    unknown,
    Array<[string, string[]]>,
    Array<[string, ...unknown[]]>,
    string[],
    { leases: string[] } | null,
  ];
  for (const w of wanting) w[1].sort();
  alive.sort((a, b) => a[0].localeCompare(b[0]));
  conns.sort();
  monitor?.leases.sort();
  return JSON.stringify([procs, wanting, alive, conns, monitor]);
}

/** The least of `key`'s renamings under the clients' symmetry (`key` itself when nothing is symmetric). */
export function symmetric(key: string, sys: ExploreSystem): string {
  let best = key;
  for (const m of renamings(sys)) {
    if ([...m].every(([a, b]) => a === b)) continue;
    const k = renamed(key, m);
    if (k < best) best = k;
  }
  return best;
}

/** The moves of `enabled` the reduction keeps after `path`. */
export function reduceMoves(
  enabled: readonly Move[],
  path: readonly Move[],
  sys: ExploreSystem,
  r: Reduction,
): Move[] {
  let out = [...enabled];
  if (r.burst !== undefined && burstOf(path) >= r.burst) out = out.filter((m) => 'step' in m);
  if (r.commute && sys.processors > 1) {
    // The processor of the last move of this instant, if it was a move on one processor only.
    const last = path.length ? groupOf(path[path.length - 1] as Move, sys) : null;
    if (last !== null) out = out.filter((m) => (groupOf(m, sys) ?? last) >= last);
  }
  return out;
}

/** The parts of a canonical state, by name, for saying which one keeps a space open. */
export function componentsOf(key: string, sys: ExploreSystem): Array<[string, string]> {
  const [procs, wanting, alive, conns, monitor] = JSON.parse(key) as unknown[];
  const out: Array<[string, string]> = (procs as unknown[]).map((p, i) => [
    `kernel p${i} (state, power, lock step, recovery, shutdown-on-release, lock queue)`,
    JSON.stringify(p),
  ]);
  out.push(['wanting sets', JSON.stringify(wanting)]);
  out.push(['process table (live processes, frozen, descriptors)', JSON.stringify(alive)]);
  out.push(['connections', JSON.stringify(conns)]);
  if (sys.strategy.includes('monitor') || monitor !== null)
    out.push(['monitor (cores, leases)', JSON.stringify(monitor)]);
  return out;
}

/**
 * Tracks the values each component of the state has taken, depth by depth; `growing()` names the
 * components that took new values at the last depth (what keeps a space that did not close open).
 */
export class ComponentGrowth {
  #seen = new Map<string, Set<string>>();
  #fresh = new Set<string>();
  constructor(readonly sys: ExploreSystem) {}

  /** A new depth level begins. */
  level(): void {
    this.#fresh.clear();
  }

  /** A new state was found. */
  add(key: string): void {
    for (const [name, value] of componentsOf(key, this.sys)) {
      const set = this.#seen.get(name) ?? new Set<string>();
      this.#seen.set(name, set);
      if (!set.has(value)) {
        set.add(value);
        this.#fresh.add(name);
      }
    }
  }

  /** Components with values not seen before the last level. */
  growing(): string[] {
    return [...this.#fresh];
  }
}
