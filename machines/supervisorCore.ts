// machines/supervisorCore: the supervisor's decisions and the executor's rules for one processor, as one pure step.

import { act, answer, ensure, log } from './coreExecutor.js';
import { bootTimedOut, leaseJoins, leaseLeaves, markUp } from './coreReadiness.js';
import {
  type ProcessorCore,
  policyOf,
  type SupervisorConfig,
  type SupervisorEffect,
  type SupervisorInput,
  type SupervisorStep,
} from './coreTypes.js';
import { isPoweredState, isRunningState } from './powered.js';

export * from './coreTypes.js';

/**
 * One step of one processor's supervisor: votes and the first/last-vote decisions, the restart grace,
 * crash episodes, and the executor — one operation at a time, the latest wish wins, one reference held,
 * adoption only after a lock barrier (`state` reads running while a stop is under way), stops repeated
 * until `state` reads offline (a successful `stop` need not stop anything, kernel-semantics §2), and a
 * crashed processor recovered before it is stopped (`stop` cannot leave CRASHED, §3.3). Pure: the same
 * state and input give the same result.
 *
 * @example
 * let [s, fx] = stepCore(config, initialCore(), { type: 'start' });
 * [s, fx] = stepCore(config, s, { type: 'vote', delta: 1 }); // fx: [{ type: 'defer' }]
 * [s, fx] = stepCore(config, s, { type: 'decide' });          // fx: [{ type: 'call', call: { op: 'state' } }]
 */
export function stepCore(
  config: SupervisorConfig,
  state: ProcessorCore,
  input: SupervisorInput,
): SupervisorStep {
  const s: ProcessorCore = { ...state };
  const fx: SupervisorEffect[] = [];
  switch (input.type) {
    case 'start':
      if (config.firmware) s.firmware = config.firmware;
      // Only an exclusive owner reconciles: the others adopt nothing and stop nothing at start.
      if (policyOf(config) !== 'exclusive') s.phase = 'steady';
      else if (config.restarted && config.reconcile === 'adopt') {
        s.phase = 'adopting';
        fx.push({ type: 'after', ms: config.graceMs, input: { type: 'grace.ended' } });
      } else settle(s, fx);
      break;
    case 'grace.ended':
      if (s.phase === 'adopting') settle(s, fx);
      break;
    case 'vote': {
      const before = s.votes;
      s.votes = Math.max(0, before + input.delta);
      if (input.firmware) s.firmware = input.firmware;
      if (input.lease && input.delta === 1) leaseJoins(s, fx, input.lease, config.bootTimeoutMs);
      else if (input.lease) leaseLeaves(s, input.lease);
      if (policyOf(config) === 'observe') break;
      if (input.delta === 1) s.offGrace = false;
      if (input.delta === 1 && s.votes === 1) ensure(s, fx, 'running');
      // During the grace the last vote's end stops nothing: its client may be re-registering.
      else if (input.delta === -1 && s.votes === 0 && s.phase === 'steady') {
        const died = input.end !== undefined && input.end !== 'released';
        if (died && (config.offGraceMs ?? 0) > 0 && !s.closing) {
          // Its holder died: keep it for a restarted client, stop it after offGraceMs.
          s.offGrace = true;
          s.graceSeq += 1;
          fx.push({
            type: 'after',
            ms: config.offGraceMs ?? 0,
            input: { type: 'off-grace.ended', seq: s.graceSeq },
          });
          log(fx, 'info', 'off-grace', { ms: String(config.offGraceMs) });
        } else ensure(s, fx, 'offline');
      }
      break;
    }
    case 'off-grace.ended':
      if (s.offGrace && input.seq === s.graceSeq && s.votes === 0) {
        s.offGrace = false;
        ensure(s, fx, 'offline');
      }
      break;
    case 'shutdown':
      s.closing = true;
      if (s.offGrace) {
        s.offGrace = false;
        ensure(s, fx, 'offline');
      }
      break;
    case 'boot.timeout':
      bootTimedOut(s, fx, input.lease, config.bootTimeoutMs);
      break;
    case 'observed': {
      if (input.state === 'crashed') episode(s, fx, true);
      else if (isRunningState(input.state)) episode(s, fx, false);
      // Up once it runs for us (a crash recovered, a slow boot); down whenever it does not.
      if (!isRunningState(input.state)) s.up = false;
      else if (!s.op && s.desired === 'running' && (s.holds || s.borrowed)) markUp(s, fx);
      // Nobody wants it but it is powered: stop it (a crash recovery may have brought it back).
      // Only an exclusive owner does: the others never stop what they hold no reference on.
      const owner = policyOf(config) === 'exclusive';
      if (owner && s.phase === 'steady' && s.votes === 0 && !s.offGrace && isPoweredState(input.state))
        ensure(s, fx, 'offline');
      break;
    }
    case 'uevent':
      // Its own stop removes the processor's devices: that is no crash.
      if (s.op?.want === 'offline' && s.op.wait === 'stop') break;
      episode(s, fx, input.action === 'remove');
      break;
    case 'decide':
      s.scheduled = false;
      act(config, s, fx);
      break;
    case 'answer':
      answer(config, s, fx, input.result);
      break;
  }
  return [s, fx];
}

/**
 * True when `input` would change nothing: the same state, no effect. A shell may leave such an input
 * out (a poll that reads what the last one read), which is the same as giving it.
 */
export function isNoOp(config: SupervisorConfig, state: ProcessorCore, input: SupervisorInput): boolean {
  const [next, effects] = stepCore(config, state, input);
  return effects.length === 0 && JSON.stringify(next) === JSON.stringify(state);
}

/** True when no operation is under way or on its way. */
export function coreIdle(s: ProcessorCore): boolean {
  return s.op === null && !s.scheduled;
}

/** Leaves the start or the grace: processors nobody claimed are stopped. */
function settle(s: ProcessorCore, fx: SupervisorEffect[]): void {
  s.phase = 'steady';
  if (s.votes === 0) ensure(s, fx, 'offline');
}

/** Enters or leaves a crash episode, telling lease holders once per edge. */
function episode(s: ProcessorCore, fx: SupervisorEffect[], crashed: boolean): void {
  if (s.crashed === crashed) return;
  s.crashed = crashed;
  fx.push({ type: 'notify', event: crashed ? 'processor.crashed' : 'processor.recovered' });
}
