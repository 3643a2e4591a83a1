// coreBarrier: waiting for `rproc->lock` with calls that do nothing to a healthy processor, then reading `state` again (core rule).

import type { ProcessorCore, SupervisorAnswer, SupervisorCall } from './coreTypes.js';

/** The barrier's steps: `recover` (or, before v5.10, reading and rewriting `firmware`), then a read. */
export type BarrierWait = 'barrier' | 'fw-read' | 'fw-write' | 'reread';

/** A step of the barrier and the call it makes. */
export type BarrierStep = [BarrierWait, SupervisorCall];

/**
 * The barrier's first step. `state` takes no lock, so a stop or a recovery under way reads midway
 * (kernel-semantics §3.3); `recover` takes the lock and does nothing to a healthy processor. Used by
 * adoption (a processor that reads running while a dead owner's release stops it) and by the
 * processor-stopped check (an `offline` that may be a recovery midway).
 */
export function barrierStart(s: ProcessorCore): BarrierStep {
  return s.noRecovery ? ['fw-read', { op: 'read-firmware' }] : ['barrier', { op: 'recover' }];
}

/** The barrier's step after `r`, the answer to `wait`; after `fw-write` (or `barrier`) comes the `reread`. */
export function barrierNext(
  s: ProcessorCore,
  wait: Exclude<BarrierWait, 'reread'>,
  r: SupervisorAnswer,
): BarrierStep {
  switch (wait) {
    case 'barrier':
      // No sysfs `recovery` before v5.10: the `firmware` store takes the lock too, and rewriting the
      // same name is harmless.
      if (!r.ok && r.error.code === 'ENOENT') {
        s.noRecovery = true;
        return ['fw-read', { op: 'read-firmware' }];
      }
      return ['reread', { op: 'state' }];
    case 'fw-read':
      // `unknown`: an attached processor, whose firmware cannot be written (nor is a stop under way).
      if (r.ok && r.value !== 'unknown') return ['fw-write', { op: 'write-firmware', name: String(r.value) }];
      return ['reread', { op: 'state' }];
    case 'fw-write':
      return ['reread', { op: 'state' }];
  }
}
