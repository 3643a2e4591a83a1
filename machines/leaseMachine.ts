// machines/lease: one client's lease on one processor — requested → granted → released | lost | expired.

import { setup } from 'xstate';
import { fail, ok, type Result } from './errno.js';

/** The longest TTL: a timer's delay is a signed 32-bit count of ms (a longer one would fire at once). */
export const MAX_TTL_MS = 2 ** 31 - 1;

/** A lease's `ttlMs` as given: an integer 1 … {@link MAX_TTL_MS}, or null/absent (no TTL); else EINVAL. */
export function checkTtl(ttlMs: number | null | undefined): Result<number | null> {
  if (ttlMs === null || ttlMs === undefined) return ok(null);
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS)
    return fail('EINVAL', 'acquire', `ttlMs: expected an integer from 1 to ${MAX_TTL_MS} (ms), got ${ttlMs}`);
  return ok(ttlMs);
}

/** Input of a lease. */
export interface LeaseInput {
  id: string;
  client: string;
  processor: string;
  /** Expire after this long without a heartbeat; null: never. */
  ttlMs: number | null;
}

/** How a lease ended. */
export type LeaseEnd = 'released' | 'lost' | 'expired';

/** Events a lease accepts. */
export type LeaseEvent =
  | { type: 'lease.grant' }
  | { type: 'lease.heartbeat' }
  | { type: 'lease.release' }
  /** The holder's connection ended: it died (EOF on any death) or the monitor lost it. */
  | { type: 'lease.lost' };

/** The output of a finished lease. */
export interface LeaseOutput {
  id: string;
  client: string;
  processor: string;
  end: LeaseEnd;
}

/**
 * One client's lease. A final state is its end; its `output` says which. Leases are standalone actors
 * (one per client), so that many leases cost O(1) each instead of O(N) children in one snapshot; a
 * lease without a TTL arms no timer at all.
 *
 * @example
 * const lease = createActor(leaseMachine, { input: { id: 'l1', client: 'audio', processor: 'm4', ttlMs: 1000 }, clock });
 * lease.subscribe({ complete: () => console.log(lease.getSnapshot().output) });
 * lease.start(); lease.send({ type: 'lease.grant' });
 */
export const leaseMachine = setup({
  types: {
    input: {} as LeaseInput,
    context: {} as LeaseInput,
    events: {} as LeaseEvent,
    output: {} as LeaseOutput,
  },
  delays: { ttl: ({ context }) => context.ttlMs ?? 0 },
  guards: { hasTtl: ({ context }) => context.ttlMs !== null },
}).createMachine({
  id: 'lease',
  context: ({ input }) => input,
  initial: 'requested',
  states: {
    requested: {
      on: {
        'lease.grant': [{ guard: 'hasTtl', target: 'granted.alive' }, { target: 'granted.held' }],
        'lease.release': 'released',
        'lease.lost': 'lost',
      },
    },
    granted: {
      initial: 'held',
      states: {
        /** No TTL: held until released or lost. */
        held: {},
        /** Each heartbeat re-enters `alive`, restarting the TTL timer. */
        alive: {
          after: { ttl: 'due' },
          on: { 'lease.heartbeat': { target: 'alive', reenter: true } },
        },
        /**
         * The TTL has run out, but the lease expires only later in this instant (a 0 ms delay: on the
         * real clock after the event loop has read its input), so that a heartbeat already waiting — sent
         * in time, unread while the loop stalled (SIGSTOP, GC, a blocked call) — still keeps it.
         */
        due: {
          after: { 0: '#lease.expired' },
          on: { 'lease.heartbeat': { target: 'alive' } },
        },
      },
      on: { 'lease.release': 'released', 'lease.lost': 'lost' },
    },
    released: { type: 'final' },
    lost: { type: 'final' },
    expired: { type: 'final' },
  },
  // The output's event is `xstate.done.state.lease.<final state>`: the final state's name is the end.
  output: ({ context, event }) => ({
    id: context.id,
    client: context.client,
    processor: context.processor,
    end: event.type.slice(event.type.lastIndexOf('.') + 1) as LeaseEnd,
  }),
});
