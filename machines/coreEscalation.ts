// coreEscalation: the crash limit — OTP's intensity and period applied to firmware crashes, and its action (core rule).

import { log, schedule } from './coreEffects.js';
import type { CrashLimit } from './corePolicy.js';
import { requestStop } from './coreStop.js';
import type { ProcessorCore, SupervisorConfig, SupervisorEffect } from './coreTypes.js';

/**
 * A crash episode began. With a `crashLimit`, it counts for `periodMs` (an `after` timer takes it off
 * again: the core has no clock, and a count, unlike crash times, leaves equal states equal for
 * `explore`). More than `intensity` crashes within `periodMs` — OTP's rule, as `shouldRestart` of
 * machines/restartIntensity.ts applies it to the monitor's restarts — escalates.
 */
export function crashSeen(config: SupervisorConfig, s: ProcessorCore, fx: SupervisorEffect[]): void {
  const limit = config.crashLimit;
  if (!limit || s.failed) return;
  s.crashCount += 1;
  fx.push({ type: 'after', ms: limit.periodMs, input: { type: 'crash.expired' } });
  if (s.crashCount > limit.intensity) escalate(config, s, fx, limit);
}

/** A counted crash is `periodMs` old. */
export function crashExpired(s: ProcessorCore): void {
  s.crashCount = Math.max(0, s.crashCount - 1);
}

/**
 * Past the limit the processor is failed (acquire is refused, the supervisor starts it no more) and
 * its holders and subscribers are told (`processor.failed`); then its action:
 * - `disable-recovery`: `recovery` is written `disabled` and the leases end (`processor-failed`); the
 *   processor is left as it is (a crash stays CRASHED, for its coredump or a person);
 * - `stop`: a stop, announced as `escalation` (two-phase), ends the leases and stops it;
 * - `exit`: the leases end and the shell exits non-zero, so its service manager acts.
 */
function escalate(
  config: SupervisorConfig,
  s: ProcessorCore,
  fx: SupervisorEffect[],
  limit: CrashLimit,
): void {
  s.failed = true;
  log(fx, 'warn', 'crash-limit', {
    action: limit.action,
    crashes: String(s.crashCount),
    intensity: String(limit.intensity),
    periodMs: String(limit.periodMs),
  });
  fx.push({ type: 'failed', action: limit.action });
  if (limit.action === 'stop') {
    requestStop(config, s, fx, 'escalation');
    return;
  }
  if (limit.action === 'disable-recovery') {
    s.disableRecovery = true;
    schedule(s, fx);
  }
  fx.push({ type: 'leases.lost', reason: 'processor-failed' });
  if (limit.action === 'exit') fx.push({ type: 'exit' });
}
