// machines/rproc: the kernel's remoteproc core as an XState v5 machine. Pure: no I/O, no timers of its own.
//
// The machine's states say what the holder of `rproc->lock` is doing (`idle`, `booting`, `stopping`,
// `recovering.*` …); `context.state` is `rproc->state` itself, set exactly where the kernel sets it, so
// that a lock-free `state` read sees the same transients a poller sees on a board (kernel-semantics §3.3).

import { enqueueActions, setup } from 'xstate';
import { ok } from './errno.js';
import { profileFeatures } from './profile.js';
import { attachedStateOf, type CorePlan, KERNEL_CALL_ID, planCall } from './rprocCore.js';
import {
  type CoreStep,
  DEVCD_TIMEOUT_MS,
  type KernelState,
  type RprocContext,
  type RprocEmitted,
  type RprocEvent,
  type RprocInput,
} from './rprocTypes.js';

/** The context a processor has right after `rproc_add`, before any auto-boot. */
export function initialRprocContext({ profile, options }: RprocInput): RprocContext {
  return {
    profile,
    options,
    state: options.initial,
    removed: false,
    driverGone: false,
    oopses: 0,
    power: 0,
    firmware: options.firmware,
    recoveryDisabled: options.recovery === 'disabled',
    coredump: options.coredump,
    shutdownOnRelease: false,
    autonomous: options.initial === 'detached',
    crashCount: 0,
    lastCrash: null,
    dumps: 0,
    failedRecoveries: 0,
    // auto_boot: rproc_add calls rproc_boot once; that reference belongs to no process (§2).
    waiters: options.autoBoot ? [{ id: KERNEL_CALL_ID, op: 'boot' }] : [],
    holder: null,
    step: 'idle',
  };
}

/** The option that gives each timed step's duration. */
const DURATION = { boot: 'bootMs', stop: 'stopMs', attach: 'attachMs' } as const;

/**
 * A state whose step takes `delay` (a delay of the machine, read from the options) and then goes to
 * `target` with `actions`; a zero duration completes in the same step, with no timer.
 */
function timed<const T extends string, const A>(delay: keyof typeof DURATION, target: T, actions: A) {
  return {
    always: { target, actions, guard: { type: 'instant', params: { ms: DURATION[delay] } } },
    after: { [delay]: { target, actions } } as { [K in keyof typeof DURATION]?: { target: T; actions: A } },
  } as const;
}

/**
 * The remoteproc core of one processor. Send `rproc.call` for every core function that takes the lock
 * (they queue, first come first served, as on the kernel mutex); listen for `rproc.reply` to learn each
 * call's return value. Provide a clock to the actor: durations come from `options.bootMs`, `stopMs` and
 * `attachMs`.
 *
 * @example
 * const actor = createActor(rprocMachine, { input: { profile: '5.19', options }, clock });
 * actor.on('rproc.reply', (e) => console.log(e.id, e.result));
 * actor.start();
 * actor.send({ type: 'rproc.call', call: { id: 1, op: 'boot' } });
 */
export const rprocMachine = setup({
  types: {
    context: {} as RprocContext,
    events: {} as RprocEvent,
    input: {} as RprocInput,
    emitted: {} as RprocEmitted,
  },
  delays: {
    boot: ({ context }) => context.options.bootMs,
    stop: ({ context }) => context.options.stopMs,
    attach: ({ context }) => context.options.attachMs,
    devcd: DEVCD_TIMEOUT_MS,
  },
  guards: {
    hasWaiter: ({ context }) => context.waiters.length > 0,
    stepIs: ({ context }, params: { step: CoreStep }) => context.step === params.step,
    dumpDone: ({ context }) => context.coredump !== 'inline',
    firmwareMissing: ({ context }) => context.options.firmwareMissing,
    isRunning: ({ context }) => context.state === 'running',
    isSuspended: ({ context }) => context.state === 'suspended',
    /** A zero duration completes in the same step, with no timer: `rproc_add` attaches synchronously. */
    instant: ({ context }, params: { ms: 'bootMs' | 'stopMs' | 'attachMs' }) =>
      context.options[params.ms] === 0,
  },
  actions: {
    enqueue: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === 'rproc.call') enqueue.assign({ waiters: [...context.waiters, event.call] });
    }),
    set: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'rproc.set') return;
      const { type: _type, ...patch } = event;
      enqueue.assign(patch);
    }),
    takeLock: enqueueActions(({ context, enqueue }) => {
      const [holder, ...waiters] = context.waiters;
      if (!holder) return;
      const plan: CorePlan = planCall({ ...context, waiters }, holder);
      enqueue.assign({ waiters, ...plan.patch, holder, step: plan.step });
      if (plan.reply) enqueue.emit({ type: 'rproc.reply', id: holder.id, op: holder.op, result: plan.reply });
    }),
    dropLock: enqueueActions(({ enqueue }) => enqueue.assign({ holder: null, step: 'idle' })),
    /** The holder's timed step is over: set the state it ends in and return 0 to the caller. */
    finish: enqueueActions(
      ({ context, enqueue }, params: { state: 'running' | 'attached' | 'offline' | 'detached' }) => {
        let state = params.state === 'attached' ? attachedStateOf(context) : params.state;
        const removing = context.holder?.op === 'del' || context.holder?.op === 'unload';
        if (removing && profileFeatures(context.profile).deletedState) state = 'deleted';
        // rproc_stop clears `autonomous`.
        enqueue.assign(params.state === 'offline' ? { state, autonomous: false } : { state });
        if (params.state === 'offline') enqueue.emit({ type: 'rproc.uevent', action: 'remove' });
        if (params.state === 'running') enqueue.emit({ type: 'rproc.uevent', action: 'add' });
        if (context.holder) {
          enqueue.emit({ type: 'rproc.reply', id: context.holder.id, op: context.holder.op, result: ok() });
        }
      },
    ),
    setState: enqueueActions(({ enqueue }, params: { state: KernelState }) =>
      enqueue.assign({ state: params.state }),
    ),
    stoppedForRecovery: enqueueActions(({ enqueue }) => {
      enqueue.assign({ state: 'offline', autonomous: false });
      enqueue.emit({ type: 'rproc.uevent', action: 'remove' });
    }),
    takeDump: enqueueActions(({ context, enqueue }) => {
      if (context.coredump !== 'disabled') enqueue.assign({ dumps: context.dumps + 1 });
    }),
    /** Firmware load failed after the stop step: OFFLINE with the count untouched (§3.4); the caller sees 0. */
    wedge: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ failedRecoveries: context.failedRecoveries + 1 });
      if (context.holder) {
        enqueue.emit({ type: 'rproc.reply', id: context.holder.id, op: context.holder.op, result: ok() });
      }
    }),
  },
}).createMachine({
  id: 'rproc',
  context: ({ input }) => initialRprocContext(input),
  initial: 'idle',
  on: {
    'rproc.call': { actions: 'enqueue' },
    'rproc.set': { actions: 'set' },
    // Platform drivers move RUNNING <-> SUSPENDED around system suspend; the core never does (§1.1).
    'rproc.suspend': { guard: 'isRunning', actions: { type: 'setState', params: { state: 'suspended' } } },
    'rproc.resume': { guard: 'isSuspended', actions: { type: 'setState', params: { state: 'running' } } },
  },
  states: {
    idle: {
      entry: 'dropLock',
      always: { guard: 'hasWaiter', target: 'dispatch' },
    },
    dispatch: {
      entry: 'takeLock',
      always: [
        { guard: { type: 'stepIs', params: { step: 'booting' } }, target: 'booting' },
        { guard: { type: 'stepIs', params: { step: 'attaching' } }, target: 'attaching' },
        { guard: { type: 'stepIs', params: { step: 'stopping' } }, target: 'stopping' },
        { guard: { type: 'stepIs', params: { step: 'detaching' } }, target: 'detaching' },
        { guard: { type: 'stepIs', params: { step: 'recoverStop' } }, target: 'recovering.stopping' },
        { guard: { type: 'stepIs', params: { step: 'recoverDetach' } }, target: 'recovering.detaching' },
        { target: 'idle' },
      ],
    },
    booting: timed('boot', 'idle', { type: 'finish', params: { state: 'running' } }),
    attaching: timed('attach', 'idle', { type: 'finish', params: { state: 'attached' } }),
    stopping: timed('stop', 'idle', { type: 'finish', params: { state: 'offline' } }),
    detaching: timed('attach', 'idle', { type: 'finish', params: { state: 'detached' } }),
    recovering: {
      initial: 'stopping',
      states: {
        stopping: timed('stop', 'dumping', 'stoppedForRecovery'),
        dumping: {
          entry: 'takeDump',
          always: { guard: 'dumpDone', target: 'loading' },
          on: { 'rproc.coredump.free': 'loading' },
          after: { devcd: 'loading' },
        },
        loading: {
          always: [
            { guard: 'firmwareMissing', target: '#rproc.idle', actions: 'wedge' },
            { target: 'starting' },
          ],
        },
        starting: timed('boot', '#rproc.idle', { type: 'finish', params: { state: 'running' } }),
        detaching: timed('attach', 'attaching', { type: 'setState', params: { state: 'detached' } }),
        attaching: timed('attach', '#rproc.idle', { type: 'finish', params: { state: 'attached' } }),
      },
    },
  },
});

/** The logic type of {@link rprocMachine}. */
export type RprocLogic = typeof rprocMachine;
