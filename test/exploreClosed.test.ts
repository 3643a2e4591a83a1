// explore's closed state spaces and reductions: merged states behave the same, commuting moves, unbounded verdicts, policies.

import { describe, expect, it } from 'vitest';
import { explore } from '../scenarios/explore/explore.js';
import {
  checkedBase,
  type ExploreSystem,
  enabledMoves,
  encode,
  type Move,
  replay,
} from '../scenarios/explore/exploreWorld.js';

const sys = (strategy: ExploreSystem['strategy'], clients = 2, processors = 1): ExploreSystem => ({
  strategy,
  clients,
  processors,
  kernel: '5.19',
});

/** Every path of at most `depth` moves, grouped by the (abstracted) key of the state it reaches. */
function pathsByKey(s: ExploreSystem, depth: number): Map<string, Move[][]> {
  const base = checkedBase(s);
  const out = new Map<string, Move[][]>();
  let frontier: Move[][] = [[]];
  for (let d = 0; d < depth; d++) {
    const next: Move[][] = [];
    for (const path of frontier)
      for (const m of enabledMoves(replay(base, path), s)) {
        const to = [...path, m];
        const key = encode(replay(base, to), s);
        const paths = out.get(key) ?? [];
        if (paths.length < 2) next.push(to);
        paths.push(to);
        out.set(key, paths);
      }
    frontier = next;
  }
  return out;
}

describe('explore: closed state spaces', () => {
  it.each(['sysfs-direct', 'hybrid'] as const)(
    'should merge only states whose continuations stay equal (%s)',
    (strategy) => {
      const s = sys(strategy);
      const base = checkedBase(s);
      let pairs = 0;
      for (const paths of pathsByKey(s, 3).values()) {
        const [a, b] = paths;
        if (!a || !b || JSON.stringify(a) === JSON.stringify(b)) continue;
        pairs++;
        // The encoding leaves out the phase of timers (a client's reconnect), which a step resolves: so
        // a step, then three moves on from both, each time the first, the last and a step of what is enabled.
        for (const pick of [0, -1, 'step'] as const) {
          let pa: Move[] = [...a, { step: true }];
          let pb: Move[] = [...b, { step: true }];
          expect(encode(replay(base, pb), s)).toBe(encode(replay(base, pa), s));
          for (let k = 0; k < 3; k++) {
            const moves = enabledMoves(replay(base, pa), s);
            const m = pick === 'step' ? ({ step: true } as Move) : (moves.at(pick) as Move);
            pa = [...pa, m];
            pb = [...pb, m];
            expect(encode(replay(base, pb), s), `${JSON.stringify(pa)} vs ${JSON.stringify(pb)}`).toBe(
              encode(replay(base, pa), s),
            );
          }
        }
      }
      expect(pairs).toBeGreaterThan(10);
    },
    120_000,
  );

  it('should reach the same states with commuting moves in one order (3 clients, 2 processors)', () => {
    const all = explore(sys('hybrid', 3, 2), { depth: 3 });
    const cut = explore(sys('hybrid', 3, 2), { depth: 3, reduction: { commute: true } });
    expect(cut.states).toBe(all.states);
    expect(cut.transitions).toBeLessThan(all.transitions);
    expect(cut.invariants).toEqual(all.invariants);
    const sym = explore(sys('hybrid', 3, 2), { depth: 3, reduction: { commute: true, symmetry: true } });
    expect(sym.states).toBeLessThan(all.states);
    expect(sym.invariants).toEqual(all.invariants);
  }, 120_000);

  it('should close parent-script’s space and agree with the bounded verdicts', () => {
    const closed = explore(sys('parent-script'), { depth: 'unbounded', reduction: { burst: 3 } });
    expect(closed.complete).toBe(true);
    expect(closed.unbounded).toBe(true);
    const bounded = explore(sys('parent-script'), { depth: 6 });
    expect(bounded.complete).toBe(false);
    expect(closed.invariants).toEqual(bounded.invariants);
  }, 120_000);

  it('should say which component keeps a space open when it stops at its state limit', () => {
    const r = explore(sys('sysfs-direct'), { depth: 'unbounded', maxStates: 50 });
    expect(r.complete).toBe(false);
    expect(r.open?.length).toBeGreaterThan(0);
    expect(r.open?.some((c) => c.startsWith('kernel p0'))).toBe(true);
  }, 60_000);

  it('should give the same result replaying every path and reusing reached worlds', () => {
    const a = explore(sys('cdev'), { depth: 5, search: 'replay' });
    const b = explore(sys('cdev'), { depth: 5, search: 'reuse' });
    expect({ ...b, ms: 0, search: 'replay' }).toEqual({ ...a, ms: 0 });
  }, 60_000);

  it.each(['shared', 'attach'] as const)(
    'should check policy %s with its own stop rule (sysfs-monitor holds it)',
    (policy) => {
      const r = explore({ ...sys('sysfs-monitor'), policy }, { depth: 4 });
      const rule = policy === 'shared' ? 'no-foreign-stop' : 'never-stops';
      expect(Object.keys(r.invariants).sort()).toEqual(['no-wrongful-stop', rule].sort());
      expect(r.invariants[rule]).toBe('holds');
    },
    60_000,
  );

  it('should find hybrid’s stop of an attached core whose crash recovery boots it (attach)', () => {
    const r = explore({ ...sys('hybrid'), policy: 'attach' }, { depth: 5 });
    const c = r.counterexamples.find((x) => x.invariant === 'never-stops');
    expect(c?.replays).toBe(true);
    expect(c?.moves.some((m) => 'crash' in m)).toBe(true);
  }, 60_000);
});
