// supervisorCore: the supervisor's decisions and the executor's rules, step by step, as pure data.

import { describe, expect, it } from 'vitest';
import { admitLease } from '../machines/corePolicy.js';
import {
  initialCore,
  MAX_STOP_ATTEMPTS,
  type SupervisorConfig,
  type SupervisorEffect,
  type SupervisorInput,
  stepCore,
} from '../machines/supervisorCore.js';
import { answer, calls, config, decide, error, logs, run, vote } from './coreRun.js';

describe('stepCore: decisions', () => {
  it('should be pure: the same state and input give the same result, and the state is not changed', () => {
    const s = initialCore();
    const frozen = JSON.stringify(s);
    expect(stepCore(config(), s, { type: 'start' })).toEqual(stepCore(config(), s, { type: 'start' }));
    expect(JSON.stringify(s)).toBe(frozen);
  });

  it('should ask for running on the first vote and offline after the last, deciding later in the instant', () => {
    const { s, fx } = run([vote(1), vote(1), vote(-1)]);
    // Start (unclaimed: offline), first vote: one deferred decision, whatever the wishes in between.
    expect(fx.filter((e) => e.type === 'defer')).toHaveLength(1);
    expect([s.votes, s.desired, s.scheduled]).toEqual([1, 'running', true]);
    const last = run([vote(1), decide, answer('running'), vote(-1)]);
    expect(last.s.desired).toBe('offline');
  });

  it('should take a release and an acquire that cross before the decision as no operation', () => {
    const { fx } = run([decide, answer('offline'), vote(1), vote(-1), decide, answer('offline')]);
    expect(calls(fx)).toEqual(['state', 'state']);
    expect(logs(fx)).toEqual([]);
  });

  it('should announce a crash once and the recovery after it', () => {
    const { fx } = run([
      vote(1),
      { type: 'observed', state: 'crashed' },
      { type: 'observed', state: 'crashed' },
      { type: 'observed', state: 'running' },
    ]);
    expect(fx.filter((e) => e.type === 'notify')).toEqual([
      { type: 'notify', event: 'processor.crashed' },
      { type: 'notify', event: 'processor.recovered' },
    ]);
  });

  it('should take a uevent during its own stop as no crash', () => {
    const stopping = run([decide, answer('running'), { type: 'uevent', action: 'remove' }]);
    expect(calls(stopping.fx)).toEqual(['state', 'stop']);
    expect(stopping.fx.some((e) => e.type === 'notify')).toBe(false);
    const foreign = run([{ type: 'uevent', action: 'remove' }]);
    expect(foreign.fx).toContainEqual({ type: 'notify', event: 'processor.crashed' });
  });

  it('should wait graceMs after a restart with adopt, stopping nothing, then stop what nobody claimed', () => {
    const c = config({ restarted: true });
    const { s, fx } = run([{ type: 'observed', state: 'running' }, vote(1), vote(-1)], c);
    expect(fx[0]).toEqual({ type: 'after', ms: 2000, input: { type: 'grace.ended' } });
    expect([s.phase, s.desired]).toEqual(['adopting', 'running']);
    const after = run([{ type: 'observed', state: 'running' }, { type: 'grace.ended' }], c);
    expect([after.s.phase, after.s.desired]).toEqual(['steady', 'offline']);
  });

  it('should stop every unclaimed processor at once with stop-unknown, and on a first start', () => {
    for (const c of [config({ restarted: true, reconcile: 'stop-unknown' }), config()]) {
      const { s, fx } = run([], c);
      expect([s.phase, s.desired, fx]).toEqual(['steady', 'offline', [{ type: 'defer' }]]);
    }
  });

  it('should stop a processor it finds powered for nobody, when steady', () => {
    const { s } = run([decide, answer('offline'), { type: 'observed', state: 'running' }]);
    expect([s.desired, s.scheduled]).toEqual(['offline', true]);
  });
});

describe('stepCore: the executor', () => {
  it('should start an offline processor and hold one reference, then not start it again', () => {
    const { s, fx } = run([vote(1), decide, answer('offline'), answer('running')]);
    expect(calls(fx)).toEqual(['state', 'start']);
    expect([s.holds, s.op]).toEqual([true, null]);
    const again = run([vote(1), decide, answer('offline'), answer('running'), vote(-1), vote(1), decide]);
    expect(calls(again.fx)).toEqual(['state', 'start']);
  });

  it('should adopt a running processor only after a lock barrier, and start it if it went offline meanwhile', () => {
    const adopted = run([vote(1), decide, answer('running'), answer(0), answer('running')]);
    expect(calls(adopted.fx)).toEqual(['state', 'recover', 'state']);
    expect(logs(adopted.fx)).toEqual(['adopt']);
    const stopped = run([
      vote(1),
      decide,
      answer('running'),
      answer(0),
      answer('offline'),
      answer('running'),
    ]);
    expect(calls(stopped.fx)).toEqual(['state', 'recover', 'state', 'start']);
  });

  it('should rewrite firmware as its barrier where the kernel has no sysfs recovery (5.9)', () => {
    const { s, fx } = run([
      vote(1),
      decide,
      answer('running'),
      error('ENOENT'),
      answer('rproc-m4-fw'),
      answer(0),
      answer('offline'),
      answer('running'),
    ]);
    expect(fx.flatMap((e) => (e.type === 'call' ? [e.call] : []))).toEqual([
      { op: 'state' },
      { op: 'recover' },
      { op: 'read-firmware' },
      { op: 'write-firmware', name: 'rproc-m4-fw' },
      { op: 'state' },
      { op: 'start' },
    ]);
    expect(s.noRecovery).toBe(true);
    // An attached processor's firmware reads `unknown`: no write, look again.
    const attached = run([
      vote(1),
      decide,
      answer('running'),
      error('ENOENT'),
      answer('unknown'),
      answer('attached'),
    ]);
    expect(calls(attached.fx)).toEqual(['state', 'recover', 'read-firmware', 'state']);
  });

  it('should set the firmware a lease asked for before it starts', () => {
    const { fx } = run([
      { type: 'vote', delta: 1, firmware: 'a.elf' },
      decide,
      answer('offline'),
      answer(0),
      answer('running'),
    ]);
    expect(fx.flatMap((e) => (e.type === 'call' ? [e.call] : []))).toEqual([
      { op: 'state' },
      { op: 'write-firmware', name: 'a.elf' },
      { op: 'start' },
    ]);
  });

  it('should log a failed start with its errno and hold nothing; a start that leaves it offline is a wedge', () => {
    const failed = run([vote(1), decide, answer('offline'), error('ENOENT')]);
    expect(failed.fx).toContainEqual({
      type: 'log',
      level: 'warn',
      event: 'start-failed',
      data: { errno: 'ENOENT' },
    });
    expect(failed.s.holds).toBe(false);
    const wedged = run([vote(1), decide, answer('offline'), answer('offline')]);
    expect(logs(wedged.fx)).toEqual(['start', 'wedged']);
  });

  it('should stop until state reads offline, at most MAX_STOP_ATTEMPTS times', () => {
    const inputs: SupervisorInput[] = [decide];
    for (let i = 0; i < 20; i++) inputs.push(answer('running'), answer(0));
    const { s, fx } = run(inputs);
    expect(calls(fx).filter((c) => c === 'stop')).toHaveLength(MAX_STOP_ATTEMPTS);
    expect(s.op).toBeNull();
    const once = run([decide, answer('running'), answer(0), answer('offline')]);
    expect([calls(once.fx), once.s.holds, once.s.op]).toEqual([['state', 'stop', 'state'], false, null]);
  });

  it('should recover a crashed processor before stopping it, when it may (hybrid); else say it cannot', () => {
    const hybrid = run([
      decide,
      answer('crashed'),
      answer(0),
      answer('running'),
      answer(0),
      answer('offline'),
    ]);
    expect(calls(hybrid.fx)).toEqual(['state', 'recover', 'state', 'stop', 'state']);
    const monitor = run([decide, answer('crashed')], config({ recoverCrashed: false }));
    expect(logs(monitor.fx)).toEqual(['cannot-stop']);
  });

  it('should give up a crashed processor it cannot recover (no sysfs recovery), instead of looping', () => {
    // Regression: on 5.9 `recover` is ENOENT at once, and the simulated copy looped recover → step until
    // the stack overflowed.
    const { s, fx } = run([decide, answer('crashed'), error('ENOENT')]);
    expect(logs(fx)).toEqual(['recover-to-stop', 'cannot-stop']);
    expect([s.op, s.noRecovery]).toEqual([null, true]);
    const later = run([
      decide,
      answer('crashed'),
      error('ENOENT'),
      { type: 'observed', state: 'crashed' },
      decide,
      answer('crashed'),
    ]);
    expect(calls(later.fx)).toEqual(['state', 'recover', 'state']);
  });

  it('should act on a wish that changed while it was busy, once the operation ends', () => {
    const { s, fx } = run([vote(1), decide, answer('offline'), vote(-1), answer('running')]);
    expect(fx.filter((e) => e.type === 'defer')).toHaveLength(2);
    expect([s.desired, s.scheduled, s.holds]).toEqual(['offline', true, true]);
  });
});

describe('stepCore: policies (shared, attach, observe) and admission', () => {
  const shared = config({ policy: 'shared' });
  const attach = config({ policy: 'attach' });
  const idle = (c: SupervisorConfig) => run([], c);

  it('should adopt nothing and stop nothing at start, nor for a powered processor nobody wants, unless exclusive', () => {
    for (const c of [
      shared,
      attach,
      config({ policy: 'observe' }),
      config({ policy: 'shared', restarted: true }),
    ]) {
      const { s, fx } = run([{ type: 'observed', state: 'running' }], c);
      expect([s.phase, s.desired, fx]).toEqual(['steady', null, []]);
    }
    expect(idle(config()).s.desired).toBe('offline');
  });

  it('shared: starts a running processor too (its own reference), without writing firmware', () => {
    const c = config({ policy: 'shared', firmware: 'a.elf' });
    const { s, fx } = run([vote(1), decide, answer('running'), answer('running')], c);
    expect(calls(fx)).toEqual(['state', 'start']);
    expect(s.holds).toBe(true);
    const offline = run([vote(1), decide, answer('offline')], c);
    expect(calls(offline.fx)).toEqual(['state', 'write-firmware']);
  });

  it('shared: an EBUSY start borrows (no reference); the last vote then stops nothing and lets go', () => {
    const { s, fx } = run([vote(1), decide, answer('running'), error('EBUSY')], shared);
    expect([s.holds, s.borrowed, logs(fx)]).toEqual([false, true, ['start', 'borrow']]);
    expect(fx).toContainEqual({ type: 'let-go' });
    const after = run([vote(1), decide, answer('running'), error('EBUSY'), vote(-1), decide], shared);
    expect(calls(after.fx)).toEqual(['state', 'start']);
    expect([after.s.borrowed, after.s.desired, after.s.op]).toEqual([false, 'offline', null]);
  });

  it('shared: one successful stop drops its reference, whatever stays powered; exclusive repeats it', () => {
    const up = [vote(1), decide, answer('offline'), answer('running'), vote(-1), decide, answer('running')];
    const s1 = run([...up, answer('running')], shared);
    expect(calls(s1.fx)).toEqual(['state', 'start', 'state', 'stop']);
    expect([s1.s.holds, s1.s.op]).toEqual([false, null]);
    expect(s1.fx.at(-1)).toEqual({ type: 'let-go' });
    const ex = run([...up, answer('running')], config());
    expect(calls(ex.fx)).toEqual(['state', 'start', 'state', 'stop', 'state']);
  });

  it('attach: attaches a detached core, detaches at the last vote, never stops; a failed detach is final', () => {
    const up = [vote(1), decide, answer('detached'), answer('attached')];
    const { s, fx } = run([...up, vote(-1), decide, answer('attached'), answer('detached')], attach);
    expect(calls(fx)).toEqual(['state', 'start', 'state', 'detach']);
    expect([s.holds, s.op]).toEqual([false, null]);
    const refused = run([...up, vote(-1), decide, answer('attached'), error('EINVAL')], attach);
    expect(calls(refused.fx)).toEqual(['state', 'start', 'state', 'detach']);
    expect(logs(refused.fx)).toContain('detach-failed');
    expect(refused.s.op).toBeNull();
  });

  it('attach: refuses to boot an offline processor (there is no bootloader core to attach to)', () => {
    const { s, fx } = run([vote(1), decide, answer('offline')], attach);
    expect(calls(fx)).toEqual(['state']);
    expect(logs(fx)).toEqual(['start-failed']);
    expect(s.holds).toBe(false);
  });

  it('admitLease: EPERM under observe, EINVAL for / or .., EBUSY for another firmware while it has votes', () => {
    const view = { policy: 'shared' as const, votes: 0, firmware: null };
    expect(admitLease({ ...view, policy: 'observe' }).ok).toBe(false);
    expect(admitLease({ ...view, policy: 'observe' })).toMatchObject({ error: { code: 'EPERM' } });
    for (const bad of ['../a', 'a/b', 'x..y', ''])
      expect(admitLease(view, bad)).toMatchObject({ error: { code: 'EINVAL' } });
    expect(admitLease({ ...view, votes: 1, firmware: 'a.elf' }, 'b.elf')).toMatchObject({
      error: { code: 'EBUSY' },
    });
    expect(admitLease({ ...view, votes: 1, configured: 'a.elf' }, 'b.elf')).toMatchObject({
      error: { code: 'EBUSY' },
    });
    expect(admitLease({ ...view, votes: 1, firmware: 'a.elf' }, 'a.elf').ok).toBe(true);
    expect(admitLease({ ...view, votes: 0, firmware: 'a.elf' }, 'b.elf').ok).toBe(true);
  });
});

describe('stepCore: acquire means usable', () => {
  const c = config({ bootTimeoutMs: 1000 });
  const join = (lease: string): SupervisorInput => ({ type: 'vote', delta: 1, lease });
  const leave = (lease: string): SupervisorInput => ({ type: 'vote', delta: -1, lease });
  const ready = (fx: SupervisorEffect[]) => fx.flatMap((e) => (e.type === 'leases.ready' ? e.leases : []));
  const failed = (fx: SupervisorEffect[]) =>
    fx.flatMap((e) => (e.type === 'leases.failed' ? e.leases.map((l) => `${l}:${e.error.code}`) : []));

  it('should answer a lease once the processor runs, with a boot timeout armed at its grant', () => {
    const { s, fx } = run([join('a'), join('b'), decide, answer('offline')], c);
    expect(ready(fx)).toEqual([]);
    expect(s.waiting).toEqual(['a', 'b']);
    expect(fx).toContainEqual({ type: 'after', ms: 1000, input: { type: 'boot.timeout', lease: 'a' } });
    const up = run([join('a'), join('b'), decide, answer('offline'), answer('running'), join('c')], c);
    expect(ready(up.fx)).toEqual(['a', 'b', 'c']);
    expect([up.s.up, up.s.waiting]).toEqual([true, []]);
  });

  it('should fail every waiting lease with the kernel errno of a failed boot', () => {
    const { s, fx } = run([join('a'), decide, answer('offline'), error('ENOENT')], c);
    expect(failed(fx)).toEqual(['a:ENOENT']);
    expect([s.waiting, s.up]).toEqual([[], false]);
  });

  it('should fail a lease still waiting at its boot timeout with ETIMEDOUT, and only it', () => {
    const late = run([join('a'), decide, answer('offline'), { type: 'boot.timeout', lease: 'a' }], c);
    expect(failed(late.fx)).toEqual(['a:ETIMEDOUT']);
    const inTime = run(
      [join('a'), decide, answer('offline'), answer('running'), { type: 'boot.timeout', lease: 'a' }],
      c,
    );
    expect(failed(inTime.fx)).toEqual([]);
    const gone = run([join('a'), leave('a'), { type: 'boot.timeout', lease: 'a' }], c);
    expect(failed(gone.fx)).toEqual([]);
  });

  it('should answer a lease taken during a crash once the processor runs again', () => {
    const up = [join('a'), decide, answer('offline'), answer('running')];
    const { s, fx } = run([...up, { type: 'observed', state: 'crashed' }, join('b')], c);
    expect(ready(fx)).toEqual(['a']);
    expect(s.waiting).toEqual(['b']);
    const back = run(
      [...up, { type: 'observed', state: 'crashed' }, join('b'), { type: 'observed', state: 'running' }],
      c,
    );
    expect(ready(back.fx)).toEqual(['a', 'b']);
  });

  it('should answer a lease on a borrowed processor (shared, start EBUSY) as usable', () => {
    const { fx } = run([join('a'), decide, answer('running'), error('EBUSY')], config({ policy: 'shared' }));
    expect(ready(fx)).toEqual(['a']);
  });
});

describe('stepCore: offGraceMs after the last holder died', () => {
  const c = config({ policy: 'shared', offGraceMs: 500 });
  const up = [vote(1), decide, answer('offline'), answer('running')];
  const died: SupervisorInput = { type: 'vote', delta: -1, end: 'lost' };

  it('should keep the processor for offGraceMs after a death, then stop it; a clean release stops at once', () => {
    const { s, fx } = run([...up, died], c);
    expect([s.offGrace, s.desired]).toEqual([true, 'running']);
    expect(fx).toContainEqual({ type: 'after', ms: 500, input: { type: 'off-grace.ended', seq: 1 } });
    const ended = run([...up, died, { type: 'off-grace.ended', seq: 1 }], c);
    expect(ended.s.desired).toBe('offline');
    const clean = run([...up, { type: 'vote', delta: -1, end: 'released' }], c);
    expect([clean.s.offGrace, clean.s.desired]).toEqual([false, 'offline']);
  });

  it('should take a new acquire within the grace as no stop, and ignore the stale timer', () => {
    const { s, fx } = run([...up, died, vote(1), decide, { type: 'off-grace.ended', seq: 1 }], c);
    expect([s.offGrace, s.desired]).toEqual([false, 'running']);
    expect(calls(fx)).toEqual(['state', 'start']);
  });

  it('should stop at once on shutdown, in the grace or after', () => {
    const { s } = run([...up, died, { type: 'shutdown' }], c);
    expect([s.offGrace, s.desired]).toEqual([false, 'offline']);
    const closing = run([...up, { type: 'shutdown' }, died], c);
    expect([closing.s.offGrace, closing.s.desired]).toEqual([false, 'offline']);
  });

  it('should not let an exclusive owner stop the processor during the grace', () => {
    const ex = config({ offGraceMs: 500 });
    const { s } = run([...up, died, { type: 'observed', state: 'running' }], ex);
    expect(s.desired).toBe('running');
  });
});
