// compileTransitionTable: a table drawn from a machine by XState's transition() does what its actor does.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor, createMachine, setup } from 'xstate';
import { VirtualClock } from '../actors/VirtualClock.js';
import { leaseMachine } from '../machines/leaseMachine.js';
import { compileTransitionTable } from '../machines/transitionTable.js';
import { startLease, UNTIMED_LEASE_TABLE } from '../supervisors/leaseRunner.js';

const LEASE_EVENTS = ['lease.grant', 'lease.heartbeat', 'lease.release', 'lease.lost'] as const;
type LeaseEventType = (typeof LEASE_EVENTS)[number];

describe('compileTransitionTable', () => {
  it('should compile the untimed lease into its states, with the final states named', () => {
    const t = UNTIMED_LEASE_TABLE;
    expect(t).not.toBeNull();
    expect(t?.states).toEqual(['"requested"', '{"granted":"held"}', '"released"', '"lost"']);
    expect([...(t?.final.values() ?? [])].sort()).toEqual(['lost', 'released']);
    expect(t?.next(t.initial, 'lease.grant')).toBe('{"granted":"held"}');
    // An event the state ignores leaves it where it is.
    expect(t?.next(t.initial, 'lease.heartbeat')).toBe(t?.initial);
  });

  it('should refuse a machine whose transitions need an actor (a TTL timer, an assign, an emit)', () => {
    const timed = { id: '', client: '', processor: '', ttlMs: 1000 };
    expect(compileTransitionTable(leaseMachine, timed, LEASE_EVENTS)).toBeNull();
    const counter = setup({ types: { events: {} as { type: 'inc' } } }).createMachine({
      context: { n: 0 },
      on: { inc: { actions: ({ context }) => context.n } },
    });
    expect(compileTransitionTable(counter, undefined, ['inc'])).toBeNull();
    const plain = createMachine({ initial: 'a', states: { a: { on: { go: 'b' } }, b: { type: 'final' } } });
    expect(compileTransitionTable(plain, undefined, ['go'])?.final.get('"b"')).toBe('b');
  });

  it('should end an untimed lease exactly as the lease actor does, for any sequence of events', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...LEASE_EVENTS), { maxLength: 8 }),
        (events: LeaseEventType[]) => {
          const input = { id: 'l1', client: 'c', processor: 'remoteproc0', ttlMs: null };
          const actor = createActor(leaseMachine, { input }).start();
          const ends: string[] = [];
          const runner = startLease(input, new VirtualClock(), undefined, (end) => ends.push(end));
          for (const type of events) {
            // A done actor takes no more events (XState would only warn): its end is final. The table
            // is still sent every event, and must keep the end it had.
            if (actor.getSnapshot().status === 'active') actor.send({ type });
            runner.send(type);
            const s = actor.getSnapshot();
            expect(runner.end).toBe(s.status === 'done' ? (s.output?.end ?? null) : null);
          }
          expect(ends.length).toBe(runner.end ? 1 : 0);
          actor.stop();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('should run a lease with a TTL as an actor on the clock, which expires it', () => {
    const clock = new VirtualClock();
    const ends: string[] = [];
    const runner = startLease({ id: 'l2', client: 'c', processor: 'p', ttlMs: 100 }, clock, undefined, (e) =>
      ends.push(e),
    );
    runner.send('lease.grant');
    clock.advanceBy(60);
    runner.send('lease.heartbeat');
    clock.advanceBy(60);
    expect(runner.end).toBeNull();
    clock.advanceBy(50);
    expect(ends).toEqual(['expired']);
  });
});
