// runSupervisor: the supervisor actor tree and the runner of its effects — shared by the simulated monitor and the daemon.

import {
  type AnyActor,
  type AnyActorRef,
  assign,
  createActor,
  type InspectionEvent,
  setup,
  stopChild,
} from 'xstate';
import type { TwinClock } from '../actors/VirtualClock.js';
import type { CrashAction } from '../machines/corePolicy.js';
import type { RprocError } from '../machines/errno.js';
import type { LeaseEnd, LeaseEvent, LeaseInput } from '../machines/leaseMachine.js';
import { KERNEL_STATES, type KernelState } from '../machines/rprocTypes.js';
import {
  coreIdle,
  isNoOp,
  type LostReason,
  type ProcessorCore,
  STATE_ANSWERS,
  type StopReason,
  type SupervisorAnswer,
  type SupervisorCall,
  type SupervisorConfig,
  type SupervisorEffect,
  type SupervisorInput,
} from '../machines/supervisorCore.js';
import {
  leaseChildren,
  type ProcessorActorEmitted,
  type ProcessorActorEvent,
  type ProcessorActorInput,
  type ProcessorSnapshot,
  processorLogic,
} from './processorActor.js';

/** A call under way: settles once, with its answer (at once, for the twin; later, for a real driver). */
export interface Pending<T> {
  onSettled(listener: (result: T) => void): unknown;
}

/** What the supervisor needs to make its calls: the kernel, through whatever driver the shell has. */
export interface SupervisorDriver {
  call(processor: string, call: SupervisorCall): Pending<SupervisorAnswer>;
  /** Lets go of the processor's held descriptor, if any (the core's `let-go` effect). */
  letGo?(processor: string): void;
}

/** Options of {@link runSupervisor}. */
export interface RunSupervisorOptions {
  /** Processor ids: names in the simulation, `remoteprocN` in the daemon. */
  processors: readonly string[];
  config: SupervisorConfig;
  /** A processor's own config (its policy, firmware …), where it differs from `config`. */
  configFor?: (processor: string) => SupervisorConfig;
  driver: SupervisorDriver;
  /** Every timer and deferral of the tree (the lease TTLs, the grace, `decide`, polls) runs on it. */
  clock: TwinClock;
  /** Poll `state` this often (remoteproc sends no state events). */
  pollMs: number;
  inspect?: (event: InspectionEvent) => void;
  /** A log effect of processor `processor`. */
  onLog?(processor: string, effect: Extract<SupervisorEffect, { type: 'log' }>): void;
  /** A crash or recovery to tell the holders of `leases`. */
  onNotify?(processor: string, event: 'processor.crashed' | 'processor.recovered', leases: string[]): void;
  onLeaseEnd?(processor: string, id: string, end: LeaseEnd): void;
  /**
   * A stop of `processor` is announced (two-phase stop): tell whoever should know (`leases` are its
   * live leases) that it goes ahead within `ms`, and return who was told — the parties whose
   * {@link RunningSupervisor.ack} ends the wait early. Without it nobody is told and nothing waits.
   */
  onStopping?(processor: string, reason: StopReason, ms: number, leases: string[]): readonly string[];
  /** The core ends these live leases as lost for `reason` (called just before they end). */
  onLeasesLost?(processor: string, leases: string[], reason: LostReason): void;
  /** The processor passed its crash limit: tell the holders of `leases` (and subscribers). */
  onFailed?(processor: string, action: CrashAction, leases: string[]): void;
  /** The crash limit's `exit`: the shell's process should exit non-zero. */
  onExit?(processor: string): void;
  /** These leases are usable: the processor runs or is attached (answer their acquire). */
  onLeasesReady?(processor: string, leases: string[]): void;
  /** These leases' bring-up failed with `error` (answer their acquire with it; the shell ends them). */
  onLeasesFailed?(processor: string, leases: string[], error: RprocError): void;
  /**
   * Every reading of `state` (invalid strings included): each poll's, and the state a `state`,
   * `start`, `stop` or `detach` call answers.
   */
  onPoll?(processor: string, state: string): void;
  /** Subscribes to the processors' child-device uevents, where the system has them; returns the unsubscribe. */
  uevents?: (listener: (processor: string, action: 'add' | 'remove') => void) => () => void;
}

/** A running supervisor tree. */
export interface RunningSupervisor {
  /** The root actor: its children are the processor actors, theirs the leases. */
  readonly root: AnyActor;
  /** Spawns lease `lease.id` under its processor's actor and counts its vote. */
  acquire(lease: LeaseInput, firmware?: string): void;
  /** Sends a lease event (release, heartbeat, lost) to a live lease; an ended one takes nothing. */
  send(processor: string, id: string, event: Exclude<LeaseEvent['type'], 'lease.grant'>): void;
  /** The processor actor of `processor`. */
  processor(processor: string): AnyActorRef;
  /**
   * Spawns a processor actor for `processor` (hotplug: a processor that appeared), on the same path as
   * the processors spawned at start, and sends it its `start` input; polls include it from now on.
   * `config` overrides `configFor`. A processor already there is left as it is (false).
   */
  addProcessor(processor: string, config?: SupervisorConfig): boolean;
  /**
   * Removes `processor` (hotplug: it disappeared). From this call on no driver call goes out for it
   * and answers still on their way are dropped; its leases end as lost (each lease's end is reported
   * through `onLeaseEnd`, before this returns), then its actor stops and leaves the tree. False for a
   * processor the tree does not have.
   */
  removeProcessor(processor: string): boolean;
  /** The processors the tree has now, in the order they were added. */
  processors(): string[];
  /** The core state of `processor`. */
  core(processor: string): ProcessorCore;
  /** True when no processor has an operation under way or decided. */
  idle(): boolean;
  /** Resolves once {@link RunningSupervisor.idle} is true (at once if it is). */
  whenIdle(): Promise<void>;
  /** Resolves once no processor waits for acknowledgements of an announced stop (at once if none does). */
  whenStopsAcked(): Promise<void>;
  /** Tells every processor's core that the supervisor is closing (no more `offGraceMs`). */
  shutdown(): void;
  /** Party `party` acknowledges an announced stop of `processor`; true if the core waited for it. */
  ack(processor: string, party: string): boolean;
  /** Stops polling and every actor; answers still on their way are dropped. */
  stop(): void;
}

type RootContext = { processors: readonly string[]; configs: Record<string, SupervisorConfig> };

/** Spawns a processor actor per processor of `which` (its id the processor's): the one spawn path. */
function spawnProcessors(
  spawn: (src: 'processor', options: { id: string; input: ProcessorActorInput }) => unknown,
  which: RootContext,
): Record<never, never> {
  for (const processor of which.processors)
    spawn('processor', {
      id: processor,
      input: { processor, config: which.configs[processor] as SupervisorConfig },
    });
  return {};
}
/** Processors joining the tree: those at start (the root's input) or one that appeared later. */
type RootEvent =
  | { type: 'processors.add'; processors: readonly string[]; configs: Record<string, SupervisorConfig> }
  | { type: 'processors.remove'; processor: string };

/**
 * The root of the tree: spawns one processor actor per processor, with XState's own `spawn`. The one
 * spawn path: the processors at start and those hotplug adds later go through the same `assign`.
 */
const supervisorRoot = setup({
  types: {
    input: {} as RootContext,
    context: {} as RootContext,
    events: {} as RootEvent,
  },
  actors: { processor: processorLogic },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => input,
  // XState's `spawn` inside one `assign`: all children join the snapshot at once (a `spawnChild` per
  // processor copies the children so far each time, which made start-up quadratic in processors).
  entry: assign(({ spawn, context }) => spawnProcessors(spawn, context)),
  on: {
    'processors.add': { actions: assign(({ spawn, event }) => spawnProcessors(spawn, event)) },
    'processors.remove': { actions: stopChild(({ event }) => event.processor) },
  },
});

/**
 * Starts the supervisor tree and runs its effects: calls through `driver`, `defer` and `after` on
 * `clock`, notices and logs through the callbacks. The order at start is the simulated monitor's and the
 * daemon's alike: each processor's `start` input, the uevent subscription, a first poll, then a poll
 * every `pollMs`.
 */
export function runSupervisor(options: RunSupervisorOptions): RunningSupervisor {
  const { clock, driver } = options;
  const configs: Record<string, SupervisorConfig> = Object.fromEntries(
    options.processors.map((p) => [p, options.configFor?.(p) ?? options.config]),
  );
  const root = createActor(supervisorRoot, {
    id: 'supervisor',
    clock,
    input: { processors: options.processors, configs },
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  let stopped = false;
  const timers = new Set<unknown>();
  const later = (ms: number, fn: () => void) => {
    const id = clock.setTimeout(() => {
      timers.delete(id);
      if (!stopped) fn();
    }, ms);
    timers.add(id);
  };
  root.start();
  const refs = new Map<string, AnyActorRef>();
  /** Each processor actor's subscriptions (its effects, its leases' ends), undone when it is removed. */
  const wiring = new Map<string, Array<() => void>>();
  const ref = (p: string): AnyActorRef => {
    const r = refs.get(p);
    if (!r) throw new Error(`supervisor: unknown processor ${p}`);
    return r;
  };
  // A removed processor takes no more input: an answer or a timer of it that comes later is dropped.
  const input = (p: string, i: SupervisorInput) => {
    if (!stopped) refs.get(p)?.send({ type: 'core.input', input: i } satisfies ProcessorActorEvent);
  };
  const run = (p: string, effects: SupervisorEffect[]) => {
    // A removed processor's last effects (its leases' ends) go nowhere: no call to a device that is gone.
    if (!refs.has(p)) return;
    for (const e of effects) {
      switch (e.type) {
        case 'call': {
          const reads = STATE_ANSWERS.has(e.call.op);
          driver.call(p, e.call).onSettled((result) => {
            // A call that answers the state read afterwards is a reading too: what `status` shows is
            // never older than what the core has acted on (a lease granted on `running`).
            if (reads && result.ok && !stopped) options.onPoll?.(p, String(result.value));
            input(p, { type: 'answer', result });
          });
          break;
        }
        case 'defer':
          later(0, () => input(p, { type: 'decide' }));
          break;
        case 'after': {
          const next = e.input;
          later(e.ms, () => input(p, next));
          break;
        }
        case 'leases.ready':
          options.onLeasesReady?.(p, e.leases);
          break;
        case 'leases.failed':
          options.onLeasesFailed?.(p, e.leases, e.error);
          break;
        case 'let-go':
          driver.letGo?.(p);
          break;
        case 'notify':
          options.onNotify?.(p, e.event, [...leaseChildren(ref(p)).keys()]);
          break;
        case 'stopping': {
          const told = options.onStopping?.(p, e.reason, e.ms, [...leaseChildren(ref(p)).keys()]) ?? [];
          input(p, { type: 'stop.told', parties: [...told] });
          break;
        }
        case 'leases.lost': {
          const leases = leaseChildren(ref(p));
          const ids = [...leases.keys()];
          options.onLeasesLost?.(p, ids, e.reason);
          for (const id of ids) leases.get(id)?.send({ type: 'lease.lost' });
          break;
        }
        case 'failed':
          options.onFailed?.(p, e.action, [...leaseChildren(ref(p)).keys()]);
          break;
        case 'exit':
          options.onExit?.(p);
          break;
        case 'log':
          options.onLog?.(p, e);
          break;
      }
    }
  };
  const idle = () =>
    [...refs.values()].every((r) => coreIdle((r.getSnapshot() as ProcessorSnapshot).context));
  const idleWaiters: Array<() => void> = [];
  const acked = () =>
    [...refs.values()].every((r) => (r.getSnapshot() as ProcessorSnapshot).context.stopWait === null);
  const ackWaiters: Array<() => void> = [];
  /**
   * Wires the actors of `added` (just spawned, on the root's one spawn path) into the runner and sends
   * each its `start` input: at start for all processors at once, later for one that appeared.
   */
  const join = (added: readonly string[]) => {
    for (const p of added) {
      const r = root.getSnapshot().children[p] as AnyActorRef | undefined;
      if (!r) throw new Error(`supervisor: no actor for processor ${p}`);
      refs.set(p, r);
      const sub = r.subscribe(() => {
        if (idleWaiters.length && idle()) for (const w of idleWaiters.splice(0)) w();
        if (ackWaiters.length && acked()) for (const w of ackWaiters.splice(0)) w();
      });
      const effects = r.on('core.effects', (e: Extract<ProcessorActorEmitted, { type: 'core.effects' }>) =>
        run(p, e.effects),
      );
      const ended = r.on('lease.ended', (e: Extract<ProcessorActorEmitted, { type: 'lease.ended' }>) =>
        options.onLeaseEnd?.(p, e.id, e.end),
      );
      wiring.set(p, [() => sub.unsubscribe(), () => effects.unsubscribe(), () => ended.unsubscribe()]);
    }
    for (const p of added) input(p, { type: 'start' });
  };
  join(options.processors);

  const unsubscribe = options.uevents?.((p, action) => {
    if (refs.has(p)) input(p, { type: 'uevent', action });
  });
  const poll = () => {
    for (const p of [...refs.keys()]) {
      driver.call(p, { op: 'state' }).onSettled((r) => {
        if (!r.ok || stopped || !refs.has(p)) return;
        const state = String(r.value);
        options.onPoll?.(p, state);
        if (!(KERNEL_STATES as readonly string[]).includes(state)) return;
        // A reading that changes nothing is left out: polls of a steady processor cost no actor event.
        const observed: SupervisorInput = { type: 'observed', state: state as KernelState };
        if (
          !isNoOp(
            configs[p] as SupervisorConfig,
            (ref(p).getSnapshot() as ProcessorSnapshot).context,
            observed,
          )
        )
          input(p, observed);
      });
    }
  };
  const every = () => {
    poll();
    later(options.pollMs, every);
  };
  poll();
  later(options.pollMs, every);

  return {
    root,
    acquire(lease, firmware) {
      if (stopped) return;
      ref(lease.processor).send({
        type: 'lease.acquire',
        lease,
        ...(firmware ? { firmware } : {}),
      } satisfies ProcessorActorEvent);
    },
    send(p, id, event) {
      // Straight to the lease actor (an ended one is gone from its parent's children and takes nothing);
      // its end reaches the processor actor as XState's done event.
      // A removed processor's leases have ended: they take nothing either.
      const r = refs.get(p);
      if (!stopped && r) leaseChildren(r).get(id)?.send({ type: event });
    },
    processor: ref,
    processors: () => [...refs.keys()],
    addProcessor(p, config) {
      if (stopped || refs.has(p)) return false;
      configs[p] = config ?? options.configFor?.(p) ?? options.config;
      root.send({ type: 'processors.add', processors: [p], configs: { [p]: configs[p] } });
      join([p]);
      return true;
    },
    removeProcessor(p) {
      const r = refs.get(p);
      if (!r || stopped) return false;
      // First: nothing more reaches the driver for it (run and input check refs).
      refs.delete(p);
      // Its leases end as lost; each end reaches `onLeaseEnd` (the lease.ended wiring is still there).
      for (const lease of [...leaseChildren(r).values()]) lease.send({ type: 'lease.lost' });
      for (const undo of wiring.get(p) ?? []) undo();
      wiring.delete(p);
      root.send({ type: 'processors.remove', processor: p });
      delete configs[p];
      if (idleWaiters.length && idle()) for (const w of idleWaiters.splice(0)) w();
      if (ackWaiters.length && acked()) for (const w of ackWaiters.splice(0)) w();
      return true;
    },
    shutdown() {
      for (const p of refs.keys()) input(p, { type: 'shutdown' });
    },
    ack(p, party) {
      const pending =
        refs.has(p) && (ref(p).getSnapshot() as ProcessorSnapshot).context.stopWait?.parties?.includes(party);
      if (pending) input(p, { type: 'ack', party });
      return pending === true;
    },
    core: (p) => (ref(p).getSnapshot() as ProcessorSnapshot).context,
    idle,
    whenIdle: () => (idle() || stopped ? Promise.resolve() : new Promise((r) => idleWaiters.push(r))),
    whenStopsAcked: () => (acked() || stopped ? Promise.resolve() : new Promise((r) => ackWaiters.push(r))),
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe?.();
      for (const t of timers) clock.clearTimeout(t);
      timers.clear();
      root.stop();
      for (const w of idleWaiters.splice(0)) w();
      for (const w of ackWaiters.splice(0)) w();
    },
  };
}
