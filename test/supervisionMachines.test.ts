// machines/lease, machines/supervisor and OTP restart intensity, on their own.

import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { VirtualClock } from '../actors/VirtualClock.js';
import { leaseMachine } from '../machines/leaseMachine.js';
import { shouldRestart } from '../machines/restartIntensity.js';

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
