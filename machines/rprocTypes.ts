// Types of the remoteproc core model: kernel states, processor options, core calls and the machine context.

import type { Result } from './errno.js';
import type { KernelProfile } from './profile.js';

/** The strings `state` reads as, without the newline (kernel-semantics §1.1). */
export const KERNEL_STATES = [
  'offline',
  'suspended',
  'running',
  'crashed',
  'deleted',
  'attached',
  'detached',
] as const;

/** One value of `rproc->state`, by its sysfs string. `invalid` is never reached. */
export type KernelState = (typeof KERNEL_STATES)[number];

/** Coredump modes of the `coredump` attribute (kernel-semantics §3.6). */
export const COREDUMP_MODES = ['disabled', 'enabled', 'inline'] as const;
/** One coredump mode. */
export type CoredumpMode = (typeof COREDUMP_MODES)[number];

/** Crash types a driver reports (kernel-semantics §3.1). */
export const CRASH_TYPES = ['mmufault', 'watchdog', 'fatal error'] as const;
/** One crash type; other values print as `unknown`. */
export type CrashType = (typeof CRASH_TYPES)[number] | 'unknown';

/** DEVCD_TIMEOUT: how long an unread inline coredump blocks recovery (kernel-semantics §3.6). */
export const DEVCD_TIMEOUT_MS = 300_000;

/**
 * What a platform driver gives the core about one processor. Durations are virtual milliseconds.
 */
export interface RprocOptions {
  /** The driver-given `name`. */
  name: string;
  /** The firmware file name `start` and boot recovery load. @default 'rproc-fw.elf' */
  firmware: string;
  /** `rproc->auto_boot`: boot (or attach) at registration. @default false */
  autoBoot: boolean;
  /** The state the driver sets before `rproc_add`: `offline`, or `detached` when already running. @default 'offline' */
  initial: 'offline' | 'detached';
  /** Initial `recovery` value. @default 'enabled' */
  recovery: 'enabled' | 'disabled';
  /** Initial `coredump` value. @default 'disabled' */
  coredump: CoredumpMode;
  /** Firmware load plus start. @default 100 */
  bootMs: number;
  /** `ops->stop`. @default 20 */
  stopMs: number;
  /** `ops->attach` / `ops->detach`. @default 0 */
  attachMs: number;
  /** The driver has a working `ops->stop`. @default true */
  canStop: boolean;
  /** The driver has `ops->detach`. @default true */
  canDetach: boolean;
  /** The driver declares RPROC_FEAT_ATTACH_ON_RECOVERY. @default false */
  attachOnRecovery: boolean;
  /** Every firmware load fails with ENOENT. @default false */
  firmwareMissing: boolean;
  /** The driver sets `sysfs_read_only` (v5.18+): writable attributes become 0444. @default false */
  sysfsReadOnly: boolean;
}

/** Defaults of {@link RprocOptions}, as the issue and the kernel give them. */
export const RPROC_DEFAULTS: Omit<RprocOptions, 'name'> = {
  firmware: 'rproc-fw.elf',
  autoBoot: false,
  initial: 'offline',
  recovery: 'enabled',
  coredump: 'disabled',
  bootMs: 100,
  stopMs: 20,
  attachMs: 0,
  canStop: true,
  canDetach: true,
  attachOnRecovery: false,
  firmwareMissing: false,
  sysfsReadOnly: false,
};

/** The core functions that take `rproc->lock` (kernel-semantics §1.2 Sources). */
export type CoreOp =
  | 'boot'
  | 'shutdown'
  | 'detach'
  | 'recover'
  | 'crash'
  | 'del'
  /** The driver's module is unloaded (rmmod): `del` if still registered, and its code is gone. */
  | 'unload'
  | 'setFirmware';

/** A task waiting on, or holding, `rproc->lock`. `id` pairs it with its `rproc.reply`. */
export interface CoreCall {
  id: number;
  op: CoreOp;
  /** For `setFirmware`: the new name. */
  firmware?: string;
  /** For `crash`: the reported type. */
  reason?: CrashType;
}

/** What the lock holder does next; the machine's state mirrors it. */
export type CoreStep =
  | 'idle'
  | 'booting'
  | 'attaching'
  | 'stopping'
  | 'detaching'
  | 'recoverStop'
  | 'recoverDetach';

/** Context of the rproc machine: `struct rproc` as userspace can observe it, plus the lock's queue. */
export interface RprocContext {
  profile: KernelProfile;
  options: RprocOptions;
  /** `rproc->state`. */
  state: KernelState;
  /**
   * `rproc_del` has run (driver unbind): the sysfs directory and the device node are gone, `start`
   * is ENODEV. Before the 2026 changes the state also became `deleted`; after them it stays.
   */
  removed: boolean;
  /**
   * The platform driver's module is unloaded (rmmod): `rproc->ops` point into freed code. A call that
   * would run one of them is the Oops hazard (docs/abi.md): the twin counts it in `oopses` instead.
   */
  driverGone: boolean;
  /** Calls that would have run an op of the unloaded driver (a kernel Oops each on a real kernel). */
  oopses: number;
  /** `rproc->power`, the reference count. */
  power: number;
  /** `rproc->firmware`. */
  firmware: string;
  /** `rproc->recovery_disabled`. */
  recoveryDisabled: boolean;
  /** `rproc->dump_conf`. */
  coredump: CoredumpMode;
  /** `rproc->cdev_put_on_release`: per processor, never reset (kernel-semantics §5.4). */
  shutdownOnRelease: boolean;
  /** `rproc->autonomous` (v5.9–v5.12): registered DETACHED and not stopped since; `firmware` reads `unknown`. */
  autonomous: boolean;
  /** `rproc->crash_cnt`. */
  crashCount: number;
  /** The last crash type reported and handled. */
  lastCrash: CrashType | null;
  /** devcoredumps produced by recoveries. */
  dumps: number;
  /** Recoveries that failed after the stop step and left the processor wedged (kernel-semantics §3.4). */
  failedRecoveries: number;
  /** Tasks waiting on `rproc->lock`, first come first served. */
  waiters: CoreCall[];
  /** The task holding `rproc->lock`, or null. */
  holder: CoreCall | null;
  /** The step chosen for the holder. */
  step: CoreStep;
}

/** Events the rproc machine accepts. */
export type RprocEvent =
  | { type: 'rproc.call'; call: CoreCall }
  | { type: 'rproc.set'; recoveryDisabled?: boolean; coredump?: CoredumpMode; shutdownOnRelease?: boolean }
  | { type: 'rproc.coredump.free' }
  | { type: 'rproc.suspend' }
  | { type: 'rproc.resume' };

/** Events the rproc machine emits: the return value of a core call. */
export type RprocEmitted =
  | { type: 'rproc.reply'; id: number; op: CoreOp; result: Result }
  /**
   * The virtio/rpmsg child devices went away (`rproc_stop`) or came back (`rproc_start`): the KOBJ_REMOVE
   * and KOBJ_ADD uevents a board really sends, and the only prompt sign of a crash recovery
   * (kernel-semantics §3.7, §8.10).
   */
  | { type: 'rproc.uevent'; action: 'add' | 'remove' };

/** Input of the rproc machine. */
export interface RprocInput {
  profile: KernelProfile;
  options: RprocOptions;
}
