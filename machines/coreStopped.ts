// coreStopped: a processor that runs for leases is found offline — a stop by someone else, or a recovery midway? (core rule)

import { barrierNext, barrierStart } from './coreBarrier.js';
import { log } from './coreEffects.js';
import type { Next } from './coreExecutor.js';
import type {
  ProcessorCore,
  SupervisorAnswer,
  SupervisorCall,
  SupervisorEffect,
  SupervisorOp,
} from './coreTypes.js';
import { isPoweredState } from './powered.js';

type CheckOp = Extract<SupervisorOp, { want: 'check' }>;

const check = (wait: CheckOp['wait'], call: SupervisorCall): Next => ({ op: { want: 'check', wait }, call });

/**
 * A reading of `state` that is not powered, of a processor the supervisor keeps running for its leases
 * (it holds or borrows it, it was up or in a crash episode, no operation of its own is under way): it
 * starts a check. `state` takes no lock, so a recovery shows `offline` midway (kernel-semantics §3.3):
 * the check first waits for `rproc->lock` with a call that does nothing to a healthy processor — the
 * adoption barrier, `recover` (or rewriting `firmware` before v5.10) — then reads again.
 */
export function checkIfStopped(s: ProcessorCore, fx: SupervisorEffect[], state: string): void {
  if (isPoweredState(state) || s.phase !== 'steady' || s.votes === 0 || s.failed) return;
  if (s.desired !== 'running' || s.op || s.scheduled || s.stopWait) return;
  if (!(s.holds || s.borrowed) || !(s.up || s.crashed)) return;
  const next = check(...barrierStart(s));
  if ('call' in next) {
    s.op = next.op;
    fx.push({ type: 'call', call: next.call });
  }
}

/**
 * The check's next call, or its verdict. Still not powered after the barrier: nothing of the
 * supervisor's runs any more — someone else stopped it (or a recovery failed, §3.4) — so under every
 * policy its leases end as lost, `processor-stopped`, and the supervisor holds no reference. It does not
 * start it again: a client that wants it acquires again (which boots it), knowing its firmware's state
 * is gone; a restart behind its back would hide that, fight an operator's stop, and cannot boot a
 * processor a failed recovery left wedged.
 */
export function checkStopped(
  s: ProcessorCore,
  fx: SupervisorEffect[],
  op: CheckOp,
  r: SupervisorAnswer,
): Next {
  switch (op.wait) {
    case 'barrier':
    case 'fw-read':
    case 'fw-write':
      return check(...barrierNext(s, op.wait, r));
    case 'reread': {
      if (!r.ok || isPoweredState(String(r.value))) return { done: 'running' };
      if (s.votes === 0 || s.desired !== 'running' || s.failed) return { done: 'running' };
      s.holds = false;
      s.borrowed = false;
      s.up = false;
      log(fx, 'warn', 'stopped-by-other', { state: String(r.value) });
      fx.push({ type: 'leases.lost', reason: 'processor-stopped' });
      return { done: 'running' };
    }
  }
}
