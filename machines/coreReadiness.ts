// coreReadiness: when a granted lease becomes usable (the processor runs or is attached) or fails (its boot did) — core rules.

import type { ProcessorCore, SupervisorEffect } from './coreTypes.js';
import type { RprocError } from './errno.js';

/** The default of `bootTimeoutMs`: an acquire fails with ETIMEDOUT if the processor is not usable by then. */
export const DEFAULT_BOOT_TIMEOUT_MS = 30000;

/**
 * A new lease: usable at once when the processor is up for the supervisor's leases, else it waits for
 * the bring-up (and, with `bootTimeoutMs`, for at most that long: a `boot.timeout` input later).
 */
export function leaseJoins(
  s: ProcessorCore,
  fx: SupervisorEffect[],
  lease: string,
  bootTimeoutMs: number | undefined,
): void {
  if (s.up) {
    fx.push({ type: 'leases.ready', leases: [lease] });
    return;
  }
  s.waiting = [...s.waiting, lease];
  if (bootTimeoutMs !== undefined)
    fx.push({ type: 'after', ms: bootTimeoutMs, input: { type: 'boot.timeout', lease } });
}

/** A lease ended (released, lost, failed): it waits no more. */
export function leaseLeaves(s: ProcessorCore, lease: string): void {
  if (s.waiting.includes(lease)) s.waiting = s.waiting.filter((l) => l !== lease);
}

/** The processor runs (or is attached) for the supervisor's leases: every waiting one is usable. */
export function markUp(s: ProcessorCore, fx: SupervisorEffect[]): void {
  s.up = true;
  if (s.waiting.length === 0) return;
  fx.push({ type: 'leases.ready', leases: s.waiting });
  s.waiting = [];
}

/** The bring-up failed: every waiting lease fails with the kernel's errno (the shell ends them). */
export function failWaiting(s: ProcessorCore, fx: SupervisorEffect[], error: RprocError): void {
  if (s.waiting.length === 0) return;
  fx.push({ type: 'leases.failed', leases: s.waiting, error });
  s.waiting = [];
}

/** `lease`'s boot timeout fired: if it still waits, it fails with ETIMEDOUT. */
export function bootTimedOut(
  s: ProcessorCore,
  fx: SupervisorEffect[],
  lease: string,
  ms: number | undefined,
): void {
  if (!s.waiting.includes(lease)) return;
  s.waiting = s.waiting.filter((l) => l !== lease);
  fx.push({
    type: 'leases.failed',
    leases: [lease],
    error: { code: 'ETIMEDOUT', op: 'boot', detail: `not running after ${ms ?? '?'} ms (bootTimeoutMs)` },
  });
}
