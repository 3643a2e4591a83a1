// coreExecutor: the executor's rules of the supervisor core — one operation at a time, one reference, barriers, stop until offline.

import { barrierNext, barrierStart } from './coreBarrier.js';
import { ensure, log, schedule } from './coreEffects.js';
import type { ProcessorPolicy } from './corePolicy.js';
import { failWaiting, markUp } from './coreReadiness.js';
import { checkStopped } from './coreStopped.js';
import {
  MAX_STOP_ATTEMPTS,
  type ProcessorCore,
  policyOf,
  type SupervisorAnswer,
  type SupervisorCall,
  type SupervisorConfig,
  type SupervisorEffect,
  type SupervisorOp,
  type Want,
} from './coreTypes.js';
import { isPoweredState, isRunningState } from './powered.js';

/** What an executor step does next. */
export type Next =
  | { call: SupervisorCall; op: SupervisorOp }
  | { adopt: string }
  /** `bare`: a start without writing `firmware` first (the processor is not offline: shared, attach). */
  | { start: true | 'bare' }
  | { done: Want };

/** Applies `next`: makes the call, adopts, starts, or ends the operation. */
export function apply(s: ProcessorCore, fx: SupervisorEffect[], next: Next): void {
  if ('call' in next) {
    s.op = next.op;
    fx.push({ type: 'call', call: next.call });
  } else if ('adopt' in next) {
    log(fx, 'info', 'adopt', { state: next.adopt });
    s.holds = true;
    s.inherited = false;
    if (isRunningState(next.adopt)) markUp(s, fx);
    apply(s, fx, { done: 'running' });
  } else if ('start' in next) {
    if (s.firmware && next.start !== 'bare') {
      apply(s, fx, {
        op: { want: 'running', wait: 'set-firmware' },
        call: { op: 'write-firmware', name: s.firmware },
      });
    } else {
      log(fx, 'info', 'start');
      apply(s, fx, { op: { want: 'running', wait: 'start' }, call: { op: 'start' } });
    }
  } else {
    // The operation ends; a wish that changed meanwhile is acted on next.
    s.op = null;
    if (s.desired && s.desired !== next.done) ensure(s, fx, s.desired);
    else if (s.disableRecovery) schedule(s, fx);
  }
}

/** Starts the operation towards the latest wish. */
export function act(config: SupervisorConfig, s: ProcessorCore, fx: SupervisorEffect[]): void {
  const want = s.desired;
  if (s.op) return;
  // The crash limit's disable-recovery goes first: the next crash must find it written.
  if (s.disableRecovery) {
    apply(s, fx, { op: { want: 'disable', wait: 'disable-recovery' }, call: { op: 'disable-recovery' } });
    return;
  }
  if (!want) return;
  // One reference per processor: a `start` on 5.19 would stack a second one, even mid-recovery.
  if (want === 'running' && s.holds) {
    if (!s.crashed) markUp(s, fx);
    apply(s, fx, { done: want });
  }
  // Not the owner and no reference of ours: there is nothing of ours to drop.
  else if (want === 'offline' && policyOf(config) !== 'exclusive' && !s.holds && !s.inherited) {
    s.borrowed = false;
    apply(s, fx, { done: want });
    letGo(config, s, fx);
  } else if (want === 'running') apply(s, fx, { op: { want, wait: 'read' }, call: { op: 'state' } });
  else {
    s.up = false;
    apply(s, fx, { op: { want, wait: 'read', attempts: 0 }, call: { op: 'state' } });
  }
}

const stateOf = (r: SupervisorAnswer): string => (r.ok ? String(r.value) : 'gone');

/** A driver's answer to the operation under way: its next call, or its end. */
export function answer(
  config: SupervisorConfig,
  s: ProcessorCore,
  fx: SupervisorEffect[],
  r: SupervisorAnswer,
): void {
  const op = s.op;
  if (!op) return;
  const next =
    op.want === 'running'
      ? bringUp(config, s, fx, op, r)
      : op.want === 'offline'
        ? bringDown(config, s, fx, op, r)
        : op.want === 'check'
          ? checkStopped(s, fx, op, r)
          : recoveryDisabled(s, fx, r);
  apply(s, fx, next);
  if (!s.op) letGo(config, s, fx);
}

/** An operation of shared/attach ended without a reference of ours: let go of the descriptor. */
function letGo(config: SupervisorConfig, s: ProcessorCore, fx: SupervisorEffect[]): void {
  if (policyOf(config) !== 'exclusive' && !s.holds) fx.push({ type: 'let-go' });
}

const up = (wait: Extract<SupervisorOp, { want: 'running' }>['wait'], c: SupervisorCall): Next => ({
  op: { want: 'running', wait },
  call: c,
});

function bringUp(
  config: SupervisorConfig,
  s: ProcessorCore,
  fx: SupervisorEffect[],
  op: Extract<SupervisorOp, { want: 'running' }>,
  r: SupervisorAnswer,
): Next {
  switch (op.wait) {
    case 'read': {
      const state = stateOf(r);
      const policy = policyOf(config);
      // An inherited descriptor's processor, powered, is adopted as an exclusive owner adopts.
      if (s.inherited && !isPoweredState(state)) s.inherited = false;
      if (policy !== 'exclusive' && !s.inherited) return ownStart(policy, s, fx, state);
      if (state === 'crashed') return { adopt: state };
      if (!isRunningState(state)) return { start: true };
      // `state` reads running while a stop is under way (a dead daemon's release, say): wait for the
      // lock with a call that does nothing to a healthy processor (§3.3), then look again.
      return up(...barrierStart(s));
    }
    case 'barrier':
    case 'fw-read':
    case 'fw-write':
      return up(...barrierNext(s, op.wait, r));
    case 'reread': {
      const state = stateOf(r);
      if (isRunningState(state) || state === 'crashed') return { adopt: state };
      s.inherited = false;
      return { start: true };
    }
    case 'set-firmware':
      log(fx, 'info', 'start');
      return up('start', { op: 'start' });
    case 'start':
      if (!r.ok && r.error.code === 'EBUSY' && policyOf(config) !== 'exclusive') {
        // Someone else runs it and the kernel (before 5.19) refuses a second start: usable, not ours.
        s.borrowed = true;
        log(fx, 'info', 'borrow', { errno: r.error.code }, r.error.detail);
        markUp(s, fx);
      } else if (!r.ok) {
        log(fx, 'warn', 'start-failed', { errno: r.error.code }, r.error.detail);
        failWaiting(s, fx, r.error);
      } else {
        s.holds = true;
        if (r.value === 'offline') log(fx, 'warn', 'wedged');
        // Usable once it runs: a wedged one may still come up (a poll sees it) until the boot timeout.
        if (isRunningState(String(r.value))) markUp(s, fx);
      }
      return { done: 'running' };
  }
}

/** `recovery` was written `disabled` (or could not be): the crash limit's action is done. */
function recoveryDisabled(s: ProcessorCore, fx: SupervisorEffect[], r: SupervisorAnswer): Next {
  s.disableRecovery = false;
  if (!r.ok) log(fx, 'warn', 'disable-recovery-failed', { errno: r.error.code }, r.error.detail);
  return { done: 'running' };
}

function bringDown(
  config: SupervisorConfig,
  s: ProcessorCore,
  fx: SupervisorEffect[],
  op: Extract<SupervisorOp, { want: 'offline' }>,
  r: SupervisorAnswer,
): Next {
  const read: Next = { op: { ...op, wait: 'read' }, call: { op: 'state' } };
  if (op.wait === 'recover') {
    if (r.ok) return read;
    if (r.error.code === 'ENOENT') s.noRecovery = true;
    log(fx, 'warn', 'cannot-stop', { state: 'crashed', errno: r.error.code }, r.error.detail);
    return { done: 'offline' };
  }
  if (op.wait === 'detach') {
    // A detach-only driver's EINVAL (or any refusal) is final: attach never stops, nor retries.
    // Either way no reference is kept: a failed detach leaves the core to its bootloader's owner.
    s.holds = false;
    if (!r.ok) log(fx, 'warn', 'detach-failed', { errno: r.error.code }, r.error.detail);
    return { done: 'offline' };
  }
  const policy = policyOf(config);
  if (op.wait === 'stop') {
    if (!r.ok) log(fx, 'warn', 'stop-failed', { errno: r.error.code }, r.error.detail);
    // shared: one successful stop drops our one reference; what stays powered is someone else's.
    else if (policy === 'shared') {
      s.holds = false;
      return { done: 'offline' };
    }
    return read;
  }
  const state = stateOf(r);
  if (!isPoweredState(state)) s.holds = false;
  // An inherited descriptor's powered processor: the reference is ours, and this stop drops it.
  else if (s.inherited) s.holds = true;
  s.inherited = false;
  if (!isPoweredState(state) || s.desired !== 'offline') return { done: 'offline' };
  if (op.attempts >= MAX_STOP_ATTEMPTS) return { done: 'offline' };
  const attempts = op.attempts + 1;
  if (policy === 'attach') {
    log(fx, 'info', 'detach');
    return { op: { want: 'offline', wait: 'detach', attempts }, call: { op: 'detach' } };
  }
  if (state === 'crashed') {
    if (!config.recoverCrashed || s.noRecovery) {
      log(fx, 'warn', 'cannot-stop', { state });
      return { done: 'offline' };
    }
    log(fx, 'info', 'recover-to-stop');
    return { op: { want: 'offline', wait: 'recover', attempts }, call: { op: 'recover' } };
  }
  log(fx, 'info', 'stop');
  return { op: { want: 'offline', wait: 'stop', attempts }, call: { op: 'stop' } };
}

/**
 * shared and attach bring a processor up with a reference of their own: `start` (which attaches a
 * DETACHED one, and stacks on a running one from 5.19). Only an offline processor gets `firmware`
 * written first; attach never boots one (it has no bootloader core to attach to).
 */
function ownStart(policy: ProcessorPolicy, s: ProcessorCore, fx: SupervisorEffect[], state: string): Next {
  if (policy === 'attach' && (state === 'offline' || state === 'gone')) {
    const detail = `attach: the processor is ${state}, not started by a bootloader`;
    log(fx, 'warn', 'start-failed', { errno: 'EINVAL' }, detail);
    failWaiting(s, fx, { code: 'EINVAL', op: 'attach', detail });
    return { done: 'running' };
  }
  return { start: state === 'offline' || state === 'gone' ? true : 'bare' };
}
