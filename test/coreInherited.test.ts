// The core's inherited rule: a descriptor handed back by the service manager's fd store is adopted without a new start, and stopped if no lease resumes.

import { describe, expect, it } from 'vitest';
import type { ProcessorPolicy } from '../machines/corePolicy.js';
import type { SupervisorConfig, SupervisorInput } from '../machines/supervisorCore.js';
import { answer, calls, config as coreConfig, run as runFrom } from './coreRun.js';

const config = (policy: ProcessorPolicy, inherited = true): SupervisorConfig =>
  coreConfig({ graceMs: 5000, policy, inherited });
const run = (c: SupervisorConfig, inputs: SupervisorInput[]) => runFrom(inputs, c);
const vote: SupervisorInput = { type: 'vote', delta: 1, lease: 'lease-1' };

describe('inherited descriptors (fd store)', () => {
  for (const policy of ['shared', 'exclusive', 'attach'] as const) {
    it(`[${policy}] should wait graceMs, then adopt a running processor for a resumed lease without a start`, () => {
      const start = run(config(policy), []);
      expect(start.s.phase).toBe('adopting');
      expect(start.fx).toContainEqual({ type: 'after', ms: 5000, input: { type: 'grace.ended' } });
      const { s, fx } = run(config(policy), [
        vote,
        { type: 'decide' },
        answer('running'),
        answer(undefined),
        answer('running'),
      ]);
      expect(calls(fx)).toEqual(['state', 'recover', 'state']); // read, lock barrier, read: no start
      expect(s.holds).toBe(true);
      expect(s.inherited).toBe(false);
      expect(fx).toContainEqual({ type: 'leases.ready', leases: ['lease-1'] });
    });

    it(`[${policy}] should stop (drop its reference) when no lease resumed within the grace`, () => {
      const { s, fx } = run(config(policy), [{ type: 'grace.ended' }, { type: 'decide' }, answer('running')]);
      expect(calls(fx)).toEqual(['state', policy === 'attach' ? 'detach' : 'stop']);
      expect(s.inherited).toBe(false);
    });
  }

  it('should start a processor found offline as a first start (the descriptor held no reference)', () => {
    const { s, fx } = run(config('shared'), [vote, { type: 'decide' }, answer('offline')]);
    expect(calls(fx)).toEqual(['state', 'start']);
    expect(s.inherited).toBe(false);
  });

  it('should let go without stopping when offline at the grace end under shared', () => {
    const { fx } = run(config('shared'), [{ type: 'grace.ended' }, { type: 'decide' }, answer('offline')]);
    expect(calls(fx)).toEqual(['state']);
    expect(fx).toContainEqual({ type: 'let-go' });
  });

  it('should be the old behaviour without it: shared adopts nothing and stacks a start (the cost the rule removes)', () => {
    const { s, fx } = run(config('shared', false), [vote, { type: 'decide' }, answer('running')]);
    expect(s.phase).toBe('steady');
    expect(calls(fx)).toEqual(['state', 'start']);
  });

  it('should ignore an inherited descriptor under observe (it never writes)', () => {
    const { s } = run(config('observe'), []);
    expect(s.phase).toBe('steady');
    expect(s.inherited).toBe(false);
  });
});
