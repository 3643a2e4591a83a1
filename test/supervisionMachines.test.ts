// machines/lease, machines/supervisor and OTP restart intensity, on their own.

import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import { VirtualClock } from '../actors/VirtualClock.js';
import { leaseMachine } from '../machines/leaseMachine.js';
import { shouldRestart } from '../machines/restartIntensity.js';
import { type SupervisorEmitted, supervisorMachine } from '../machines/supervisorMachine.js';

const leaseInput = (ttlMs: number | null) => ({ id: 'l1', client: 'audio', processor: 'm4', ttlMs });

describe('leaseMachine', () => {
  it('should end released, lost or expired, with that end as output', () => {
    for (const [event, end] of [
      ['lease.release', 'released'],
      ['lease.lost', 'lost'],
    ] as const) {
      const a = createActor(leaseMachine, { input: leaseInput(null) }).start();
      a.send({ type: 'lease.grant' });
      a.send({ type: event });
      expect(a.getSnapshot().status).toBe('done');
      expect(a.getSnapshot().output?.end).toBe(end);
    }
  });

  it('should expire after ttlMs without a heartbeat, and not while heartbeats come', () => {
    const clock = new VirtualClock();
    const a = createActor(leaseMachine, { input: leaseInput(1000), clock }).start();
    a.send({ type: 'lease.grant' });
    for (let t = 0; t < 5; t++) {
      clock.advanceBy(900);
      a.send({ type: 'lease.heartbeat' });
    }
    expect(a.getSnapshot().status).toBe('active');
    clock.advanceBy(1000);
    expect(a.getSnapshot().output?.end).toBe('expired');
  });

  it('should never expire without a TTL', () => {
    const clock = new VirtualClock();
    const a = createActor(leaseMachine, { input: leaseInput(null), clock }).start();
    a.send({ type: 'lease.grant' });
    clock.advanceBy(1e9);
    expect(a.getSnapshot().value).toEqual({ granted: 'held' });
  });
});

describe('supervisorMachine', () => {
  const input = (over = {}) => ({
    processors: ['m4'],
    reconcile: 'adopt' as const,
    graceMs: 2000,
    restarted: false,
    ...over,
  });
  const emitted = (actions: Array<{ type: string; params?: unknown }>) =>
    actions
      .filter((a) => a.type === 'xstate.emit')
      .map((a) => (a.params as { event: SupervisorEmitted }).event);

  it('should ask for the processor running on the first vote and offline after the last', () => {
    const [s0] = initialTransition(supervisorMachine, input());
    const [s1, a1] = transition(supervisorMachine, s0, { type: 'lease.granted', processor: 'm4' });
    expect(emitted(a1)).toEqual([{ type: 'supervisor.ensure', processor: 'm4', want: 'running' }]);
    const [s2, a2] = transition(supervisorMachine, s1, { type: 'lease.granted', processor: 'm4' });
    expect(emitted(a2)).toEqual([]);
    const [s3, a3] = transition(supervisorMachine, s2, { type: 'lease.ended', processor: 'm4' });
    expect(emitted(a3)).toEqual([]);
    const [, a4] = transition(supervisorMachine, s3, { type: 'lease.ended', processor: 'm4' });
    expect(emitted(a4)).toEqual([{ type: 'supervisor.ensure', processor: 'm4', want: 'offline' }]);
  });

  it('should announce a crash once and the recovery after it', () => {
    const [s0] = initialTransition(supervisorMachine, input());
    const [s1] = transition(supervisorMachine, s0, { type: 'lease.granted', processor: 'm4' });
    const [s2, a2] = transition(supervisorMachine, s1, {
      type: 'processor.observed',
      processor: 'm4',
      state: 'crashed',
    });
    expect(emitted(a2)).toContainEqual({
      type: 'supervisor.notify',
      processor: 'm4',
      event: 'processor.crashed',
    });
    const [s3, a3] = transition(supervisorMachine, s2, {
      type: 'processor.observed',
      processor: 'm4',
      state: 'crashed',
    });
    expect(emitted(a3)).toEqual([]);
    const [, a4] = transition(supervisorMachine, s3, {
      type: 'processor.observed',
      processor: 'm4',
      state: 'running',
    });
    expect(emitted(a4)).toEqual([
      { type: 'supervisor.notify', processor: 'm4', event: 'processor.recovered' },
    ]);
  });

  it('should wait graceMs after a restart with adopt, then stop what nobody claimed', () => {
    const [s0, a0] = initialTransition(supervisorMachine, input({ restarted: true }));
    expect(s0.value).toBe('adopting');
    expect(emitted(a0)).toEqual([]);
    const [s1, a1] = transition(supervisorMachine, s0, {
      type: 'processor.observed',
      processor: 'm4',
      state: 'running',
    });
    expect(emitted(a1)).toEqual([]);
    const delayed = a0.find((a) => a.type === 'xstate.raise');
    expect((delayed?.params as { delay?: number })?.delay).toBe(2000);
    expect(s1.value).toBe('adopting');
  });

  it('should stop every unclaimed processor at once with stop-unknown', () => {
    const [s0, a0] = initialTransition(
      supervisorMachine,
      input({ restarted: true, reconcile: 'stop-unknown' }),
    );
    expect(s0.value).toBe('steady');
    expect(emitted(a0)).toEqual([{ type: 'supervisor.ensure', processor: 'm4', want: 'offline' }]);
  });
});

describe('shouldRestart (OTP intensity)', () => {
  it('should allow `intensity` restarts within the period and refuse one more', () => {
    const flags = { intensity: 2, periodMs: 5000 };
    let h: number[] = [];
    for (const t of [0, 1000]) {
      const v = shouldRestart(h, t, flags);
      expect(v.restart).toBe(true);
      h = v.history;
    }
    expect(shouldRestart(h, 2000, flags).restart).toBe(false);
    expect(shouldRestart(h, 6500, flags).restart).toBe(true);
  });
});
