// Kernel profiles: what changes between the remoteproc generations we model (kernel-semantics §7).

/**
 * The kernel profiles the twin models. Each is the first release of its generation, as read in the
 * kernel sources: `5.9` is v5.9 (cdev, DETACHED, no sysfs `recovery`/`coredump` yet), `5.13` is v5.13
 * (ATTACHED, `detach`; `start` still EBUSY when running), `5.19` is v5.19 and later (`start` stacks).
 */
export const KERNEL_PROFILES = ['5.9', '5.13', '5.19'] as const;

/** One kernel profile. `5.19` stands for 5.19 and every later kernel. */
export type KernelProfile = (typeof KERNEL_PROFILES)[number];

/** The default profile: current kernels. */
export const DEFAULT_PROFILE: KernelProfile = '5.19';

/** What a profile can do, as flags, so that no code compares version strings. */
export interface ProfileFeatures {
  /** RPROC_ATTACHED exists (v5.13); before it an attached processor reads `running`. */
  attachedState: boolean;
  /** `detach` is a command of sysfs `state` and the cdev, and cdev release detaches (v5.13). */
  detachCommand: boolean;
  /** sysfs `recovery` and `coredump` exist (v5.10); before, debugfs only. */
  sysfsRecoveryAndCoredump: boolean;
  /**
   * `rproc_shutdown` returns its error to the writer (v5.18, "Change rproc_shutdown() to return a
   * status"); before, it was void and a failed `stop` write still returned success.
   */
  shutdownReturnsError: boolean;
  /**
   * `firmware` reads `unknown` while the state is ATTACHED (v5.13). Before, it read `unknown` while the
   * `autonomous` flag was set: from registration in DETACHED until the processor was stopped.
   */
  firmwareUnknownWhenAttached: boolean;
  /** `rproc_del` always calls `rproc_shutdown` (v5.13); before, only when `auto_boot` was set. */
  delAlwaysShutsDown: boolean;
  /**
   * The sysfs/cdev layer checks the state, without the lock, before calling the core (v4.10–v5.18):
   * `start` while running (or attached) is EBUSY. From v5.19 the core checks under the lock and `start`
   * stacks a reference.
   */
  layerStateChecks: boolean;
  /** The driver flag `sysfs_read_only` exists (v5.18). */
  sysfsReadOnlyFlag: boolean;
  /** RPROC_FEAT_ATTACH_ON_RECOVERY exists (v6.1 era; only on the `5.19` profile). */
  attachOnRecovery: boolean;
}

const FEATURES: Record<KernelProfile, ProfileFeatures> = {
  '5.9': {
    attachedState: false,
    detachCommand: false,
    sysfsRecoveryAndCoredump: false,
    shutdownReturnsError: false,
    firmwareUnknownWhenAttached: false,
    delAlwaysShutsDown: false,
    layerStateChecks: true,
    sysfsReadOnlyFlag: false,
    attachOnRecovery: false,
  },
  '5.13': {
    attachedState: true,
    detachCommand: true,
    sysfsRecoveryAndCoredump: true,
    shutdownReturnsError: false,
    firmwareUnknownWhenAttached: true,
    delAlwaysShutsDown: true,
    layerStateChecks: true,
    sysfsReadOnlyFlag: false,
    attachOnRecovery: false,
  },
  '5.19': {
    attachedState: true,
    detachCommand: true,
    sysfsRecoveryAndCoredump: true,
    shutdownReturnsError: true,
    firmwareUnknownWhenAttached: true,
    delAlwaysShutsDown: true,
    layerStateChecks: false,
    sysfsReadOnlyFlag: true,
    attachOnRecovery: true,
  },
};

/** The features of `profile`. */
export function profileFeatures(profile: KernelProfile): ProfileFeatures {
  return FEATURES[profile];
}

/** True when `value` names a profile. */
export function isKernelProfile(value: unknown): value is KernelProfile {
  return typeof value === 'string' && (KERNEL_PROFILES as readonly string[]).includes(value);
}
