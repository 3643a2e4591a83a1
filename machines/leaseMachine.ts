// machines/lease: one client's lease on one processor — requested → granted → released | lost | expired.

import { assign, setup } from 'xstate';

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

/**
 * One client's lease. A final state is its end; its `output` says which. Leases are standalone actors
 * (one per client), so that many leases cost O(1) each instead of O(N) children in one snapshot.
 *
 * @example
 * const lease = createActor(leaseMachine, { input: { id: 'l1', client: 'audio', processor: 'm4', ttlMs: 1000 }, clock });
 * lease.subscribe({ complete: () => console.log(lease.getSnapshot().output) });
 * lease.start(); lease.send({ type: 'lease.grant' });
 */
export const leaseMachine = setup({
  types: {
    input: {} as LeaseInput,
    context: {} as LeaseInput & { end: LeaseEnd | null },
    events: {} as LeaseEvent,
    output: {} as { id: string; client: string; processor: string; end: LeaseEnd },
  },
  delays: { ttl: ({ context }) => context.ttlMs ?? 0 },
  guards: { hasTtl: ({ context }) => context.ttlMs !== null },
}).createMachine({
  id: 'lease',
  context: ({ input }) => ({ ...input, end: null }),
  initial: 'requested',
  states: {
    requested: {
      on: { 'lease.grant': 'granted', 'lease.release': 'released', 'lease.lost': 'lost' },
    },
    granted: {
      initial: 'alive',
      states: {
        // Each heartbeat re-enters `alive`, restarting the TTL timer.
        alive: { after: { ttl: { guard: 'hasTtl', target: '#lease.expired' } } },
      },
      on: {
        'lease.heartbeat': { target: '.alive', reenter: true },
        'lease.release': 'released',
        'lease.lost': 'lost',
      },
    },
    released: { type: 'final', entry: assign({ end: 'released' as const }) },
    lost: { type: 'final', entry: assign({ end: 'lost' as const }) },
    expired: { type: 'final', entry: assign({ end: 'expired' as const }) },
  },
  output: ({ context }) => ({
    id: context.id,
    client: context.client,
    processor: context.processor,
    end: context.end ?? 'lost',
  }),
});
