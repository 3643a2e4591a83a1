// corePolicy: the per-processor ownership policies of the supervisor core, and who may take a lease (pure rules).

import { fail, ok, type Result } from './errno.js';
import type { RestartIntensity } from './restartIntensity.js';

/**
 * How the supervisor treats one processor (issue 12 point 1):
 * - `shared`: takes and drops only its own kernel reference; never stops what it holds no reference on,
 *   adopts nothing at start; a start the kernel refuses (EBUSY before 5.19) on a processor someone else
 *   runs grants the lease without a reference;
 * - `exclusive`: owns it — stops it when nobody wants it and reconciles at start;
 * - `attach`: a core a bootloader started: acquire attaches, the last release detaches, never stops;
 * - `observe`: never written; acquire is refused with EPERM.
 */
export type ProcessorPolicy = 'shared' | 'exclusive' | 'attach' | 'observe';

/** Every policy, in documentation order. */
export const PROCESSOR_POLICIES = ['shared', 'exclusive', 'attach', 'observe'] as const;

/**
 * What to do past the crash limit (issue 12 point 6): `disable-recovery` (write `recovery` `disabled`,
 * leave the processor as it is, failed), `stop` (stop it, failed), or `exit` (the daemon exits non-zero,
 * so its service manager acts).
 */
export type CrashAction = 'disable-recovery' | 'stop' | 'exit';

/** Every crash action, in documentation order. */
export const CRASH_ACTIONS = ['disable-recovery', 'stop', 'exit'] as const;

/**
 * OTP's restart intensity (machines/restartIntensity.ts, the same names) applied to firmware crashes:
 * more than `intensity` crashes within `periodMs` escalates to `action`.
 */
export interface CrashLimit extends RestartIntensity {
  action: CrashAction;
}

/** One processor's supervision settings as written (docs/config.md); every field optional. */
export interface ProcessorSettingsJson {
  policy?: ProcessorPolicy | undefined;
  firmware?: string | undefined;
  offGraceMs?: number | undefined;
  stopAckTimeoutMs?: number | undefined;
  bootTimeoutMs?: number | undefined;
  crashLimit?: CrashLimit | undefined;
}

/** Why a firmware name is refused (EINVAL), or null: no `/`, no `..`, no newline, not empty. */
export function firmwareNameProblem(name: string): string | null {
  if (name.length === 0) return 'a firmware name is not empty';
  if (name.includes('/')) return `firmware "${name}": no "/" (a name under /lib/firmware, not a path)`;
  if (name.includes('..')) return `firmware "${name}": no ".."`;
  if (/[\n\r\0]/.test(name)) return `firmware "${name}": no newline or NUL`;
  return null;
}

/** What {@link admitLease} needs to know about the processor. */
export interface AdmitView {
  policy: ProcessorPolicy;
  /** The firmware the processor's configuration names, if any. */
  configured?: string | undefined;
  /** Live votes, and the firmware the supervisor booted (or will boot) for them. */
  votes: number;
  firmware: string | null;
  /** Past its crash limit (the core's `failed`): acquire is refused with EIO until the supervisor restarts. */
  failed?: boolean;
}

/**
 * Whether a lease asking for `firmware` may be granted: EPERM under `observe`; EIO on a processor
 * failed by its crash limit; EINVAL for a firmware
 * name with `/` or `..`; EBUSY when the processor already runs (has votes) for a different firmware.
 *
 * @example
 * admitLease({ policy: 'observe', votes: 0, firmware: null }) // EPERM
 * admitLease({ policy: 'shared', votes: 1, firmware: 'a.elf' }, 'b.elf') // EBUSY
 */
export function admitLease(view: AdmitView, firmware?: string): Result {
  if (view.policy === 'observe')
    return fail('EPERM', 'acquire', 'this processor is observed only (policy observe): never written');
  if (view.failed)
    return fail(
      'EIO',
      'acquire',
      'this processor passed its crash limit (crashLimit) and is failed: restart the supervisor to try again',
    );
  if (firmware !== undefined) {
    const problem = firmwareNameProblem(firmware);
    if (problem) return fail('EINVAL', 'acquire', problem);
    const current = view.firmware ?? view.configured ?? null;
    if (view.votes > 0 && current !== null && current !== firmware)
      return fail(
        'EBUSY',
        'acquire',
        `the processor runs firmware "${current}" for its leases, not "${firmware}"`,
      );
  }
  return ok();
}
