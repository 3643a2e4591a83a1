// coreStop: the two-phase stop — announce a stop, wait for the parties' acks or stopAckTimeoutMs, then stop (core rule).

import { ensure, log } from './coreEffects.js';
import type { ProcessorCore, StopReason, SupervisorConfig, SupervisorEffect } from './coreTypes.js';

/**
 * A stop is decided (the last lease's end, the supervisor's shutdown, the crash limit's `stop`). With
 * `stopAckTimeoutMs` and a reference of the supervisor's to drop, it is announced first (a `stopping`
 * effect: the shell tells the holders and subscribers, then says whom with `stop.told`) and goes ahead
 * when every party told has acknowledged, or after `stopAckTimeoutMs`. Without, it goes ahead now. A
 * stop already announced is not announced again (an escalation during it takes its place).
 */
export function requestStop(
  config: SupervisorConfig,
  s: ProcessorCore,
  fx: SupervisorEffect[],
  reason: StopReason,
): void {
  if (s.stopWait) {
    if (reason === 'escalation') s.stopWait = { ...s.stopWait, reason };
    return;
  }
  const ms = config.stopAckTimeoutMs ?? 0;
  // A closing supervisor announced its stops once (`shutdown`): the leases' ends that follow stop at once.
  if (ms <= 0 || !s.holds || (s.closing && reason === 'last-release')) {
    goAhead(s, fx, reason);
    return;
  }
  s.stopSeq += 1;
  s.stopWait = { reason, seq: s.stopSeq, parties: null };
  log(fx, 'info', 'stopping', { reason, ms: String(ms) });
  fx.push({ type: 'stopping', reason, ms });
  fx.push({ type: 'after', ms, input: { type: 'stop-ack.ended', seq: s.stopSeq } });
}

/**
 * The stop goes ahead: after the last lease, it stops; after the crash limit, the leases end
 * (`processor-failed`) and it stops; at a shutdown the shell ends the leases, and their last vote stops
 * it (at once if no lease is left).
 */
function goAhead(s: ProcessorCore, fx: SupervisorEffect[], reason: StopReason): void {
  s.stopWait = null;
  if (reason === 'escalation') fx.push({ type: 'leases.lost', reason: 'processor-failed' });
  if (reason !== 'shutdown' || s.votes === 0) ensure(s, fx, 'offline');
}

/** The shell told `parties` of the announced stop: with nobody to wait for, it goes ahead now. */
export function stopTold(s: ProcessorCore, fx: SupervisorEffect[], parties: readonly string[]): void {
  const wait = s.stopWait;
  if (!wait || wait.parties !== null) return;
  const unique = [...new Set(parties)];
  if (unique.length === 0) goAhead(s, fx, wait.reason);
  else s.stopWait = { ...wait, parties: unique };
}

/** `party` acknowledged: when every party told has, the stop goes ahead before its timeout. */
export function stopAcked(s: ProcessorCore, fx: SupervisorEffect[], party: string): void {
  const wait = s.stopWait;
  if (!wait?.parties?.includes(party)) return;
  const parties = wait.parties.filter((p) => p !== party);
  if (parties.length === 0) goAhead(s, fx, wait.reason);
  else s.stopWait = { ...wait, parties };
}

/** `stopAckTimeoutMs` of wait `seq` has passed: the stop goes ahead, acknowledged or not. */
export function stopAckEnded(s: ProcessorCore, fx: SupervisorEffect[], seq: number): void {
  if (s.stopWait?.seq === seq) goAhead(s, fx, s.stopWait.reason);
}

/** A new lease during an announced last-release stop cancels it, as it ends `offGraceMs`. */
export function cancelStop(s: ProcessorCore): void {
  if (s.stopWait?.reason === 'last-release') s.stopWait = null;
}
