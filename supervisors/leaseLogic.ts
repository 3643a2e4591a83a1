// leaseLogic: a lease as an actor — leaseMachine itself when it has a TTL, else an actor over its compiled table.

import { type ActorLogic, type AnyActorLogic, type AnyActorRef, createActor, type Snapshot } from 'xstate';
import {
  type LeaseEnd,
  type LeaseEvent,
  type LeaseInput,
  type LeaseOutput,
  leaseMachine,
} from '../machines/leaseMachine.js';
import { compileTransitionTable, type TableState } from '../machines/transitionTable.js';

const LEASE_EVENTS = ['lease.grant', 'lease.heartbeat', 'lease.release', 'lease.lost'] as const;

/**
 * leaseMachine for leases without a TTL, compiled by XState's `transition()`: such a lease arms no timer
 * and runs no action (the only guard reads `ttlMs`), so an actor over the table does exactly what a
 * leaseMachine actor does, for less per lease — which is what the daemon's throughput is made of.
 */
export const UNTIMED_LEASE_TABLE = (() => {
  const table = compileTransitionTable(
    leaseMachine,
    { id: '', client: '', processor: '', ttlMs: null },
    LEASE_EVENTS,
  );
  if (!table) throw new Error('leaseMachine without a TTL must compile to a table');
  return table;
})();

/** The snapshot of an untimed lease actor: its table state as `value`, its input as `context`. */
export type TableLeaseSnapshot = Snapshot<LeaseOutput> & {
  value: unknown;
  context: LeaseInput;
  key: TableState;
};

const valueByKey = new Map(UNTIMED_LEASE_TABLE.states.map((k) => [k, JSON.parse(k) as unknown]));

function snapshotAt(key: TableState, context: LeaseInput): TableLeaseSnapshot {
  const end = UNTIMED_LEASE_TABLE.final.get(key) as LeaseEnd | undefined;
  const value = valueByKey.get(key);
  if (end) {
    const output: LeaseOutput = { id: context.id, client: context.client, processor: context.processor, end };
    return { status: 'done', output, error: undefined, value, context, key };
  }
  return { status: 'active', output: undefined, error: undefined, value, context, key };
}

/**
 * An untimed lease as XState actor logic over {@link UNTIMED_LEASE_TABLE}: a final state makes the
 * actor `done` with leaseMachine's output, so its parent gets XState's own `xstate.done.actor.<id>`.
 */
export const untimedLeaseLogic: ActorLogic<TableLeaseSnapshot, LeaseEvent, LeaseInput> & { id: string } = {
  /** leaseMachine's id and definition: inspection shows the actor as a lease. */
  id: leaseMachine.id,
  config: leaseMachine.config,
  transition(snapshot, event): TableLeaseSnapshot {
    // Stopped by its parent (the supervisor went away): no end of its own, and inspection sees it stop.
    if ((event as { type: string }).type === 'xstate.stop') {
      const { value, context, key } = snapshot;
      return {
        status: 'stopped',
        output: undefined,
        error: undefined,
        value,
        context,
        key,
      } as TableLeaseSnapshot;
    }
    if (snapshot.status !== 'active') return snapshot;
    const next = UNTIMED_LEASE_TABLE.next(snapshot.key, event.type as (typeof LEASE_EVENTS)[number]);
    return next === snapshot.key ? snapshot : snapshotAt(next, snapshot.context);
  },
  getInitialSnapshot: (_scope, input) => snapshotAt(UNTIMED_LEASE_TABLE.initial, input),
  getPersistedSnapshot: (snapshot) => snapshot,
  restoreSnapshot: (snapshot) => snapshot as TableLeaseSnapshot,
};

/** The logic of a lease with `ttlMs`: leaseMachine for a TTL (its `after` timer), the table without. */
export function leaseLogicFor(ttlMs: number | null): AnyActorLogic {
  return ttlMs === null ? untimedLeaseLogic : leaseMachine;
}

const GRANTED = UNTIMED_LEASE_TABLE.next(UNTIMED_LEASE_TABLE.initial, 'lease.grant');

/**
 * A granted lease as a child actor of `parent`, and how to start it. An untimed one is created in the
 * table's granted state (where `lease.grant` leads, so it costs no event); a timed one is granted by
 * event when it starts, which arms its TTL timer. Events sent before the start wait in its mailbox.
 */
export function grantedLease(parent: AnyActorRef, lease: LeaseInput): { actor: AnyActorRef; start(): void } {
  if (lease.ttlMs === null) {
    const snapshot = snapshotAt(GRANTED, lease);
    const actor = createActor(untimedLeaseLogic, { parent, id: lease.id, input: lease, snapshot });
    return { actor, start: () => actor.start() };
  }
  const actor = createActor(leaseMachine, { parent, id: lease.id, input: lease });
  return {
    actor,
    start() {
      actor.start();
      actor.send({ type: 'lease.grant' });
    },
  };
}

/** How a lease actor's snapshot says it ended, or null while it has not. */
export function leaseEndOf(snapshot: { status: string; output?: unknown }): LeaseEnd | null {
  if (snapshot.status !== 'done') return null;
  return ((snapshot.output as LeaseOutput | undefined)?.end ?? 'lost') as LeaseEnd;
}
