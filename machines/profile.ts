// Kernel profiles: what changes between the remoteproc generations we model (kernel-semantics §7).

import { fail, ok, type Result } from './errno.js';

/**
 * The kernel profiles the twin models. Each is the first release of its generation, as read in the
 * kernel sources: `5.9` is v5.9 (cdev, DETACHED, no sysfs `recovery`/`coredump` yet), `5.13` is v5.13
 * (ATTACHED, `detach`; `start` still EBUSY when running), `5.19` is v5.19–v7.2 (`start` stacks), `7.3`
 * is v7.3 and the stable kernels with its 2026 backports (a crashed processor can be stopped; no
 * DELETED state). {@link profileOfRelease} maps a release string to one.
 */
export const KERNEL_PROFILES = ['5.9', '5.13', '5.19', '7.3'] as const;

/** One kernel profile. `5.19` stands for 5.19–7.2 without the 2026 backports, `7.3` for the kernels with them. */
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
  /** RPROC_FEAT_ATTACH_ON_RECOVERY exists (v6.1 era; on the `5.19` and `7.3` profiles). */
  attachOnRecovery: boolean;
  /**
   * devtmpfs creates and removes `/dev/remoteprocN` with the device (v5.14): an open after unbind is
   * ENOENT. Before, the node was made by udev or mknod, and an open after unbind was ENXIO.
   */
  devtmpfsNode: boolean;
  /**
   * `rproc_shutdown` accepts a CRASHED processor: one reference dropped, stopped at zero ("remoteproc:
   * Allow shutdown of crashed processors", v7.3 and the 2026 stables); unbind stops it too.
   */
  crashedShutdown: boolean;
  /**
   * `rproc_del` sets RPROC_DELETED. Gone with "remoteproc: Prevent crash handling to race with
   * rproc_del()" (v7.3 and the 2026 stables): the state stays, a later crash report is dropped.
   */
  deletedState: boolean;
}

/** v5.19 and later, before the 2026 changes. */
const FIVE_NINETEEN: ProfileFeatures = {
  attachedState: true,
  detachCommand: true,
  sysfsRecoveryAndCoredump: true,
  shutdownReturnsError: true,
  firmwareUnknownWhenAttached: true,
  delAlwaysShutsDown: true,
  layerStateChecks: false,
  sysfsReadOnlyFlag: true,
  attachOnRecovery: true,
  devtmpfsNode: true,
  crashedShutdown: false,
  deletedState: true,
};

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
    devtmpfsNode: false,
    crashedShutdown: false,
    deletedState: true,
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
    devtmpfsNode: false,
    crashedShutdown: false,
    deletedState: true,
  },
  '5.19': FIVE_NINETEEN,
  // The 5.19 generation with the 2026 changes (kernel-semantics §10).
  '7.3': { ...FIVE_NINETEEN, crashedShutdown: true, deletedState: false },
};

/** The features of `profile`. */
export function profileFeatures(profile: KernelProfile): ProfileFeatures {
  return FEATURES[profile];
}

/** True when `value` names a profile. */
export function isKernelProfile(value: unknown): value is KernelProfile {
  return typeof value === 'string' && (KERNEL_PROFILES as readonly string[]).includes(value);
}

/**
 * Stable lines that took the 2026 backports ("Allow shutdown of crashed processors", "Prevent crash
 * handling to race with rproc_del()", the auto-boot attach work item), with the first release of each
 * that has them. docs/abi.md has the table and the commit subjects.
 */
export const BACKPORTS_2026: ReadonlyArray<{ line: string; first: number }> = [
  { line: '6.1', first: 188 },
  { line: '6.12', first: 110 },
];

/** The first mainline release of each profile, newest first. */
const MAINLINE: ReadonlyArray<{ major: number; minor: number; profile: KernelProfile }> = [
  { major: 7, minor: 3, profile: '7.3' },
  { major: 5, minor: 19, profile: '5.19' },
  { major: 5, minor: 13, profile: '5.13' },
  { major: 5, minor: 9, profile: '5.9' },
];

/**
 * The profile a kernel behaves as, from its release string: what `uname -r` prints (`6.1.0-41-amd64`
 * is Debian's ABI name and says nothing of the patch level: give `6.1.192` then), `6.12.117-amd64`,
 * `5.15.0-105-generic`, `7.3.0-rc2`. Stable backports of the 2026 changes count ({@link BACKPORTS_2026}).
 * Undefined for a string without `major.minor.patch` or a kernel before 5.9 (no `/dev/remoteprocN`).
 *
 * @example profileOfRelease('6.1.192') // '7.3'
 * @example profileOfRelease('6.1.187-amd64') // '5.19'
 */
export function profileOfRelease(release: string): KernelProfile | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(release.trim());
  if (!m) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const backport = BACKPORTS_2026.find((b) => b.line === `${major}.${minor}`);
  if (backport && patch >= backport.first) return '7.3';
  for (const p of MAINLINE) {
    if (major > p.major || (major === p.major && minor >= p.minor)) return p.profile;
  }
  return undefined;
}

/**
 * A `--kernel` value: a profile name (`5.19`, kept exactly as before) or a release string mapped by
 * {@link profileOfRelease}. Undefined when it is neither.
 */
export function parseKernel(value: string): KernelProfile | undefined {
  return isKernelProfile(value) ? value : profileOfRelease(value);
}

/** What a `--kernel` value or a document's `kernel` field may be, as error messages say it. */
export const KERNEL_VALUES = `${KERNEL_PROFILES.join(', ')} or a release like 6.1.192 (5.9 or later)`;

/**
 * A `--kernel` flag's value ({@link parseKernel}), `fallback` when it is absent; an EINVAL errno naming
 * the accepted values when it is neither a profile nor a release string.
 */
export function kernelFlag(
  value: string | undefined,
  fallback: KernelProfile = DEFAULT_PROFILE,
): Result<KernelProfile> {
  if (value === undefined) return ok(fallback);
  const profile = parseKernel(value);
  return profile === undefined
    ? fail('EINVAL', '--kernel', `--kernel ${value}: expected one of ${KERNEL_VALUES}`)
    : ok(profile);
}
