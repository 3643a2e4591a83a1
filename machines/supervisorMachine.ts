// machines/supervisor: vote counting per processor, decisions, reconciliation after a restart, crash notices.

import { assign, enqueueActions, setup } from 'xstate';
import { isPoweredState, isRunningState } from './powered.js';
import type { KernelState } from './rprocTypes.js';

/** How a restarted monitor treats processors it finds powered: wait for clients, or stop them at once. */
export type ReconcilePolicy = 'adopt' | 'stop-unknown';

/** Input of a supervisor (one per monitor incarnation). */
export interface SupervisorInput {
  processors: string[];
  reconcile: ReconcilePolicy;
  graceMs: number;
  /** True for an incarnation after the first: it reconciles before it decides. */
  restarted: boolean;
}

/** Context: counts only, so each lease event costs O(1) whatever the number of leases. */
export interface SupervisorContext extends SupervisorInput {
  votes: Record<string, number>;
  observed: Record<string, KernelState | 'unknown'>;
  /** Inside a crash episode already announced to clients. */
  crashed: Record<string, boolean>;
}

/** Events a supervisor accepts. */
export type SupervisorEvent =
  | { type: 'lease.granted'; processor: string }
  | { type: 'lease.ended'; processor: string }
  | { type: 'processor.observed'; processor: string; state: KernelState }
  /** A uevent of the processor's child devices that the monitor did not cause by a stop of its own. */
  | { type: 'processor.uevent'; processor: string; action: 'add' | 'remove' };

/** Decisions a supervisor emits for its executor to carry out. */
export type SupervisorEmitted =
  /** Make the processor reach `want` (start it, or stop it until it is offline). */
  | { type: 'supervisor.ensure'; processor: string; want: 'running' | 'offline' }
  /** Tell the lease holders of `processor`. */
  | { type: 'supervisor.notify'; processor: string; event: 'processor.crashed' | 'processor.recovered' };

/**
 * Enters (`crashed`) or leaves a crash episode of `p`, telling its lease holders once on each edge; a
 * repeated sign of the same edge (a poll after the uevent, say) changes nothing.
 */
function crashEpisode(
  context: SupervisorContext,
  enqueue: { assign(patch: Partial<SupervisorContext>): void; emit(event: SupervisorEmitted): void },
  p: string,
  crashed: boolean,
): void {
  if ((context.crashed[p] ?? false) === crashed) return;
  enqueue.assign({ crashed: { ...context.crashed, [p]: crashed } });
  enqueue.emit({
    type: 'supervisor.notify',
    processor: p,
    event: crashed ? 'processor.crashed' : 'processor.recovered',
  });
}

/**
 * The monitor's brain. Counts votes per processor; on the first vote it asks for the processor running,
 * on the last vote's end for it offline. After a restart it reconciles: `adopt` waits `graceMs` for
 * clients to re-register, then stops what nobody claimed; `stop-unknown` stops everything unclaimed
 * at once. It announces crashes it observes (`crashed` read from sysfs) and the recovery after them.
 */
export const supervisorMachine = setup({
  types: {
    input: {} as SupervisorInput,
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    emitted: {} as SupervisorEmitted,
  },
  delays: { grace: ({ context }) => context.graceMs },
  guards: {
    adopting: ({ context }) => context.restarted && context.reconcile === 'adopt',
    firstVote: ({ context, event }) => (context.votes[(event as { processor: string }).processor] ?? 0) === 0,
    lastVote: ({ context, event }) => (context.votes[(event as { processor: string }).processor] ?? 0) <= 1,
  },
  actions: {
    inc: assign(({ context, event }) => {
      const p = (event as { processor: string }).processor;
      return { votes: { ...context.votes, [p]: (context.votes[p] ?? 0) + 1 } };
    }),
    dec: assign(({ context, event }) => {
      const p = (event as { processor: string }).processor;
      return { votes: { ...context.votes, [p]: Math.max(0, (context.votes[p] ?? 0) - 1) } };
    }),
    count: enqueueActions(({ context, event, enqueue }, params: { delta: 1 | -1; decide: boolean }) => {
      if (event.type !== 'lease.granted' && event.type !== 'lease.ended') return;
      const n = Math.max(0, (context.votes[event.processor] ?? 0) + params.delta);
      enqueue.assign({ votes: { ...context.votes, [event.processor]: n } });
      if (!params.decide) return;
      if (params.delta === 1 && n === 1)
        enqueue.emit({ type: 'supervisor.ensure', processor: event.processor, want: 'running' });
      if (params.delta === -1 && n === 0)
        enqueue.emit({ type: 'supervisor.ensure', processor: event.processor, want: 'offline' });
    }),
    observe: enqueueActions(({ context, event, enqueue }, params: { enforce: boolean }) => {
      if (event.type !== 'processor.observed') return;
      const { processor: p, state } = event;
      enqueue.assign({ observed: { ...context.observed, [p]: state } });
      if (state === 'crashed') crashEpisode(context, enqueue, p, true);
      else if (isRunningState(state)) crashEpisode(context, enqueue, p, false);
      // Nobody wants it but it is powered: stop it (a crash recovery may have brought it back).
      if (params.enforce && (context.votes[p] ?? 0) === 0 && isPoweredState(state)) {
        enqueue.emit({ type: 'supervisor.ensure', processor: p, want: 'offline' });
      }
    }),
    /** A remove the monitor did not cause is a crash recovery under way; the add after it ends it. */
    uevent: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'processor.uevent') return;
      crashEpisode(context, enqueue, event.processor, event.action === 'remove');
    }),
    stopUnclaimed: enqueueActions(({ context, enqueue }) => {
      for (const p of context.processors) {
        if ((context.votes[p] ?? 0) === 0)
          enqueue.emit({ type: 'supervisor.ensure', processor: p, want: 'offline' });
      }
    }),
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({
    ...input,
    votes: Object.fromEntries(input.processors.map((p) => [p, 0])),
    observed: Object.fromEntries(input.processors.map((p) => [p, 'unknown' as const])),
    crashed: {},
  }),
  initial: 'starting',
  states: {
    starting: {
      always: [
        { guard: 'adopting', target: 'adopting' },
        { target: 'steady', actions: 'stopUnclaimed' },
      ],
    },
    adopting: {
      after: { grace: { target: 'steady', actions: 'stopUnclaimed' } },
      on: {
        // Re-registration: make sure a claimed processor runs; the last vote's end stops nothing yet.
        'lease.granted': { actions: { type: 'count', params: { delta: 1, decide: true } } },
        'lease.ended': { actions: { type: 'count', params: { delta: -1, decide: false } } },
        'processor.observed': { actions: { type: 'observe', params: { enforce: false } } },
        'processor.uevent': { actions: 'uevent' },
      },
    },
    steady: {
      on: {
        // The common case is a plain count: guards pick it without building an action queue.
        'lease.granted': [
          { guard: 'firstVote', actions: { type: 'count', params: { delta: 1, decide: true } } },
          { actions: 'inc' },
        ],
        'lease.ended': [
          { guard: 'lastVote', actions: { type: 'count', params: { delta: -1, decide: true } } },
          { actions: 'dec' },
        ],
        'processor.observed': { actions: { type: 'observe', params: { enforce: true } } },
        'processor.uevent': { actions: 'uevent' },
      },
    },
  },
});
