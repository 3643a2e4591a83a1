// The explored system: a base scenario, the alphabet of moves, replay, the canonical state encoding and the invariants.

import type { World } from '../../actors/World.js';
import { isPowered, isPoweredState } from '../../machines/powered.js';
import type { KernelProfile } from '../../machines/profile.js';
import { profileFeatures } from '../../machines/profile.js';
import {
  parseScenario,
  type Scenario,
  type ScenarioJson,
  type StrategyName,
  type TimelineEvent,
} from '../scenarioSchema.js';
import { applyEvent, type StartedRun, startRun, stepOf } from '../startRun.js';
import { observeStop, startWatch } from '../wrongfulStop.js';

/** One move: a timeline event at the current instant, or a time step long enough for everything pending to end. */
export type Move =
  | { step: true }
  | (TimelineEvent extends infer E ? (E extends unknown ? Omit<E, 'at'> : never) : never);

/** The ownership policies explore covers (machines/corePolicy.ts); `observe` writes nothing to explore. */
export type ExplorePolicy = 'exclusive' | 'shared' | 'attach';

/** The size of the explored system. */
export interface ExploreSystem {
  strategy: StrategyName;
  clients: number;
  processors: number;
  kernel: KernelProfile;
  /**
   * The monitor's policy (monitor strategies only). `shared`: each processor auto-boots with an
   * in-kernel user's reference; `attach`: each was started by a bootloader (registered `detached`).
   * @default 'exclusive'
   */
  policy?: ExplorePolicy;
}

/** A time step: longer than any boot + stop, grace period, reconnect and poll of the base scenario. */
export const STEP_MS = 5000;

/** The invariants (docs/explore.md gives their exact definitions). */
export const INVARIANTS = ['no-orphan', 'no-wrongful-stop', 'eventual-stop', 'no-leak'] as const;
/**
 * The policies' own invariants: `no-foreign-stop` (shared never stops a processor it holds no reference
 * on: the in-kernel user's reference keeps it running) and `never-stops` (attach never stops, it only
 * detaches).
 */
export const POLICY_INVARIANTS = ['no-foreign-stop', 'never-stops'] as const;
/** One invariant. */
export type Invariant = (typeof INVARIANTS)[number] | (typeof POLICY_INVARIANTS)[number];

/** The invariants checked under `sys`'s policy (exclusive: the four; shared, attach: the stop rules). */
export function invariantsOf(sys: ExploreSystem): readonly Invariant[] {
  if (sys.policy === 'shared') return ['no-wrongful-stop', 'no-foreign-stop'];
  if (sys.policy === 'attach') return ['no-wrongful-stop', 'never-stops'];
  return INVARIANTS;
}

/** The scenario every path of a system starts from: clients `c0…`, processors `p0…`, client i on processor i mod P. */
export function baseScenario(sys: ExploreSystem): ScenarioJson {
  return {
    name: `explore ${sys.strategy}: ${sys.clients} client(s), ${sys.processors} processor(s), kernel ${sys.kernel}`,
    kernel: sys.kernel,
    horizonMs: STEP_MS,
    processors: Array.from({ length: sys.processors }, (_, i) => ({
      name: `p${i}`,
      ...(sys.policy === 'shared' ? { autoBoot: true } : {}),
      ...(sys.policy === 'attach' ? { initial: 'detached' as const } : {}),
    })),
    clients: Array.from({ length: sys.clients }, (_, i) => ({
      id: `c${i}`,
      processor: `p${i % sys.processors}`,
    })),
    // Restarts are moves of their own ("start": "monitor"), so that every restart timing is explored;
    // hybrid-fdstore's init restarts on its own too (its fd store lives only while init restarts).
    monitor: {
      restart: sys.strategy === 'hybrid-fdstore' ? FDSTORE_RESTART : false,
      reconcile: 'adopt',
      graceMs: 1000,
      ttlMs: null,
      reconnectMs: 300,
      pollMs: 250,
      ...(sys.policy && sys.policy !== 'exclusive' ? { policy: sys.policy } : {}),
    },
    strategies: [sys.strategy],
    timeline: [],
  };
}

/** The base scenario, checked. */
export function checkedBase(sys: ExploreSystem): Scenario {
  const parsed = parseScenario(baseScenario(sys));
  if (!parsed.ok) throw new Error(`explore base scenario is invalid: ${parsed.error.detail}`);
  return parsed.value;
}

/** True when processor `i` of `world` is powered: booting, running, attached, crashed or recovering. */
export function powered(world: World, i: number): boolean {
  return isPowered(world.twin.processor(i).context.state, stepOf(world, i));
}

/** A replayed path: its world, and the invariant broken during its last move, if any. */
export interface Replay extends StartedRun {
  broken: Array<{ invariant: Invariant; detail: string }>;
  /**
   * hybrid's documented bound applies: its daemon died while a processor was crashed or recovering (the
   * kernel's release does nothing then, kernel-semantics §5.4) and no daemon has run since.
   */
  bounded: () => string | null;
}

/** hybrid-fdstore's init in explore: restart 500 ms after a death, at most 1 restart in 5000 ms. */
export const FDSTORE_RESTART = { delayMs: 500, intensity: 1, periodMs: 5000 } as const;

/**
 * The bound each strategy documents and explore states with its verdict (docs/explore.md). For
 * hybrid-fdstore, with the base scenario's grace (1000 ms) and {@link FDSTORE_RESTART}.
 */
export const STRATEGY_BOUNDS: Partial<Record<StrategyName, string>> = {
  'hybrid-fdstore': `orphan time <= intensity x (delayMs + graceMs) = ${FDSTORE_RESTART.intensity * (FDSTORE_RESTART.delayMs + 1000)} ms, within the restart-limit window (${FDSTORE_RESTART.periodMs} ms): init keeps the descriptors while it restarts the daemon and closes them past its limit`,
};

/** hybrid's documented bound (docs/explore.md): its daemon's death during a crash recovery. */
export const HYBRID_BOUND = 'daemon died during a crash recovery; the kernel release does nothing in CRASHED';

/** Replays `moves` on a new world. Wrongful stops are checked during the last move only. */
export function replay(base: Scenario, moves: readonly Move[]): Replay {
  const policy = base.monitor.policy ?? 'exclusive';
  const started = startRun(base, base.strategies[0] as StrategyName);
  const { world, strategy, run } = started;
  const broken: Replay['broken'] = [];
  let diedInCrash = false;
  world.os.onExit((p) => {
    if (p.name !== 'monitor') return;
    diedInCrash ||= world.twin.processors.some(
      (q, i) => q.context.state === 'crashed' || stepOf(world, i).startsWith('recovering'),
    );
  });
  const failSafe = strategy.name === 'hybrid' || strategy.name === 'hybrid-fdstore';
  const bounded = () => (failSafe && diedInCrash && !world.alive('monitor') ? HYBRID_BOUND : null);
  let last = false;
  const watches = world.twin.processors.map((p) => startWatch(p.context.state));
  const holders: Array<number | null> = world.twin.processors.map(() => null);
  world.twin.subscribe((i, ctx) => {
    const before = watches[i];
    if (!before) return;
    const name = world.twin.processor(i).name;
    // As in the metric (scenarios/wrongfulStop.ts). hybrid's documented fail-safe is excused: the
    // kernel's release stops the processor when the monitor dies, and it stays stopped for clients that
    // have not re-registered with a monitor since.
    const r = observeStop(
      before,
      { state: ctx.state, step: stepOf(world, i) },
      () =>
        (world.wanting.get(name)?.size ?? 0) > 0 &&
        !(strategy.name === 'hybrid' && !registeredWanter(started, name)) &&
        // hybrid-fdstore's fail-safe: init closed the store (past its limit), no monitor runs.
        !(strategy.name === 'hybrid-fdstore' && !world.alive('monitor')),
    );
    if (last && r.wrongful)
      broken.push({ invariant: 'no-wrongful-stop', detail: `${name} stopped under a live client` });
    watches[i] = r.watch;
    // The policies' stop rules, read from the kernel: a `rproc_shutdown` taking the lock.
    const holder = ctx.holder;
    if (last && holder?.op === 'shutdown' && holders[i] !== holder.id) {
      if (policy === 'attach')
        broken.push({ invariant: 'never-stops', detail: `${name}: a stop under policy attach` });
      // The in-kernel user's reference is not the supervisor's: a stop that takes the count to 0 took it.
      if (policy === 'shared' && ctx.power === 0 && ctx.step === 'stopping')
        broken.push({
          invariant: 'no-foreign-stop',
          detail: `${name}: stopped with the kernel user's reference`,
        });
    }
    holders[i] = holder?.id ?? null;
  });
  moves.forEach((m, k) => {
    last = k === moves.length - 1;
    if ('step' in m) world.clock.advanceBy(STEP_MS);
    else applyEvent(started, { ...m, at: world.clock.now() } as TimelineEvent);
  });
  return { world, strategy, run, broken, bounded };
}

/** True when a client that wants `processor` holds a lease with the live monitor. */
function registeredWanter({ world, run }: StartedRun, processor: string): boolean {
  const view = run.monitor?.();
  if (!view) return false;
  const wanting = world.wanting.get(processor) ?? new Set<string>();
  return view.leases.some((l) => wanting.has(l.slice(0, l.indexOf('/'))) && l.includes(`/${processor}:`));
}

/** State invariants that hold only once time has passed: no-orphan and no-leak, after a step. */
export function settledViolations(r: Replay): Replay['broken'] {
  const out: Replay['broken'] = [];
  r.world.twin.processors.forEach((p, i) => {
    const wanting = r.world.wanting.get(p.name)?.size ?? 0;
    if (wanting === 0 && powered(r.world, i))
      out.push({ invariant: 'no-orphan', detail: `${p.name} ${p.context.state} for nobody` });
    const expected = r.run.expectedRefs(p.name, wanting);
    if (p.context.power !== expected) {
      out.push({
        invariant: 'no-leak',
        detail: `${p.name} power ${p.context.power}, clients should hold ${expected}`,
      });
    }
  });
  return out;
}

/** Processors nobody wants that are powered now (candidates for eventual-stop). */
export function unwantedPowered(world: World): string[] {
  return world.twin.processors
    .filter((p, i) => (world.wanting.get(p.name)?.size ?? 0) === 0 && powered(world, i))
    .map((p) => p.name);
}

/**
 * The power count above which a strategy without a monitor cannot bring a processor back to offline: each
 * client (and its wrapper script) stops at most what it started, at most two per client at a time, so a
 * count above `2 × clients` holds a leaked reference for good (docs/explore.md, "Closed state spaces").
 * Null for the monitor strategies, whose monitor stops until `state` reads offline.
 */
export function powerCap({ run }: StartedRun, sys: ExploreSystem): number | null {
  return run.monitor ? null : 2 * sys.clients + 1;
}

/**
 * The canonical encoding of a world: equal strings, equal futures (up to the phase of periodic timers).
 * With `abstract`, a power count at or above {@link powerCap} is written as the cap (`closed` searches).
 */
export function encode(started: StartedRun, abstract?: ExploreSystem): string {
  const { world, run } = started;
  const cap = abstract ? powerCap(started, abstract) : null;
  const procs = world.twin.processors.map((p, i) => {
    const c = p.context;
    return [
      c.state,
      cap !== null && c.power >= cap ? `>=${cap}` : c.power,
      stepOf(world, i),
      c.recoveryDisabled,
      c.shutdownOnRelease,
      c.waiters.map((w) => w.op),
    ];
  });
  const wanting = [...world.wanting].map(([p, set]) => [p, [...set].sort()]);
  const alive = [...world.os.processes.values()]
    .filter((p) => p.alive)
    .map((p) => [p.name, p.frozen, world.twin.fds.descriptors(p.pid).length])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  const conns = [...world.os.connections].map((c) => `${c.client.name}>${c.server.name}`).sort();
  const monitor = run.monitor?.() ?? null;
  // init's own state, for a strategy whose init keeps some (hybrid-fdstore); nothing for the others.
  const init = run.init ? [run.init()] : [];
  return JSON.stringify([procs, wanting, alive, conns, monitor ?? null, ...init]);
}

/** The moves that can change `world`: a kill of a dead process, say, is left out. */
export function enabledMoves({ world, run }: StartedRun, sys: ExploreSystem): Move[] {
  const moves: Move[] = [];
  for (let i = 0; i < sys.clients; i++) {
    const id = `c${i}`;
    const proc = world.alive(`client:${id}`);
    const wants = world.wanting.get(`p${i % sys.processors}`)?.has(id) ?? false;
    // A frozen client does nothing, so it neither acquires nor releases.
    if (!wants && !proc?.frozen) moves.push({ acquire: id });
    if (wants && proc && !proc.frozen) moves.push({ release: id });
    if (proc) moves.push({ kill: `client:${id}`, signal: 'SIGKILL' });
    if (proc && !proc.frozen) moves.push({ kill: `client:${id}`, signal: 'SIGSTOP' });
    if (proc?.frozen) moves.push({ kill: `client:${id}`, signal: 'SIGCONT' });
  }
  if (world.alive('monitor')) moves.push({ kill: 'monitor', signal: 'SIGKILL' });
  else if (run.startMonitor) moves.push({ start: 'monitor' });
  for (const p of world.twin.processors) {
    if (isPoweredState(p.context.state) && p.context.state !== 'crashed')
      moves.push({ crash: p.name, reason: 'watchdog' });
    if (profileFeatures(sys.kernel).sysfsRecoveryAndCoredump) {
      moves.push({ recovery: p.name, value: p.context.recoveryDisabled ? 'enabled' : 'disabled' });
    }
  }
  moves.push({ step: true });
  return moves;
}
