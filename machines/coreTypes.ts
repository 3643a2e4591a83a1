// coreTypes: the supervisor core's data — its config, calls, answers, effects, inputs and per-processor state (plain data).

import type { CrashAction, CrashLimit, ProcessorPolicy } from './corePolicy.js';
import type { Result, RprocError } from './errno.js';
import type { KernelState } from './rprocTypes.js';

/** What a processor should reach. */
export type Want = 'running' | 'offline';

/** How a restarted supervisor treats processors it finds powered: wait for clients, or stop them at once. */
export type ReconcilePolicy = 'adopt' | 'stop-unknown';

/** What the simulated monitor and the daemon may differ in; the rules are the same. */
export interface SupervisorConfig {
  /** Get an unwanted processor out of CRASHED with `recover`, then stop it (hybrid). */
  recoverCrashed: boolean;
  reconcile: ReconcilePolicy;
  /** How long a restarted supervisor waits for clients to re-register before it stops what nobody claimed. */
  graceMs: number;
  /** True for an incarnation after the first (or a daemon that found processors powered): it reconciles. */
  restarted: boolean;
  /** How the supervisor owns the processor (corePolicy.ts). @default 'exclusive' (the simulated strategies) */
  policy?: ProcessorPolicy;
  /** The firmware to boot when no lease names one. */
  firmware?: string;
  /** A lease that is not usable (running, attached) this long after its grant fails with ETIMEDOUT. */
  bootTimeoutMs?: number;
  /**
   * When the last lease ends by its holder's death (lost, expired), wait this long for a new acquire
   * before stopping (a service manager restarting its client). A clean release does not wait. @default 0
   */
  offGraceMs?: number;
  /**
   * The supervisor starts with a descriptor of its previous incarnation for this processor (the
   * service manager's fd store, docs/systemd.md): whatever that descriptor holds is its own. It waits
   * `graceMs` for leases to resume, adopts the processor without a new start if it is powered, and
   * stops it (whatever the policy) if no lease wants it by then. @default false
   */
  inherited?: boolean;
  /**
   * Two-phase stop: before a stop of a processor it holds, tell the parties (`stopping`) and wait this
   * long for their `ack`s; an ack from every party ends the wait early. @default 0 (no wait)
   */
  stopAckTimeoutMs?: number;
  /** Past more than `intensity` crashes within `periodMs`, escalate to `action`. @default none */
  crashLimit?: CrashLimit;
}

/** Why a stop is announced (`processor.stopping`). */
export type StopReason = 'last-release' | 'shutdown' | 'escalation';

/** Why the core ends every lease of a processor (`lease.lost`). */
export type LostReason = 'processor-stopped' | 'processor-failed';

/** A two-phase stop under way: told to the parties, waiting for their acks or its timer. */
export interface StopWait {
  reason: StopReason;
  /** Which wait this is (a stale timer's `stop-ack.ended` is ignored). */
  seq: number;
  /** Who was told and has not acknowledged; null until the shell says who it told (`stop.told`). */
  parties: string[] | null;
}

/** The policy `config` gives, `exclusive` when it names none. */
export const policyOf = (config: SupervisorConfig): ProcessorPolicy => config.policy ?? 'exclusive';

/** A call to the kernel, made by the shell's driver; its answer comes back as an `answer` input. */
export type SupervisorCall =
  | { op: 'state' }
  | { op: 'start' }
  | { op: 'stop' }
  /** Write `detach` to `state` (attach policy; ATTACHED only, v5.13+). */
  | { op: 'detach' }
  /** Write `recovery` `recover`: recovers a crashed processor; on a healthy one it only takes `rproc->lock`. */
  | { op: 'recover' }
  | { op: 'read-firmware' }
  | { op: 'write-firmware'; name: string }
  /** Write `recovery` `disabled` (the crash limit's `disable-recovery`): a next crash stays CRASHED. */
  | { op: 'disable-recovery' };

/**
 * The answer to a call, the same from every shell: `state`, `start`, `stop` and `detach` answer the
 * state read afterwards ({@link STATE_ANSWERS}), `read-firmware` the name, `recover` and
 * `write-firmware` nothing; a failure its errno.
 */
export type SupervisorAnswer = Result<unknown>;

/** The calls whose answer is the processor's state read afterwards (the others answer nothing or a name). */
export const STATE_ANSWERS: ReadonlySet<SupervisorCall['op']> = new Set(['state', 'start', 'stop', 'detach']);

/** What the executor and the supervisor log (the monitor traces `monitor.<event>`; the daemon logs it). */
export type SupervisorLogEvent =
  | 'adopt'
  | 'start'
  | 'start-failed'
  | 'wedged'
  | 'stop'
  | 'stop-failed'
  | 'recover-to-stop'
  | 'cannot-stop'
  /** shared/attach: the kernel refused our start (EBUSY before 5.19): leases granted without a reference. */
  | 'borrow'
  | 'detach'
  | 'detach-failed'
  /** The last holder died: the processor is kept `offGraceMs` for a new acquire. */
  | 'off-grace'
  /** A stop is announced: the parties may acknowledge it within `stopAckTimeoutMs`. */
  | 'stopping'
  /** More crashes than the crash limit allows: the processor is failed, its action follows. */
  | 'crash-limit'
  | 'disable-recovery-failed'
  /** A processor that runs for leases was found offline, not stopped by the supervisor. */
  | 'stopped-by-other';

/** What a step asks its shell to do, in order. */
export type SupervisorEffect =
  | { type: 'call'; call: SupervisorCall }
  /** Send `decide` later in this same instant: messages that arrived together are one decision. */
  | { type: 'defer' }
  /**
   * shared/attach: the supervisor holds no reference now, so it lets go of the processor's descriptor
   * (clearing shutdown-on-release if it still runs): the kernel's release would drop someone else's.
   */
  | { type: 'let-go' }
  /** Send `input` after `ms`: the one timer of the core (the restart grace, a boot timeout, offGraceMs …). */
  | { type: 'after'; ms: number; input: SupervisorInput }
  /** These leases are usable now: the processor runs or is attached (the acquire's answer). */
  | { type: 'leases.ready'; leases: string[] }
  /** These leases' bring-up failed: answer their acquire with `error` and end them. */
  | { type: 'leases.failed'; leases: string[]; error: RprocError }
  /** Tell the processor's lease holders. */
  | { type: 'notify'; event: 'processor.crashed' | 'processor.recovered' }
  /**
   * A stop is coming (two-phase stop): tell the parties (holders, subscribers) that it goes ahead
   * within `ms`, and answer with a `stop.told` input naming who was told.
   */
  | { type: 'stopping'; reason: StopReason; ms: number }
  /** End every live lease of the processor, as lost for `reason`. */
  | { type: 'leases.lost'; reason: LostReason }
  /** The crash limit was passed: tell the holders and subscribers (`processor.failed`). */
  | { type: 'failed'; action: CrashAction }
  /** The crash limit's `exit`: the shell's process exits non-zero, so its service manager acts. */
  | { type: 'exit' }
  | {
      type: 'log';
      level: 'info' | 'warn';
      event: SupervisorLogEvent;
      data?: Record<string, string>;
      /** What the kernel or driver said, for a human (the daemon's log; the simulation's trace leaves it out). */
      detail?: string;
    };

/** What a step takes. */
export type SupervisorInput =
  | { type: 'start' }
  /** A lease was granted (+1) or ended (-1). `firmware`: what the granted lease asks to boot. */
  | {
      type: 'vote';
      delta: 1 | -1;
      firmware?: string;
      lease?: string;
      /** How the lease ended (delta -1): only `released` is clean; the others may start `offGraceMs`. */
      end?: 'released' | 'lost' | 'expired';
    }
  /** The `offGraceMs` started as number `seq` has passed. */
  | { type: 'off-grace.ended'; seq: number }
  /** The supervisor is closing (SIGTERM): no more grace, stop what it holds. */
  | { type: 'shutdown' }
  /** Lease `lease`'s `bootTimeoutMs` has passed (see the `after` effect). */
  | { type: 'boot.timeout'; lease: string }
  | { type: 'observed'; state: KernelState }
  /** A uevent of the processor's child devices (its rpmsg/virtio devices come and go with the firmware). */
  | { type: 'uevent'; action: 'add' | 'remove' }
  | { type: 'grace.ended' }
  /** Who the shell told of a `stopping` effect (ids it chose: connections, leases). */
  | { type: 'stop.told'; parties: string[] }
  /** Party `party` acknowledged the announced stop. */
  | { type: 'ack'; party: string }
  /** The `stopAckTimeoutMs` of wait `seq` has passed. */
  | { type: 'stop-ack.ended'; seq: number }
  /** A crash counted against the crash limit is `periodMs` old: it counts no more. */
  | { type: 'crash.expired' }
  | { type: 'decide' }
  | { type: 'answer'; result: SupervisorAnswer };

/** The operation under way, and which call it waits for. */
export type SupervisorOp =
  | {
      want: 'running';
      wait: 'read' | 'barrier' | 'fw-read' | 'fw-write' | 'reread' | 'set-firmware' | 'start';
    }
  | { want: 'offline'; wait: 'read' | 'recover' | 'stop' | 'detach'; attempts: number }
  /** Was it stopped by someone else? A lock barrier (a recovery shows `offline` midway), then a read. */
  | { want: 'check'; wait: 'barrier' | 'fw-read' | 'fw-write' | 'reread' }
  | { want: 'disable'; wait: 'disable-recovery' };

/** One processor's supervisor state: plain data, so it can be compared, encoded and restored. */
export interface ProcessorCore {
  /** `adopting`: a restarted supervisor's grace; the last vote's end stops nothing yet. */
  phase: 'starting' | 'adopting' | 'steady';
  votes: number;
  /** Inside a crash episode already announced to lease holders. */
  crashed: boolean;
  /** The latest wish; the executor works towards it one operation at a time. */
  desired: Want | null;
  /** A `decide` is on its way (see the `defer` effect). */
  scheduled: boolean;
  /** This supervisor holds a reference on the processor (it started or adopted it and has not stopped it). */
  holds: boolean;
  /** shared/attach: its leases are granted without a reference (someone else runs it; start was EBUSY). */
  borrowed: boolean;
  /**
   * It holds a previous incarnation's descriptor ({@link SupervisorConfig.inherited}) and has not yet
   * read whether it is powered: if it is, the reference is its own (adopted, not started again).
   */
  inherited: boolean;
  /** The processor runs (or is attached) for the leases: a new one is usable at once. */
  up: boolean;
  /** Leases granted but not yet usable, in grant order (the shell answers them on `leases.ready`). */
  waiting: string[];
  /** Inside `offGraceMs` after the last holder died: the processor is kept for a new acquire. */
  offGrace: boolean;
  /** Which grace is the latest (a stale timer's `off-grace.ended` is ignored). */
  graceSeq: number;
  /** The supervisor is closing: the last vote's end stops at once. */
  closing: boolean;
  /** The firmware the last granted lease asked for, set before a start. */
  firmware: string | null;
  /** The kernel has no sysfs `recovery` (before v5.10): barriers rewrite `firmware` instead. */
  noRecovery: boolean;
  op: SupervisorOp | null;
  /** A two-phase stop waits for acknowledgements (see {@link StopWait}). */
  stopWait: StopWait | null;
  /** Which wait is the latest. */
  stopSeq: number;
  /** Crashes within the crash limit's period (counted only with a `crashLimit`). */
  crashCount: number;
  /** Past its crash limit: acquire is refused, the supervisor starts it no more. */
  failed: boolean;
  /** `recovery` is to be written `disabled` (the crash limit's `disable-recovery`), by the executor. */
  disableRecovery: boolean;
}

/** Stops (and recovers) per operation: a stop that leaves references (auto-boot, kernel users) is repeated. */
export const MAX_STOP_ATTEMPTS = 8;

/** A processor's state before its `start` input. */
export function initialCore(): ProcessorCore {
  return {
    phase: 'starting',
    votes: 0,
    crashed: false,
    desired: null,
    scheduled: false,
    holds: false,
    borrowed: false,
    inherited: false,
    up: false,
    waiting: [],
    offGrace: false,
    graceSeq: 0,
    closing: false,
    firmware: null,
    noRecovery: false,
    op: null,
    stopWait: null,
    stopSeq: 0,
    crashCount: 0,
    failed: false,
    disableRecovery: false,
  };
}

/** A step's result: the next state and what to do, in order. */
export type SupervisorStep = [ProcessorCore, SupervisorEffect[]];
