// machines/supervisorCore: the supervisor's decisions and the executor's rules for one processor, as one pure step.

import { ensure, log } from './coreEffects.js';
import { crashExpired, crashSeen } from './coreEscalation.js';
import { act, answer } from './coreExecutor.js';
import { bootTimedOut, leaseJoins, leaseLeaves, markUp } from './coreReadiness.js';
import { cancelStop, requestStop, stopAckEnded, stopAcked, stopTold } from './coreStop.js';
import { checkIfStopped } from './coreStopped.js';
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
      // A descriptor handed back by the service manager: its reference is ours whatever the policy
      // (observe never writes, so it has none to keep); its leases have graceMs to resume.
      if (config.inherited && policyOf(config) !== 'observe') {
        s.inherited = true;
        s.phase = 'adopting';
        fx.push({ type: 'after', ms: config.graceMs, input: { type: 'grace.ended' } });
      }
      // Only an exclusive owner reconciles: the others adopt nothing and stop nothing at start.
      else if (policyOf(config) !== 'exclusive') s.phase = 'steady';
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
      if (input.delta === 1) {
        s.offGrace = false;
        cancelStop(s);
      }
      if (input.delta === 1 && s.votes === 1) ensure(s, fx, 'running');
      // During the grace the last vote's end stops nothing: its client may be re-registering. A failed
      // processor's leases end by its crash limit's action, which has decided what follows.
      else if (input.delta === -1 && s.votes === 0 && s.phase === 'steady' && !s.failed) {
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
        } else requestStop(config, s, fx, 'last-release');
      }
      break;
    }
    case 'off-grace.ended':
      if (s.offGrace && input.seq === s.graceSeq && s.votes === 0) {
        s.offGrace = false;
        requestStop(config, s, fx, 'last-release');
      }
      break;
    case 'shutdown':
      // Announced (two-phase) when it will stop something of ours: a processor kept for offGraceMs
      // now, one with leases once the shell has ended them.
      if (s.closing) break;
      s.closing = true;
      if (s.offGrace || s.votes > 0) requestStop(config, s, fx, 'shutdown');
      s.offGrace = false;
      break;
    case 'stop.told':
      stopTold(s, fx, input.parties);
      break;
    case 'ack':
      stopAcked(s, fx, input.party);
      break;
    case 'stop-ack.ended':
      stopAckEnded(s, fx, input.seq);
      break;
    case 'crash.expired':
      crashExpired(s);
      break;
    case 'boot.timeout':
      bootTimedOut(s, fx, input.lease, config.bootTimeoutMs);
      break;
    case 'observed': {
      if (input.state === 'crashed') episode(config, s, fx, true);
      else if (isRunningState(input.state)) episode(config, s, fx, false);
      // Offline under its leases, and not by the supervisor's own stop: stopped by someone else?
      checkIfStopped(s, fx, input.state);
      // Up once it runs for us (a crash recovered, a slow boot); down whenever it does not.
      if (!isRunningState(input.state)) s.up = false;
      else if (!s.op && s.desired === 'running' && (s.holds || s.borrowed)) markUp(s, fx);
      // Nobody wants it but it is powered: stop it (a crash recovery may have brought it back).
      // Only an exclusive owner does: the others never stop what they hold no reference on.
      // A failed processor is left as its crash limit's action leaves it, unless that action is `stop`.
      const owner = policyOf(config) === 'exclusive';
      const left = s.failed && config.crashLimit?.action !== 'stop';
      const quiet = s.votes === 0 && !s.offGrace && !s.stopWait && !left;
      if (owner && s.phase === 'steady' && quiet && isPoweredState(input.state)) ensure(s, fx, 'offline');
      break;
    }
    case 'uevent':
      // Its own stop removes the processor's devices: that is no crash.
      if (s.op?.want === 'offline' && s.op.wait === 'stop') break;
      episode(config, s, fx, input.action === 'remove');
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

/** True when no operation is under way or on its way, and no announced stop waits for acknowledgements. */
export function coreIdle(s: ProcessorCore): boolean {
  return s.op === null && !s.scheduled && s.stopWait === null;
}

/** Leaves the start or the grace: processors nobody claimed are stopped. */
function settle(s: ProcessorCore, fx: SupervisorEffect[]): void {
  s.phase = 'steady';
  if (s.votes === 0) ensure(s, fx, 'offline');
}

/** Enters or leaves a crash episode, telling lease holders once per edge; a crash counts to the crash limit. */
function episode(config: SupervisorConfig, s: ProcessorCore, fx: SupervisorEffect[], crashed: boolean): void {
  if (s.crashed === crashed) return;
  s.crashed = crashed;
  fx.push({ type: 'notify', event: crashed ? 'processor.crashed' : 'processor.recovered' });
  if (crashed) crashSeen(config, s, fx);
}
