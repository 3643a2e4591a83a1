// leaseRunner: one lease's life, run by leaseMachine — as an actor when it has a TTL, else by its table.

import { createActor, type InspectionEvent } from 'xstate';
import type { TwinClock } from '../actors/VirtualClock.js';
import { type LeaseEnd, type LeaseEvent, type LeaseInput, leaseMachine } from '../machines/leaseMachine.js';
import { compileTransitionTable } from '../machines/transitionTable.js';

/** A lease's machine, running. */
export interface LeaseRunner {
  send(type: LeaseEvent['type']): void;
  /** How it ended, or null while it is not in a final state. */
  readonly end: LeaseEnd | null;
}

const LEASE_EVENTS = ['lease.grant', 'lease.heartbeat', 'lease.release', 'lease.lost'] as const;

/**
 * leaseMachine for leases without a TTL, compiled by XState's `transition()`: such a lease arms no
 * timer and runs no action (the only guard reads `ttlMs`), so its actor would do exactly what the
 * table does — at 1/30 of the cost per lease, which is what the daemon's throughput is made of.
 */
export const UNTIMED_LEASE_TABLE = compileTransitionTable(
  leaseMachine,
  { id: '', client: '', processor: '', ttlMs: null },
  LEASE_EVENTS,
);

/**
 * Starts a lease's machine with `input`. `onEnd` is called once, synchronously, when the lease
 * reaches a final state (`released`, `lost`, `expired`). A lease with a TTL runs as an actor on
 * `clock` (its `after` timer needs one), inspected by `inspect` when given; one without runs on
 * {@link UNTIMED_LEASE_TABLE}.
 */
export function startLease(
  input: LeaseInput,
  clock: TwinClock,
  inspect: ((event: InspectionEvent) => void) | undefined,
  onEnd: (end: LeaseEnd) => void,
): LeaseRunner {
  const table = UNTIMED_LEASE_TABLE;
  if (input.ttlMs === null && table) {
    let state = table.initial;
    let end: LeaseEnd | null = null;
    return {
      send(type) {
        if (end) return;
        state = table.next(state, type);
        const name = table.final.get(state);
        if (name) {
          end = name as LeaseEnd;
          onEnd(end);
        }
      },
      get end() {
        return end;
      },
    };
  }
  const actor = createActor(leaseMachine, { clock, input, ...(inspect ? { inspect } : {}) });
  actor.subscribe({ complete: () => onEnd(actor.getSnapshot().output?.end ?? 'lost') });
  actor.start();
  return {
    send: (type) => actor.send({ type }),
    get end() {
      const s = actor.getSnapshot();
      return s.status === 'done' ? (s.output?.end ?? 'lost') : null;
    },
  };
}
