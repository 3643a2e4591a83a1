// machines/supervisorCore: the supervisor's decisions and the executor's rules for one processor, as one pure step.

import type { ProcessorPolicy } from './corePolicy.js';
import { bootTimedOut, failWaiting, leaseJoins, leaseLeaves, markUp } from './coreReadiness.js';
import type { Result, RprocError } from './errno.js';
import { isPoweredState, isRunningState } from './powered.js';
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
  | { op: 'write-firmware'; name: string };

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
  | 'off-grace';

/** What a step asks its shell to do, in order. */
export type SupervisorEffect =
  | { type: 'call'; call: SupervisorCall }
  /** Send `decide` later in this same instant: messages that arrived together are one decision. */
  | { type: 'defer' }
  /** Send `grace.ended` after `ms`. */
  | { type: 'grace'; ms: number }
  /**
   * shared/attach: the supervisor holds no reference now, so it lets go of the processor's descriptor
   * (clearing shutdown-on-release if it still runs): the kernel's release would drop someone else's.
   */
  | { type: 'let-go' }
  /** Send `input` after `ms` (a lease's boot timeout). */
  | { type: 'after'; ms: number; input: SupervisorInput }
  /** These leases are usable now: the processor runs or is attached (the acquire's answer). */
  | { type: 'leases.ready'; leases: string[] }
  /** These leases' bring-up failed: answer their acquire with `error` and end them. */
  | { type: 'leases.failed'; leases: string[]; error: RprocError }
  /** Tell the processor's lease holders. */
  | { type: 'notify'; event: 'processor.crashed' | 'processor.recovered' }
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
  | { type: 'decide' }
  | { type: 'answer'; result: SupervisorAnswer };

/** The operation under way, and which call it waits for. */
export type SupervisorOp =
  | {
      want: 'running';
      wait: 'read' | 'barrier' | 'fw-read' | 'fw-write' | 'reread' | 'set-firmware' | 'start';
    }
  | { want: 'offline'; wait: 'read' | 'recover' | 'stop' | 'detach'; attempts: number };

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
  };
}

/** A step's result: the next state and what to do, in order. */
export type SupervisorStep = [ProcessorCore, SupervisorEffect[]];

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
        fx.push({ type: 'grace', ms: config.graceMs });
      }
      // Only an exclusive owner reconciles: the others adopt nothing and stop nothing at start.
      else if (policyOf(config) !== 'exclusive') s.phase = 'steady';
      else if (config.restarted && config.reconcile === 'adopt') {
        s.phase = 'adopting';
        fx.push({ type: 'grace', ms: config.graceMs });
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
      if (input.delta === 1) s.offGrace = false;
      if (input.delta === 1 && s.votes === 1) ensure(s, fx, 'running');
      // During the grace the last vote's end stops nothing: its client may be re-registering.
      else if (input.delta === -1 && s.votes === 0 && s.phase === 'steady') {
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
        } else ensure(s, fx, 'offline');
      }
      break;
    }
    case 'off-grace.ended':
      if (s.offGrace && input.seq === s.graceSeq && s.votes === 0) {
        s.offGrace = false;
        ensure(s, fx, 'offline');
      }
      break;
    case 'shutdown':
      s.closing = true;
      if (s.offGrace) {
        s.offGrace = false;
        ensure(s, fx, 'offline');
      }
      break;
    case 'boot.timeout':
      bootTimedOut(s, fx, input.lease, config.bootTimeoutMs);
      break;
    case 'observed': {
      if (input.state === 'crashed') episode(s, fx, true);
      else if (isRunningState(input.state)) episode(s, fx, false);
      // Up once it runs for us (a crash recovered, a slow boot); down whenever it does not.
      if (!isRunningState(input.state)) s.up = false;
      else if (!s.op && s.desired === 'running' && (s.holds || s.borrowed)) markUp(s, fx);
      // Nobody wants it but it is powered: stop it (a crash recovery may have brought it back).
      // Only an exclusive owner does: the others never stop what they hold no reference on.
      const owner = policyOf(config) === 'exclusive';
      if (owner && s.phase === 'steady' && s.votes === 0 && !s.offGrace && isPoweredState(input.state))
        ensure(s, fx, 'offline');
      break;
    }
    case 'uevent':
      // Its own stop removes the processor's devices: that is no crash.
      if (s.op?.want === 'offline' && s.op.wait === 'stop') break;
      episode(s, fx, input.action === 'remove');
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

/** True when no operation is under way or on its way. */
export function coreIdle(s: ProcessorCore): boolean {
  return s.op === null && !s.scheduled;
}

/** Leaves the start or the grace: processors nobody claimed are stopped. */
function settle(s: ProcessorCore, fx: SupervisorEffect[]): void {
  s.phase = 'steady';
  if (s.votes === 0) ensure(s, fx, 'offline');
}

/** Enters or leaves a crash episode, telling lease holders once per edge. */
function episode(s: ProcessorCore, fx: SupervisorEffect[], crashed: boolean): void {
  if (s.crashed === crashed) return;
  s.crashed = crashed;
  fx.push({ type: 'notify', event: crashed ? 'processor.crashed' : 'processor.recovered' });
}

/** Records the wish; an idle executor acts on it later in this instant. */
function ensure(s: ProcessorCore, fx: SupervisorEffect[], want: Want): void {
  s.desired = want;
  if (s.op || s.scheduled) return;
  s.scheduled = true;
  fx.push({ type: 'defer' });
}

function log(
  fx: SupervisorEffect[],
  level: 'info' | 'warn',
  event: SupervisorLogEvent,
  data?: Record<string, string>,
  detail?: string,
) {
  fx.push({ type: 'log', level, event, ...(data ? { data } : {}), ...(detail ? { detail } : {}) });
}

/** What an executor step does next. */
type Next =
  | { call: SupervisorCall; op: SupervisorOp }
  | { adopt: string }
  /** `bare`: a start without writing `firmware` first (the processor is not offline: shared, attach). */
  | { start: true | 'bare' }
  | { done: Want };

/** Applies `next`: makes the call, adopts, starts, or ends the operation. */
function apply(s: ProcessorCore, fx: SupervisorEffect[], next: Next): void {
  if ('call' in next) {
    s.op = next.op;
    fx.push({ type: 'call', call: next.call });
  } else if ('adopt' in next) {
    log(fx, 'info', 'adopt', { state: next.adopt });
    s.holds = true;
    s.inherited = false;
    if (isRunningState(next.adopt)) markUp(s, fx);
    apply(s, fx, { done: 'running' });
  } else if ('start' in next) {
    if (s.firmware && next.start !== 'bare') {
      apply(s, fx, {
        op: { want: 'running', wait: 'set-firmware' },
        call: { op: 'write-firmware', name: s.firmware },
      });
    } else {
      log(fx, 'info', 'start');
      apply(s, fx, { op: { want: 'running', wait: 'start' }, call: { op: 'start' } });
    }
  } else {
    // The operation ends; a wish that changed meanwhile is acted on next.
    s.op = null;
    if (s.desired && s.desired !== next.done) ensure(s, fx, s.desired);
  }
}

/** Starts the operation towards the latest wish. */
function act(config: SupervisorConfig, s: ProcessorCore, fx: SupervisorEffect[]): void {
  const want = s.desired;
  if (!want || s.op) return;
  // One reference per processor: a `start` on 5.19 would stack a second one, even mid-recovery.
  if (want === 'running' && s.holds) {
    if (!s.crashed) markUp(s, fx);
    apply(s, fx, { done: want });
  }
  // Not the owner and no reference of ours: there is nothing of ours to drop.
  else if (want === 'offline' && policyOf(config) !== 'exclusive' && !s.holds && !s.inherited) {
    s.borrowed = false;
    apply(s, fx, { done: want });
    letGo(config, s, fx);
  } else if (want === 'running') apply(s, fx, { op: { want, wait: 'read' }, call: { op: 'state' } });
  else {
    s.up = false;
    apply(s, fx, { op: { want, wait: 'read', attempts: 0 }, call: { op: 'state' } });
  }
}

const stateOf = (r: SupervisorAnswer): string => (r.ok ? String(r.value) : 'gone');

function answer(
  config: SupervisorConfig,
  s: ProcessorCore,
  fx: SupervisorEffect[],
  r: SupervisorAnswer,
): void {
  const op = s.op;
  if (!op) return;
  apply(s, fx, op.want === 'running' ? bringUp(config, s, fx, op, r) : bringDown(config, s, fx, op, r));
  if (!s.op) letGo(config, s, fx);
}

/** An operation of shared/attach ended without a reference of ours: let go of the descriptor. */
function letGo(config: SupervisorConfig, s: ProcessorCore, fx: SupervisorEffect[]): void {
  if (policyOf(config) !== 'exclusive' && !s.holds) fx.push({ type: 'let-go' });
}

const up = (wait: Extract<SupervisorOp, { want: 'running' }>['wait'], c: SupervisorCall): Next => ({
  op: { want: 'running', wait },
  call: c,
});

function bringUp(
  config: SupervisorConfig,
  s: ProcessorCore,
  fx: SupervisorEffect[],
  op: Extract<SupervisorOp, { want: 'running' }>,
  r: SupervisorAnswer,
): Next {
  switch (op.wait) {
    case 'read': {
      const state = stateOf(r);
      const policy = policyOf(config);
      // An inherited descriptor's processor, powered, is adopted as an exclusive owner adopts.
      if (s.inherited && !isPoweredState(state)) s.inherited = false;
      if (policy !== 'exclusive' && !s.inherited) return ownStart(policy, s, fx, state);
      if (state === 'crashed') return { adopt: state };
      if (!isRunningState(state)) return { start: true };
      // `state` reads running while a stop is under way (a dead daemon's release, say): wait for the
      // lock with a call that does nothing to a healthy processor (§3.3), then look again.
      return s.noRecovery ? up('fw-read', { op: 'read-firmware' }) : up('barrier', { op: 'recover' });
    }
    case 'barrier':
      // No sysfs `recovery` before v5.10: the `firmware` store takes the lock too, and rewriting the same
      // name is harmless.
      if (!r.ok && r.error.code === 'ENOENT') {
        s.noRecovery = true;
        return up('fw-read', { op: 'read-firmware' });
      }
      return up('reread', { op: 'state' });
    case 'fw-read':
      // `unknown`: an attached processor, whose firmware cannot be written (nor is a stop under way).
      if (r.ok && r.value !== 'unknown')
        return up('fw-write', { op: 'write-firmware', name: String(r.value) });
      return up('reread', { op: 'state' });
    case 'fw-write':
      return up('reread', { op: 'state' });
    case 'reread': {
      const state = stateOf(r);
      if (isRunningState(state) || state === 'crashed') return { adopt: state };
      s.inherited = false;
      return { start: true };
    }
    case 'set-firmware':
      log(fx, 'info', 'start');
      return up('start', { op: 'start' });
    case 'start':
      if (!r.ok && r.error.code === 'EBUSY' && policyOf(config) !== 'exclusive') {
        // Someone else runs it and the kernel (before 5.19) refuses a second start: usable, not ours.
        s.borrowed = true;
        log(fx, 'info', 'borrow', { errno: r.error.code }, r.error.detail);
        markUp(s, fx);
      } else if (!r.ok) {
        log(fx, 'warn', 'start-failed', { errno: r.error.code }, r.error.detail);
        failWaiting(s, fx, r.error);
      } else {
        s.holds = true;
        if (r.value === 'offline') log(fx, 'warn', 'wedged');
        // Usable once it runs: a wedged one may still come up (a poll sees it) until the boot timeout.
        if (isRunningState(String(r.value))) markUp(s, fx);
      }
      return { done: 'running' };
  }
}

function bringDown(
  config: SupervisorConfig,
  s: ProcessorCore,
  fx: SupervisorEffect[],
  op: Extract<SupervisorOp, { want: 'offline' }>,
  r: SupervisorAnswer,
): Next {
  const read: Next = { op: { ...op, wait: 'read' }, call: { op: 'state' } };
  if (op.wait === 'recover') {
    if (r.ok) return read;
    if (r.error.code === 'ENOENT') s.noRecovery = true;
    log(fx, 'warn', 'cannot-stop', { state: 'crashed', errno: r.error.code }, r.error.detail);
    return { done: 'offline' };
  }
  if (op.wait === 'detach') {
    // A detach-only driver's EINVAL (or any refusal) is final: attach never stops, nor retries.
    // Either way no reference is kept: a failed detach leaves the core to its bootloader's owner.
    s.holds = false;
    if (!r.ok) log(fx, 'warn', 'detach-failed', { errno: r.error.code }, r.error.detail);
    return { done: 'offline' };
  }
  const policy = policyOf(config);
  if (op.wait === 'stop') {
    if (!r.ok) log(fx, 'warn', 'stop-failed', { errno: r.error.code }, r.error.detail);
    // shared: one successful stop drops our one reference; what stays powered is someone else's.
    else if (policy === 'shared') {
      s.holds = false;
      return { done: 'offline' };
    }
    return read;
  }
  const state = stateOf(r);
  if (!isPoweredState(state)) s.holds = false;
  // An inherited descriptor's powered processor: the reference is ours, and this stop drops it.
  else if (s.inherited) s.holds = true;
  s.inherited = false;
  if (!isPoweredState(state) || s.desired !== 'offline') return { done: 'offline' };
  if (op.attempts >= MAX_STOP_ATTEMPTS) return { done: 'offline' };
  const attempts = op.attempts + 1;
  if (policy === 'attach') {
    log(fx, 'info', 'detach');
    return { op: { want: 'offline', wait: 'detach', attempts }, call: { op: 'detach' } };
  }
  if (state === 'crashed') {
    if (!config.recoverCrashed || s.noRecovery) {
      log(fx, 'warn', 'cannot-stop', { state });
      return { done: 'offline' };
    }
    log(fx, 'info', 'recover-to-stop');
    return { op: { want: 'offline', wait: 'recover', attempts }, call: { op: 'recover' } };
  }
  log(fx, 'info', 'stop');
  return { op: { want: 'offline', wait: 'stop', attempts }, call: { op: 'stop' } };
}

/**
 * shared and attach bring a processor up with a reference of their own: `start` (which attaches a
 * DETACHED one, and stacks on a running one from 5.19). Only an offline processor gets `firmware`
 * written first; attach never boots one (it has no bootloader core to attach to).
 */
function ownStart(policy: ProcessorPolicy, s: ProcessorCore, fx: SupervisorEffect[], state: string): Next {
  if (policy === 'attach' && (state === 'offline' || state === 'gone')) {
    const detail = `attach: the processor is ${state}, not started by a bootloader`;
    log(fx, 'warn', 'start-failed', { errno: 'EINVAL' }, detail);
    failWaiting(s, fx, { code: 'EINVAL', op: 'attach', detail });
    return { done: 'running' };
  }
  return { start: state === 'offline' || state === 'gone' ? true : 'bare' };
}
