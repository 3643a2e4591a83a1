// The remoteproc core's decisions under `rproc->lock`, as pure functions of the context (kernel-semantics §1.2, §2, §3).

import { fail, ok, type Result } from './errno.js';
import { isRunningState } from './powered.js';
import { profileFeatures } from './profile.js';
import type { CoreCall, CoreStep, KernelState, RprocContext } from './rprocTypes.js';

/** What the lock holder does: a context patch, the step to take, and the return value if it is known now. */
export interface CorePlan {
  patch: Partial<RprocContext>;
  step: CoreStep;
  /** Set when the call returns without a timed step. */
  reply?: Result;
}

/** The id of calls the kernel makes for itself (auto-boot, the crash worker's recovery, release). */
export const KERNEL_CALL_ID = -1;

/**
 * `rproc_boot`: ENODEV if deleted (after the 2026 changes: once removed, whatever the state); +1; boot
 * (or attach) only on the 0→1 edge; roll back on failure.
 */
function boot(ctx: RprocContext): CorePlan {
  const gone = profileFeatures(ctx.profile).deletedState ? ctx.state === 'deleted' : ctx.removed;
  if (gone) return { patch: {}, step: 'idle', reply: fail('ENODEV', 'rproc_boot') };
  const power = ctx.power + 1;
  // "skip the boot or attach process if rproc is already powered up": no look at the state.
  if (power > 1) return { patch: { power }, step: 'idle', reply: ok() };
  if (ctx.state === 'detached') return { patch: { power }, step: 'attaching' };
  if (ctx.options.firmwareMissing) {
    return {
      patch: {},
      step: 'idle',
      reply: fail('ENOENT', 'rproc_boot', `request_firmware failed: ${ctx.firmware}`),
    };
  }
  return { patch: { power }, step: 'booting' };
}

/**
 * `rproc_shutdown`: since 5.19 EINVAL unless running/attached (or, after the 2026 changes, crashed); −1;
 * stop only when the count reaches 0.
 */
function shutdown(ctx: RprocContext): CorePlan {
  const f = profileFeatures(ctx.profile);
  const accepted = isRunningState(ctx.state) || (f.crashedShutdown && ctx.state === 'crashed');
  if (!f.layerStateChecks && !accepted) {
    return { patch: {}, step: 'idle', reply: fail('EINVAL', 'rproc_shutdown', `state is ${ctx.state}`) };
  }
  // atomic_dec_and_test: anything but exactly 0 returns at once (a redundant shutdown goes negative).
  const power = ctx.power - 1;
  if (power !== 0) return { patch: { power }, step: 'idle', reply: ok() };
  if (!ctx.options.canStop)
    return { patch: {}, step: 'idle', reply: fail('EINVAL', 'rproc_stop', 'no ops->stop') };
  return { patch: { power }, step: 'stopping' };
}

/** `rproc_detach`: since 5.19 EINVAL unless attached; −1; detach only at 0; EINVAL without `ops->detach`. */
function detach(ctx: RprocContext): CorePlan {
  if (!profileFeatures(ctx.profile).layerStateChecks && ctx.state !== 'attached') {
    return { patch: {}, step: 'idle', reply: fail('EINVAL', 'rproc_detach', `state is ${ctx.state}`) };
  }
  const power = ctx.power - 1;
  if (power !== 0) return { patch: { power }, step: 'idle', reply: ok() };
  if (!ctx.options.canDetach) {
    return { patch: {}, step: 'idle', reply: fail('EINVAL', 'rproc_detach', 'no ops->detach') };
  }
  return { patch: { power }, step: 'detaching' };
}

/** `rproc_trigger_recovery`: nothing unless crashed; boot-style or attach-style; errors are swallowed. */
function recover(ctx: RprocContext): CorePlan {
  if (ctx.state !== 'crashed') return { patch: {}, step: 'idle', reply: ok() };
  const attachStyle = ctx.options.attachOnRecovery && profileFeatures(ctx.profile).attachOnRecovery;
  if (attachStyle) {
    return ctx.options.canDetach
      ? { patch: {}, step: 'recoverDetach' }
      : { patch: {}, step: 'idle', reply: ok() };
  }
  // rproc_stop(crashed=true) failing leaves the processor crashed; `recover` may retry (§3.4).
  return ctx.options.canStop ? { patch: {}, step: 'recoverStop' } : { patch: {}, step: 'idle', reply: ok() };
}

/**
 * `rproc_crash_handler_work`: ignore when crashed or offline; else mark crashed and queue recovery.
 * Before the 2026 changes nothing checked for DELETED, so a crash after unbind overwrote it (and a
 * recovery could bring the removed processor back); after them `rproc_report_crash` drops it.
 */
function crashWork(ctx: RprocContext, call: CoreCall): CorePlan {
  const dropped = !profileFeatures(ctx.profile).deletedState && ctx.removed;
  if (ctx.state === 'crashed' || ctx.state === 'offline' || dropped) {
    return { patch: {}, step: 'idle', reply: ok() };
  }
  const patch: Partial<RprocContext> = {
    state: 'crashed',
    crashCount: ctx.crashCount + 1,
    lastCrash: call.reason ?? 'unknown',
  };
  // The worker drops the lock before rproc_trigger_recovery takes it again: waiters already queued go first.
  if (!ctx.recoveryDisabled) patch.waiters = [...ctx.waiters, { id: KERNEL_CALL_ID, op: 'recover' }];
  return { patch, step: 'idle', reply: ok() };
}

/**
 * `rproc_del`: one `rproc_shutdown` (before v5.13 only for auto-boot processors), then DELETED (before
 * the 2026 changes; after them the state stays). The device is removed either way.
 */
function del(ctx: RprocContext): CorePlan {
  const f = profileFeatures(ctx.profile);
  const shutsDown = f.delAlwaysShutsDown || ctx.options.autoBoot;
  const plan: CorePlan = shutsDown ? shutdown(ctx) : { patch: {}, step: 'idle' };
  if (plan.step === 'stopping') return { ...plan, patch: { ...plan.patch, removed: true } };
  const state = f.deletedState ? { state: 'deleted' as const } : {};
  return { patch: { ...plan.patch, ...state, removed: true }, step: 'idle', reply: ok() };
}

/** `rproc_set_firmware` (v5.9: `firmware_store`) under the lock: EBUSY unless offline, then EINVAL if empty. */
function setFirmware(ctx: RprocContext, call: CoreCall): CorePlan {
  if (ctx.state !== 'offline') {
    return {
      patch: {},
      step: 'idle',
      reply: fail('EBUSY', 'rproc_set_firmware', "can't change firmware while running"),
    };
  }
  if (!call.firmware) {
    return {
      patch: {},
      step: 'idle',
      reply: fail('EINVAL', 'rproc_set_firmware', "can't provide empty string for firmware name"),
    };
  }
  return { patch: { firmware: call.firmware }, step: 'idle', reply: ok() };
}

/**
 * `rmmod` of the platform driver: `rproc_del` of a processor still registered (the driver's remove
 * runs with its code still loaded), then its ops are gone.
 */
function unload(ctx: RprocContext): CorePlan {
  const plan: CorePlan = ctx.removed ? { patch: {}, step: 'idle', reply: ok() } : del(ctx);
  return { ...plan, patch: { ...plan.patch, driverGone: true } };
}

/** The driver op each timed step runs. */
const DRIVER_OP: Partial<Record<CoreStep, string>> = {
  booting: 'ops->start',
  attaching: 'ops->attach',
  stopping: 'ops->stop',
  detaching: 'ops->detach',
  recoverStop: 'ops->stop',
  recoverDetach: 'ops->detach',
};

/**
 * Plans the call that has just taken the lock. Once the driver's module is unloaded, a call that would
 * run one of its ops (on 7.3: a stale descriptor's `stop`, or a flagged release, of a removed processor
 * that still reads running) is a kernel Oops on a real kernel: the twin runs nothing, counts it in
 * `oopses` and answers EIO with the detail `kernel Oops: …` (the document's result says `oops`).
 */
export function planCall(ctx: RprocContext, call: CoreCall): CorePlan {
  const plan = planLocked(ctx, call);
  const op = DRIVER_OP[plan.step];
  if (!ctx.driverGone || op === undefined) return plan;
  return {
    patch: { oopses: ctx.oopses + 1 },
    step: 'idle',
    reply: fail('EIO', call.op, `kernel Oops: ${op} of an unloaded driver module`),
  };
}

function planLocked(ctx: RprocContext, call: CoreCall): CorePlan {
  switch (call.op) {
    case 'unload':
      return unload(ctx);
    case 'boot':
      return boot(ctx);
    case 'shutdown':
      return shutdown(ctx);
    case 'detach':
      return detach(ctx);
    case 'recover':
      return recover(ctx);
    case 'crash':
      return crashWork(ctx, call);
    case 'del':
      return del(ctx);
    case 'setFirmware':
      return setFirmware(ctx, call);
  }
}

/** The state an attach ends in: ATTACHED, or RUNNING before v5.13 (kernel-semantics §6). */
export function attachedStateOf(ctx: RprocContext): KernelState {
  return profileFeatures(ctx.profile).attachedState ? 'attached' : 'running';
}
