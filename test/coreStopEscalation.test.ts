// The core's two-phase stop, crash limit and processor-stopped rules, step by step, as pure data.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admitLease } from '../machines/corePolicy.js';
import { shouldRestart } from '../machines/restartIntensity.js';
import {
  initialCore,
  type ProcessorCore,
  type SupervisorEffect,
  type SupervisorInput,
  stepCore,
} from '../machines/supervisorCore.js';
import { answer, calls, config, decide, error, logs, run, vote } from './coreRun.js';

const up = [vote(1), decide, answer('offline'), answer('running')];
const released: SupervisorInput = { type: 'vote', delta: -1, end: 'released' };
const crashed: SupervisorInput = { type: 'observed', state: 'crashed' };
const running: SupervisorInput = { type: 'observed', state: 'running' };
const offline: SupervisorInput = { type: 'observed', state: 'offline' };
const of = <T extends SupervisorEffect['type']>(fx: SupervisorEffect[], type: T) =>
  fx.filter((e): e is Extract<SupervisorEffect, { type: T }> => e.type === type);

describe('two-phase stop (stopAckTimeoutMs)', () => {
  const c = config({ policy: 'shared', stopAckTimeoutMs: 300 });

  it('should announce the last release stop and wait, stopping nothing until the acks or the timer', () => {
    const { s, fx } = run([...up, released], c);
    expect(of(fx, 'stopping')).toEqual([{ type: 'stopping', reason: 'last-release', ms: 300 }]);
    expect(fx).toContainEqual({ type: 'after', ms: 300, input: { type: 'stop-ack.ended', seq: 1 } });
    expect([s.desired, s.stopWait?.reason]).toEqual(['running', 'last-release']);
    const timedOut = run(
      [...up, released, { type: 'stop.told', parties: ['a'] }, { type: 'stop-ack.ended', seq: 1 }],
      c,
    );
    expect([timedOut.s.desired, timedOut.s.stopWait]).toEqual(['offline', null]);
  });

  it('should go ahead once every party told has acknowledged, each once, and ignore strangers', () => {
    const told = [...up, released, { type: 'stop.told', parties: ['a', 'b', 'a'] } as SupervisorInput];
    const one = run(
      [...told, { type: 'ack', party: 'a' }, { type: 'ack', party: 'a' }, { type: 'ack', party: 'x' }],
      c,
    );
    expect([one.s.desired, one.s.stopWait?.parties]).toEqual(['running', ['b']]);
    const both = run([...told, { type: 'ack', party: 'b' }, { type: 'ack', party: 'a' }], c);
    expect([both.s.desired, both.s.stopWait]).toEqual(['offline', null]);
    // The wait's timer, now stale, changes nothing.
    const after = stepCore(c, both.s, { type: 'stop-ack.ended', seq: 1 });
    expect(after[1]).toEqual([]);
  });

  it('should go ahead at once when nobody was told, and not wait at all with stopAckTimeoutMs 0', () => {
    const nobody = run([...up, released, { type: 'stop.told', parties: [] }], c);
    expect(nobody.s.desired).toBe('offline');
    const plain = run([...up, released], config({ policy: 'shared' }));
    expect([of(plain.fx, 'stopping'), plain.s.desired]).toEqual([[], 'offline']);
  });

  it('should take a new acquire during the wait as no stop, as within offGraceMs', () => {
    const { s, fx } = run(
      [...up, released, { type: 'stop.told', parties: ['a'] }, vote(1), { type: 'stop-ack.ended', seq: 1 }],
      c,
    );
    expect([s.stopWait, s.desired, s.votes]).toEqual([null, 'running', 1]);
    expect(calls(fx)).toEqual(['state', 'start']);
  });

  it('should announce a shutdown under leases and end its wait without stopping: the end of the leases stops', () => {
    const { s, fx } = run([...up, { type: 'shutdown' }, { type: 'stop.told', parties: ['a'] }], c);
    expect(of(fx, 'stopping')).toEqual([{ type: 'stopping', reason: 'shutdown', ms: 300 }]);
    const acked = stepCore(c, s, { type: 'ack', party: 'a' })[0];
    expect([acked.stopWait, acked.desired, acked.closing]).toEqual([null, 'running', true]);
    const last = stepCore(c, acked, released)[0];
    expect(last.desired).toBe('offline');
  });

  it('should not announce a stop of nothing of ours (shared, no reference)', () => {
    const { fx } = run([vote(1), released], c);
    expect(of(fx, 'stopping')).toEqual([]);
  });

  it('should keep an exclusive owner from stopping a powered processor during the wait', () => {
    const ex = config({ stopAckTimeoutMs: 300 });
    const { s } = run([...up, released, { type: 'stop.told', parties: ['a'] }, running], ex);
    expect(s.desired).toBe('running');
  });
});

describe('crash limit (crashLimit)', () => {
  const limit = (action: 'disable-recovery' | 'stop' | 'exit') =>
    config({ policy: 'shared', crashLimit: { intensity: 2, periodMs: 10000, action } });
  const crash = [crashed, running];
  const expired: SupervisorInput = { type: 'crash.expired' };

  it('should count each crash episode for periodMs and allow intensity of them', () => {
    const { s, fx } = run([...up, ...crash, ...crash], limit('stop'));
    expect([s.crashCount, s.failed]).toEqual([2, false]);
    expect(fx).toContainEqual({ type: 'after', ms: 10000, input: { type: 'crash.expired' } });
    const aged = run([...up, ...crash, ...crash, expired, ...crash], limit('stop'));
    expect([aged.s.crashCount, aged.s.failed]).toEqual([2, false]);
  });

  it('should count nothing without a crash limit (the state stays as it was)', () => {
    const { s, fx } = run([...up, ...crash, ...crash, ...crash]);
    expect([s.crashCount, s.failed, of(fx, 'after')]).toEqual([0, false, []]);
  });

  it('should stop past the limit: failed, told, leases lost (processor-failed), then the stop', () => {
    const { s, fx } = run([...up, ...crash, ...crash, crashed], limit('stop'));
    expect(s.failed).toBe(true);
    expect(of(fx, 'failed')).toEqual([{ type: 'failed', action: 'stop' }]);
    expect(of(fx, 'leases.lost')).toEqual([{ type: 'leases.lost', reason: 'processor-failed' }]);
    expect(s.desired).toBe('offline');
    expect(logs(fx)).toContain('crash-limit');
    // Its leases' ends decide nothing more; a new lease is refused.
    const after = stepCore(limit('stop'), s, released);
    expect(after[0].desired).toBe('offline');
    expect(admitLease({ policy: 'shared', votes: 0, firmware: null, failed: true }).ok).toBe(false);
  });

  it('should announce an escalation stop first when stopAckTimeoutMs is set', () => {
    const c = config({
      policy: 'shared',
      stopAckTimeoutMs: 500,
      crashLimit: { intensity: 0, periodMs: 1000, action: 'stop' },
    });
    const { s, fx } = run([...up, crashed], c);
    expect(of(fx, 'stopping')).toEqual([{ type: 'stopping', reason: 'escalation', ms: 500 }]);
    expect(of(fx, 'leases.lost')).toEqual([]);
    const [, goes] = stepCore(c, s, { type: 'stop.told', parties: [] });
    expect(of(goes, 'leases.lost')).toEqual([{ type: 'leases.lost', reason: 'processor-failed' }]);
  });

  it('should write recovery disabled past the limit, end the leases, and then leave the processor', () => {
    const c = limit('disable-recovery');
    const { s, fx } = run([...up, ...crash, ...crash, crashed, decide], c);
    expect(fx.flatMap((e) => (e.type === 'call' ? [e.call] : []))).toContainEqual({ op: 'disable-recovery' });
    expect(of(fx, 'leases.lost')).toEqual([{ type: 'leases.lost', reason: 'processor-failed' }]);
    const [done] = stepCore(c, s, answer(undefined));
    expect([done.disableRecovery, done.op, done.failed]).toEqual([false, null, true]);
    // The leases end, it runs again after a recovery: nothing stops it, even for an exclusive owner.
    const gone = stepCore(c, done, released)[0];
    expect(gone.desired).toBe('running');
    const ex = config({ crashLimit: { intensity: 0, periodMs: 1000, action: 'disable-recovery' } });
    const left = run([...up, crashed, decide, answer(undefined), released, running], ex);
    expect(left.s.desired).toBe('running');
  });

  it('should exit past the limit with action exit, after ending the leases', () => {
    const { fx } = run(
      [...up, crashed],
      config({ crashLimit: { intensity: 0, periodMs: 1000, action: 'exit' } }),
    );
    const kinds = fx.map((e) => e.type).filter((t) => ['failed', 'leases.lost', 'exit'].includes(t));
    expect(kinds).toEqual(['failed', 'leases.lost', 'exit']);
  });

  it('should fail exactly when shouldRestart (restartIntensity.ts) refuses, for any crash times', () => {
    // Virtual time: crashes at the given instants, each expiring periodMs later, in time order.
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 12 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 200 }),
        (gaps, intensity, periodMs) => {
          const c = config({ policy: 'shared', crashLimit: { intensity, periodMs, action: 'stop' } });
          let s: ProcessorCore = run(up, c).s;
          let now = 0;
          let history: number[] = [];
          let refused = false;
          const expiries: number[] = [];
          for (const gap of gaps) {
            now += gap;
            // Expiries due by now (strictly older than periodMs counts no more, as in shouldRestart).
            while (expiries.length && (expiries[0] as number) <= now) {
              expiries.shift();
              s = stepCore(c, s, { type: 'crash.expired' })[0];
            }
            const verdict = shouldRestart(history, now, { intensity, periodMs });
            history = verdict.history;
            refused ||= !verdict.restart;
            for (const input of [crashed, running]) s = stepCore(c, s, input)[0];
            if (!s.failed) expiries.push(now + periodMs);
            if (s.failed !== refused) return false;
          }
          return true;
        },
      ),
    );
  });
});

describe('processor-stopped: offline under its leases, not by the supervisor', () => {
  const shared = config({ policy: 'shared' });

  it('should check with a lock barrier, then end the leases when it still reads offline', () => {
    const { s, fx } = run([...up, offline, answer(undefined), answer('offline')], shared);
    expect(calls(fx)).toEqual(['state', 'start', 'recover', 'state']);
    expect(of(fx, 'leases.lost')).toEqual([{ type: 'leases.lost', reason: 'processor-stopped' }]);
    expect([s.holds, s.up, s.op]).toEqual([false, false, null]);
    expect(logs(fx)).toContain('stopped-by-other');
    // shared: it lets go of the descriptor (no reference of ours); the end of the leases stops nothing.
    expect(of(fx, 'let-go')).toHaveLength(1);
  });

  it('should take a recovery seen midway (offline, then running after the lock) as no stop', () => {
    const { s, fx } = run([...up, crashed, offline, answer(undefined), answer('running'), running], shared);
    expect(of(fx, 'leases.lost')).toEqual([]);
    expect([s.holds, s.crashed]).toEqual([true, false]);
    expect(fx.filter((e) => e.type === 'notify').map((e) => (e as { event: string }).event)).toEqual([
      'processor.crashed',
      'processor.recovered',
    ]);
  });

  it('should end the leases under exclusive too, and not start the processor again', () => {
    const ex = config();
    const { s, fx } = run([...up, offline, answer(undefined), answer('offline')], ex);
    expect(of(fx, 'leases.lost')).toEqual([{ type: 'leases.lost', reason: 'processor-stopped' }]);
    const [after, more] = stepCore(ex, s, { type: 'vote', delta: -1, end: 'lost' });
    expect(after.desired).toBe('offline');
    expect(calls(more)).toEqual([]);
  });

  it('should use the firmware barrier where the kernel has no sysfs recovery (5.9)', () => {
    const { fx } = run(
      [...up, offline, error('ENOENT'), answer('fw.elf'), answer(undefined), answer('offline')],
      shared,
    );
    expect(calls(fx)).toEqual(['state', 'start', 'recover', 'read-firmware', 'write-firmware', 'state']);
    expect(of(fx, 'leases.lost')).toHaveLength(1);
  });

  it('should check nothing during its own stop, its own boot, or with no lease', () => {
    const own = run([...up, released, decide, offline], shared);
    expect(calls(own.fx).filter((c) => c === 'recover')).toEqual([]);
    const booting = run([vote(1), decide, answer('offline'), offline], shared);
    expect(calls(booting.fx)).toEqual(['state', 'start']);
    const none = run([offline], shared);
    expect(calls(none.fx)).toEqual([]);
  });

  it('should start it again for a lease acquired after the loss', () => {
    const c = shared;
    let s = run([...up, offline, answer(undefined), answer('offline')], c).s;
    s = stepCore(c, s, { type: 'vote', delta: -1, end: 'lost' })[0];
    const steps: SupervisorInput[] = [vote(1), decide, answer('offline'), answer('running')];
    const fx: SupervisorEffect[] = [];
    for (const i of steps) {
      const [next, e] = stepCore(c, s, i);
      s = next;
      fx.push(...e);
    }
    expect(calls(fx)).toEqual(['state', 'start']);
    expect([s.holds, s.up]).toEqual([true, true]);
    expect(initialCore().failed).toBe(false);
  });
});
