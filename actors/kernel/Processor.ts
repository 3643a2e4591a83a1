// Processor: one remoteproc device of the twin: an rproc machine actor and the calls waiting on its lock.

import { type Actor, createActor, type InspectionEvent } from 'xstate';
import { fail, ok, type Result } from '../../machines/errno.js';
import { type KernelProfile, profileFeatures } from '../../machines/profile.js';
import { rprocMachine } from '../../machines/rprocMachine.js';
import type { CoreCall, CoreOp, RprocContext, RprocOptions } from '../../machines/rprocTypes.js';
import type { TwinClock } from '../VirtualClock.js';
import { PendingCall } from './PendingCall.js';

/** `remoteprocN`: the device name of the processor at index N. */
export const deviceName = (index: number): string => `remoteproc${index}`;

const DEVICE = /^remoteproc(\d+)$/;

/** The index of a `remoteprocN` name, or undefined. */
export function deviceIndex(device: string): number | undefined {
  const m = DEVICE.exec(device);
  return m ? Number(m[1]) : undefined;
}

/** The fields userspace stores without `rproc->lock`. */
type LockFreeField = 'recoveryDisabled' | 'coredump' | 'shutdownOnRelease';
type LockFreePatch = Partial<Pick<RprocContext, LockFreeField>>;

/** One processor of the twin: `remoteproc<index>`, driven through core calls. */
export class Processor {
  readonly index: number;
  readonly profile: KernelProfile;
  readonly actor: Actor<typeof rprocMachine>;
  #nextId = 1;
  #pending = new Map<number, PendingCall>();
  /** Lock-free stores sent to the actor and not yet in its snapshot (see {@link set}). */
  #unapplied: LockFreePatch | undefined;

  constructor(
    index: number,
    profile: KernelProfile,
    options: RprocOptions,
    clock: TwinClock,
    inspect?: (event: InspectionEvent) => void,
  ) {
    this.index = index;
    this.profile = profile;
    this.actor = createActor(rprocMachine, {
      input: { profile, options },
      clock,
      id: deviceName(index),
      ...(inspect ? { inspect } : {}),
    });
    this.actor.on('rproc.reply', (e) => {
      const call = this.#pending.get(e.id);
      if (!call) return;
      this.#pending.delete(e.id);
      call.settle(e.result);
    });
    this.actor.start();
  }

  /** `remoteproc<index>`. */
  get device(): string {
    return deviceName(this.index);
  }

  /** The driver-given name. */
  get name(): string {
    return this.context.options.name;
  }

  /** `struct rproc` as the model holds it now, with lock-free fields {@link set} and not yet applied. */
  get context(): RprocContext {
    const context = this.actor.getSnapshot().context;
    const unapplied = this.#unapplied;
    if (unapplied === undefined) return context;
    if ((Object.keys(unapplied) as LockFreeField[]).every((k) => context[k] === unapplied[k])) {
      this.#unapplied = undefined;
      return context;
    }
    return { ...context, ...unapplied };
  }

  /** Calls a core function that takes `rproc->lock`; settles with its return value. */
  call(op: CoreOp, extra: Omit<CoreCall, 'id' | 'op'> = {}): PendingCall<undefined> {
    const id = this.#nextId++;
    const pending = new PendingCall<undefined>();
    this.#pending.set(id, pending);
    this.actor.send({ type: 'rproc.call', call: { id, op, ...extra } });
    return pending;
  }

  /**
   * Sets fields userspace changes without the lock (`recovery_disabled`, `dump_conf`,
   * `cdev_put_on_release`). A store is a plain write in the kernel, seen by the next reader at once:
   * when it comes from inside the actor's own step (a reply's listener that does an ioctl), XState
   * queues the event until that step ends, so {@link context} shows the patch until the actor has it —
   * otherwise a close right after a cleared flag read it still set and shut the processor down.
   */
  set(patch: LockFreePatch): void {
    this.#unapplied = { ...this.#unapplied, ...patch };
    this.actor.send({ type: 'rproc.set', ...patch });
  }
}

/**
 * What the sysfs and cdev layers of v4.10–v5.18 checked, without the lock, before calling the core:
 * the processor is RUNNING (or ATTACHED, once that state exists).
 */
function layerRunning(p: Processor): boolean {
  const s = p.context.state;
  return s === 'running' || (profileFeatures(p.profile).attachedState && s === 'attached');
}

/** A call's result with its error's `op` renamed to what userspace called. */
function asUserOp<T>(result: Result<T>, op: string): Result<T> {
  return result.ok ? result : { ok: false, error: { ...result.error, op } };
}

/** A write that returns `count` bytes once `call` has returned successfully (or whatever it returned). */
export function written(
  call: PendingCall,
  op: string,
  count: number,
  ignoreError = false,
): PendingCall<number> {
  return call.map((r): Result<number> => (r.ok || ignoreError ? ok(count) : asUserOp(r, op)));
}

/**
 * A `start`, `stop` or `detach` written to sysfs `state` or to the cdev (`op` says which): the same
 * layer checks (v4.10–v5.18, without the lock, kernel-semantics §2, §4, §5), then the core call.
 * Settles with `count`, or the kernel's errno.
 */
export function layerCommand(
  p: Processor,
  cmd: 'start' | 'stop' | 'detach',
  op: string,
  count: number,
): PendingCall<number> {
  const f = profileFeatures(p.profile);
  const s = p.context.state;
  switch (cmd) {
    case 'start':
      if (f.layerStateChecks && layerRunning(p))
        return PendingCall.settled(fail('EBUSY', op, `state is ${s}`));
      return written(p.call('boot'), op, count);
    case 'stop':
      if (f.layerStateChecks && !layerRunning(p))
        return PendingCall.settled(fail('EINVAL', op, `state is ${s}`));
      return written(p.call('shutdown'), op, count, !f.shutdownReturnsError);
    case 'detach':
      if (f.layerStateChecks && s !== 'attached')
        return PendingCall.settled(fail('EINVAL', op, `state is ${s}`));
      return written(p.call('detach'), op, count);
  }
}
