// coreRun: helpers of the supervisor core's pure tests — a config, a run from the start, its calls and logs.

import { fail, ok } from '../machines/errno.js';
import {
  initialCore,
  type ProcessorCore,
  type SupervisorConfig,
  type SupervisorEffect,
  type SupervisorInput,
  stepCore,
} from '../machines/supervisorCore.js';

/** A core config: hybrid-like, adopt with a 2 s grace, first start; `over` on top. */
export const config = (over: Partial<SupervisorConfig> = {}): SupervisorConfig => ({
  recoverCrashed: true,
  reconcile: 'adopt',
  graceMs: 2000,
  restarted: false,
  ...over,
});

/** Runs `inputs` from the start; returns the state and every effect, in order. */
export function run(inputs: SupervisorInput[], c = config()): { s: ProcessorCore; fx: SupervisorEffect[] } {
  let s = initialCore();
  const fx: SupervisorEffect[] = [];
  for (const i of [{ type: 'start' } as const, ...inputs]) {
    const [next, effects] = stepCore(c, s, i);
    s = next;
    fx.push(...effects);
  }
  return { s, fx };
}

/** The ops of the calls among `fx`. */
export const calls = (fx: SupervisorEffect[]) => fx.flatMap((e) => (e.type === 'call' ? [e.call.op] : []));
/** The events of the logs among `fx`. */
export const logs = (fx: SupervisorEffect[]) => fx.flatMap((e) => (e.type === 'log' ? [e.event] : []));
/** A successful answer. */
export const answer = (value: unknown): SupervisorInput => ({ type: 'answer', result: ok(value) });
/** A failed answer. */
export const error = (code: 'ENOENT' | 'EBUSY' | 'EINVAL'): SupervisorInput => ({
  type: 'answer',
  result: fail(code, 'test'),
});
/** A vote without a lease. */
export const vote = (delta: 1 | -1): SupervisorInput => ({ type: 'vote', delta });
/** The deferred decision. */
export const decide: SupervisorInput = { type: 'decide' };
