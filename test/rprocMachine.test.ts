// The rproc machine on its own, stepped with XState's pure transition functions (no actors, no timers).

import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { rprocMachine } from '../machines/rprocMachine.js';
import { RPROC_DEFAULTS } from '../machines/rprocTypes.js';

const input = (over = {}) => ({
  profile: '5.19' as const,
  options: { ...RPROC_DEFAULTS, name: 'm4', ...over },
});

describe('rprocMachine', () => {
  it('should start idle, offline, with no reference', () => {
    const [s] = initialTransition(rprocMachine, input());
    expect(s.value).toBe('idle');
    expect(s.context).toMatchObject({ state: 'offline', power: 0, shutdownOnRelease: false, holder: null });
  });

  it('should take the lock for a boot and schedule the boot duration, without running it', () => {
    const [s0] = initialTransition(rprocMachine, input({ bootMs: 250 }));
    const [s1, actions] = transition(rprocMachine, s0, { type: 'rproc.call', call: { id: 7, op: 'boot' } });
    expect(s1.value).toBe('booting');
    expect(s1.context).toMatchObject({ state: 'offline', power: 1, holder: { id: 7, op: 'boot' } });
    const delays = actions
      .filter((a) => a.type === 'xstate.raise')
      .map((a) => (a.params as { delay?: number }).delay);
    expect(delays).toContain(250);
  });

  it('should queue calls behind the holder, first come first served', () => {
    const [s0] = initialTransition(rprocMachine, input());
    const [s1] = transition(rprocMachine, s0, { type: 'rproc.call', call: { id: 1, op: 'boot' } });
    const [s2] = transition(rprocMachine, s1, { type: 'rproc.call', call: { id: 2, op: 'shutdown' } });
    const [s3] = transition(rprocMachine, s2, { type: 'rproc.call', call: { id: 3, op: 'boot' } });
    expect(s3.context.holder?.id).toBe(1);
    expect(s3.context.waiters.map((w) => w.id)).toEqual([2, 3]);
  });

  it('should reply at once, with the errno as data, to a call that needs no time', () => {
    const [s0] = initialTransition(rprocMachine, input());
    const [s1, actions] = transition(rprocMachine, s0, {
      type: 'rproc.call',
      call: { id: 4, op: 'shutdown' },
    });
    expect(s1.value).toBe('idle');
    const emitted = actions.find((a) => (a.type as string) === 'xstate.emit');
    expect((emitted?.params as { event: unknown } | undefined)?.event).toEqual({
      type: 'rproc.reply',
      id: 4,
      op: 'shutdown',
      result: { ok: false, error: { code: 'EINVAL', op: 'rproc_shutdown', detail: 'state is offline' } },
    });
  });

  it('should queue its own boot at registration when auto_boot is set', () => {
    const [s] = initialTransition(rprocMachine, input({ autoBoot: true }));
    expect(s.value).toBe('booting');
    expect(s.context.power).toBe(1);
  });

  it('should keep the shutdown-on-release flag in the processor, not in any descriptor', () => {
    const [s0] = initialTransition(rprocMachine, input());
    const [s1] = transition(rprocMachine, s0, { type: 'rproc.set', shutdownOnRelease: true });
    expect(s1.context.shutdownOnRelease).toBe(true);
  });
});
