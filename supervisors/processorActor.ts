// processorActor: one processor's supervisor as an XState actor — the core's step, with its leases as child actors.

import type { ActorLogic, AnyActorRef, DoneActorEvent, ErrorActorEvent, Snapshot } from 'xstate';
import type { LeaseEnd, LeaseInput } from '../machines/leaseMachine.js';
import {
  initialCore,
  type ProcessorCore,
  type SupervisorConfig,
  type SupervisorEffect,
  type SupervisorInput,
  stepCore,
} from '../machines/supervisorCore.js';
import { grantedLease, leaseEndOf } from './leaseLogic.js';

/** Input of a processor actor. */
export interface ProcessorActorInput {
  processor: string;
  config: SupervisorConfig;
}

/** Its snapshot: the core's state as `context`. */
export type ProcessorSnapshot = Snapshot<undefined> & {
  context: ProcessorCore;
  input: ProcessorActorInput;
};

/** Events a processor actor takes. */
export type ProcessorActorEvent =
  | { type: 'core.input'; input: SupervisorInput }
  /** Spawns the lease as a child, grants it, and counts its vote. */
  | { type: 'lease.acquire'; lease: LeaseInput; firmware?: string }
  | DoneActorEvent
  | ErrorActorEvent;

/** What a processor actor emits. */
export type ProcessorActorEmitted =
  | { type: 'core.effects'; processor: string; effects: SupervisorEffect[] }
  /** A lease ended (its final state, or an error in it): its vote is already counted out. */
  | { type: 'lease.ended'; processor: string; id: string; end: LeaseEnd };

/** Each processor actor's lease children, by lease id (kept out of the snapshot: it is not data). */
const leasesOf = new WeakMap<AnyActorRef, Map<string, AnyActorRef>>();

/** The lease children of a processor actor. */
export function leaseChildren(processor: AnyActorRef): ReadonlyMap<string, AnyActorRef> {
  return leasesOf.get(processor) ?? new Map();
}

const DONE = 'xstate.done.actor.';
const ERROR = 'xstate.error.actor.';

/**
 * A processor's supervisor: its state is the core's ({@link stepCore}), its children are its leases.
 * A lease is created with XState's `parent` option — what `spawnChild` does inside, without copying the
 * parent's `children` object on every spawn (measured: 1,000 spawnChild into one machine 1.7 s, 8,000
 * 40 s) — so its end reaches this actor as XState's own `xstate.done.actor.<id>` or
 * `xstate.error.actor.<id>`, and that event, not a callback, counts the vote out. Stopping this actor
 * stops its leases and tells nobody (the supervisor is gone).
 */
export const processorLogic: ActorLogic<ProcessorSnapshot, ProcessorActorEvent, ProcessorActorInput> & {
  id: string;
} = {
  /** Inspection names such an actor's kind `processor` (and the actor by its id, the processor's). */
  id: 'processor',
  config: { id: 'processor' },
  getInitialSnapshot: (scope, input) => {
    leasesOf.set(scope.self, new Map());
    return { status: 'active', output: undefined, error: undefined, context: initialCore(), input };
  },
  transition(snapshot, event, scope) {
    const leases = leasesOf.get(scope.self) ?? new Map<string, AnyActorRef>();
    const { processor, config } = snapshot.input;
    const step = (input: SupervisorInput): ProcessorSnapshot => {
      const [core, effects] = stepCore(config, snapshot.context, input);
      if (effects.length) scope.emit({ type: 'core.effects', processor, effects } as never);
      return { ...snapshot, context: core };
    };
    if ((event as { type: string }).type === 'xstate.stop') {
      for (const child of leases.values()) scope.stopChild(child);
      leases.clear();
      return {
        status: 'stopped',
        output: undefined,
        error: undefined,
        context: snapshot.context,
        input: snapshot.input,
      };
    }
    if (snapshot.status !== 'active') return snapshot;
    switch (event.type) {
      case 'core.input':
        return step(event.input);
      case 'lease.acquire': {
        const { lease } = event;
        const child = grantedLease(scope.self, lease);
        leases.set(lease.id, child.actor);
        // Started after this step, as XState starts the children a machine spawns.
        scope.defer(child.start);
        return step({
          type: 'vote',
          delta: 1,
          lease: lease.id,
          ...(event.firmware ? { firmware: event.firmware } : {}),
        });
      }
    }
    const type = (event as { type: string }).type;
    const ended = type.startsWith(DONE)
      ? type.slice(DONE.length)
      : type.startsWith(ERROR)
        ? type.slice(ERROR.length)
        : null;
    if (ended === null || !leases.has(ended)) return snapshot;
    const child = leases.get(ended) as AnyActorRef;
    leases.delete(ended);
    const end = leaseEndOf(child.getSnapshot()) ?? 'lost';
    const next = step({ type: 'vote', delta: -1, lease: ended, end });
    scope.emit({ type: 'lease.ended', processor, id: ended, end } as never);
    return next;
  },
  getPersistedSnapshot: (snapshot) => snapshot,
};
