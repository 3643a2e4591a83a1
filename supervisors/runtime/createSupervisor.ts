// createSupervisor: the production supervisor (hybrid or sysfs-monitor) on a real driver, in real time.

import type { InspectionEvent } from 'xstate';
import type { LeaseLostReason } from '../../actors/daemon/protocol.js';
import {
  deviceIndex,
  findProcessor,
  nodeError,
  type ObservedState,
  type ProcessorRef,
  type RprocDriver,
} from '../../actors/drivers/RprocDriver.js';
import { realClock } from '../../actors/RealClock.js';
import type { TwinClock } from '../../actors/VirtualClock.js';
import { admitLease, type CrashAction, type ProcessorPolicy } from '../../machines/corePolicy.js';
import { type Errno, fail, ok, type Result, type RprocError } from '../../machines/errno.js';
import { checkTtl, type LeaseEnd } from '../../machines/leaseMachine.js';
import { isPoweredState } from '../../machines/powered.js';
import type { CrashType } from '../../machines/rprocTypes.js';
import type {
  ReconcilePolicy,
  StopReason,
  SupervisorAnswer,
  SupervisorCall,
  SupervisorConfig,
  SupervisorLogEvent,
} from '../../machines/supervisorCore.js';
import {
  type Pending,
  type RunningSupervisor,
  runSupervisor,
  type SupervisorDriver,
} from '../runSupervisor.js';
import { type ProcessorSettings, type SupervisionConfig, settingsFor } from '../supervisorSettings.js';
import { type HotplugOptions, type HotplugSource, startHotplug } from './hotplug.js';
import { ProcessorWaiters } from './processorWaiters.js';

/** Options of {@link createSupervisor}. */
export interface SupervisorOptions {
  driver: RprocDriver;
  /** `hybrid` needs a driver that holds the device (cdev, sim). @default 'hybrid' */
  strategy?: 'hybrid' | 'sysfs-monitor';
  /** How often `state` is polled for crashes and recoveries. @default 250 */
  pollMs?: number;
  /** What to do with processors found powered at start: wait `graceMs` for clients, or stop them. @default 'adopt' */
  reconcile?: ReconcilePolicy;
  /** @default 2000 */
  graceMs?: number;
  /**
   * Per-processor settings (docs/config.md): policy, firmware, timings, crash limit. Without it every
   * processor is `shared` with the defaults ({@link SETTINGS_DEFAULTS}).
   */
  settings?: SupervisionConfig;
  /** @default real time */
  clock?: TwinClock;
  /** An XState inspection observer on the actor tree from its start (see {@link Supervisor.inspect}). */
  inspect?: (event: InspectionEvent) => void;
  /** Structured log lines. @default none */
  log?: (entry: { level: 'info' | 'warn'; msg: string; [k: string]: unknown }) => void;
  /**
   * Follow processors that appear or disappear (hotplug, docs/protocol.md): kernel uevents with
   * `netlink`, else a rescan of the driver's listing every `rescanMs`. @default none: the processors
   * listed at start only
   */
  hotplug?: HotplugOptions;
  /**
   * Devices whose descriptor the driver inherited from a previous incarnation (the service manager's fd
   * store, docs/systemd.md): each is adopted without a new start if powered, and stopped if no lease
   * wants it within `inheritedGraceMs` (the core's `inherited` rule).
   */
  inherited?: readonly string[];
  /** How long inherited processors wait for their leases to resume. @default 10000 */
  inheritedGraceMs?: number;
  /** The first number of `lease-N` ids given out (ids below it may be resumed by {@link AcquireOptions.id}). @default 1 */
  firstLeaseId?: number;
  /**
   * A processor passed its crash limit with action `exit`: the process should exit non-zero (the
   * daemon exits 70). @default a warning in the log, and nothing else
   */
  onExit?: (processor: string) => void;
}

/** Options of {@link Supervisor.acquire}. */
export interface AcquireOptions {
  /** Firmware to boot if the processor has to be started. */
  firmware?: string;
  /** Who holds the lease (shown by `status`). @default 'anonymous' */
  client?: string;
  /** The lease expires after this long without `ping()`. @default null (never) */
  ttlMs?: number | null;
  /** Recorded on the lease (the daemon passes the peer's credentials). */
  peer?: { pid: number; uid: number; gid: number };
  /** The lease's id, when it is free (a resumed lease keeps its id); else a new `lease-N`. */
  id?: string;
  /**
   * {@link Supervisor.acquire} only: wait this long for a processor that is not there yet (hotplug)
   * before ENODEV. @default 0 (ENODEV at once)
   */
  probeTimeoutMs?: number;
  /**
   * One listener for every event of the lease, in place before any can happen: what the daemon uses,
   * as it costs less per lease than an `on()` per event.
   */
  onEvent?: (event: LeaseEventName, detail: LeaseEventDetail) => void;
}

/**
 * What a lease event says: the processor, and for `lost` why, when the lease did not end by its own
 * holder's {@link Lease.lose} without a reason: `ttl-expired`, `daemon-gone` (the supervisor closed),
 * `processor-stopped`, `processor-removed` (the protocol's `lease.lost` reasons).
 */
export interface LeaseEventDetail {
  processor: string;
  /** For `lost`: why; for `processor.stopping`: why the stop comes; for `processor.failed`: `crash-limit`. */
  reason?: LeaseLostReason | StopReason | 'crash-limit';
  /** For `processor.stopping`: when the stop goes ahead at the latest, in ms since the epoch. */
  deadlineMs?: number;
  /** For `processor.failed`: the crash limit's action. */
  action?: CrashAction;
  /** For `failed`: the kernel's errno and detail of the failed boot (or ETIMEDOUT past `bootTimeoutMs`). */
  error?: { code: Errno; detail?: string };
}

/**
 * Events of a lease. `granted` comes once the processor runs or is attached (what `acquire` waits for);
 * `failed` instead when its boot failed (the lease is then ended, and no `lost` follows).
 */
export type LeaseEventName =
  | 'granted'
  | 'failed'
  | 'processor.crashed'
  | 'processor.recovered'
  | 'processor.stopping'
  | 'processor.failed'
  | 'lost';

/** A client's claim on a processor. `await using lease = await sup.acquire('m4')` releases it at scope end. */
export interface Lease extends AsyncDisposable {
  readonly id: string;
  readonly client: string;
  readonly processor: ProcessorRef;
  readonly since: number;
  readonly peer?: { pid: number; uid: number; gid: number };
  /** `granted` until released, lost (its holder gone, the supervisor closed) or expired (TTL). */
  readonly state: 'granted' | LeaseEnd;
  on(event: LeaseEventName, listener: (detail: LeaseEventDetail) => void): () => void;
  /** A heartbeat: restarts the TTL. */
  ping(): void;
  /** Ends the lease; idempotent. The processor stops when its last lease ends. */
  release(): Promise<void>;
  /**
   * Ends the lease as lost: its holder is gone (the daemon calls this on a connection's EOF), or
   * `reason` says why (its `lost` event carries it).
   */
  lose(reason?: LeaseLostReason): void;
}

/** What `onEvent` reports: state changes seen by polling, crashes and recoveries. */
export type SupervisorEvent =
  | { event: 'processor.state'; processor: string; name: string; state: ObservedState }
  | { event: 'processor.crashed' | 'processor.recovered'; processor: string; name: string }
  /** A stop is announced (two-phase stop): it goes ahead by `deadlineMs` (ms since the epoch) at the latest. */
  | { event: 'processor.stopping'; processor: string; name: string; reason: StopReason; deadlineMs: number }
  /** The processor passed its crash limit (`action` follows). */
  | {
      event: 'processor.failed';
      processor: string;
      name: string;
      reason: 'crash-limit';
      action: CrashAction;
    };

/**
 * Who is told of an announced stop: a listener gets the stop (and the processor's live lease ids)
 * and returns the parties it told; each party's {@link Supervisor.ack} ends the wait early.
 */
export type StoppingListener = (
  e: Extract<SupervisorEvent, { event: 'processor.stopping' }>,
  leases: readonly string[],
) => readonly string[];

/** What `status()` returns. */
export interface SupervisorStatus {
  strategy: 'hybrid' | 'sysfs-monitor';
  processors: Array<{
    device: string;
    name: string;
    state: ObservedState | 'unknown';
    crashes: number;
    policy: ProcessorPolicy;
    /** Past its crash limit (`crashLimit`): acquire is refused until the supervisor restarts. */
    failed: boolean;
    /** `reference: false`: granted without a kernel reference of the supervisor's (shared, start EBUSY). */
    leases: Array<{ id: string; client: string; since: number; pid?: number; reference: boolean }>;
  }>;
  /**
   * Where processors that come and go are heard of (`none` without hotplug), and whether the supervisor
   * is waiting for one: hotplug is on and it has no processor.
   */
  hotplug: { source: HotplugSource; waiting: boolean };
}

/** The production supervisor. */
export interface Supervisor {
  /** Leases `processor` (`remoteprocN` or its name); rejects with an Error whose `code` is the errno. */
  acquire(processor: string, options?: AcquireOptions): Promise<Lease>;
  /** {@link Supervisor.acquire} as errno data: the lease, or why there is none (ENODEV …). */
  tryAcquire(processor: string, options?: AcquireOptions): Result<Lease>;
  status(): SupervisorStatus;
  /**
   * Injects a crash into `processor` (`remoteprocN` or its name), for tests: only on a driver that can
   * (sim); ENOTSUP on a board's (sysfs, cdev), ENODEV for an unknown processor.
   */
  crash(processor: string, reason?: CrashType): Promise<Result<ProcessorRef>>;
  /** Calls `listener` for every {@link SupervisorEvent}; returns an unsubscribe. */
  onEvent(listener: (e: SupervisorEvent) => void): () => void;
  /** Calls `listener` for every announced stop, to learn who must acknowledge it; returns an unsubscribe. */
  onStopping(listener: StoppingListener): () => void;
  /**
   * Party `party` (one a {@link StoppingListener} returned) acknowledges the announced stop of
   * `processor`; `pending`: the stop waited for it (when every party has, the stop goes ahead).
   * ENODEV for an unknown processor.
   */
  ack(processor: string, party: string): Result<{ device: string; pending: boolean }>;
  /**
   * Announces the shutdown: a processor whose stop it brings is told (`processor.stopping`, reason
   * `shutdown`), and this resolves when every such stop may go ahead (acknowledged, or after its
   * `stopAckTimeoutMs`). {@link Supervisor.close} does it first; the daemon does it before it closes
   * its connections, so that their holders can still acknowledge.
   */
  announceShutdown(): Promise<void>;
  /**
   * The processor called `ref`, now or once it appears within `timeoutMs` (hotplug); ENODEV when it
   * does not.
   */
  whenPresent(ref: string, timeoutMs: number): Promise<Result<ProcessorRef>>;
  /**
   * A processor appeared (hotplug calls this): it is supervised from now on, with its settings from
   * `settings` by its name, and acquires waiting for it go on. EBUSY if its device is there already.
   */
  addProcessor(ref: ProcessorRef): Result<ProcessorRef>;
  /**
   * A processor disappeared (hotplug calls this): no more calls go to it, its leases are lost
   * (`processor-removed`), and the driver lets go of its device (shutdown-on-release cleared first:
   * a flagged close of a removed processor's cdev may run a driver op that is gone, docs/abi.md).
   * ENODEV for an unknown device.
   */
  removeProcessor(device: string): Promise<Result<ProcessorRef>>;
  /**
   * Attaches an XState inspection observer (the inspector's feed) to the supervisor's actor tree: the
   * root, its processor actors and their lease actors, from now on. Returns the detach.
   */
  inspect(observer: (event: InspectionEvent) => void): () => void;
  /** Ends every lease (in reverse order), stops what nobody else holds, lets go of the driver. */
  close(): Promise<void>;
}

/** An Error carrying an errno `code`, as Node's own errors do. */
export class RprocSupervisorError extends Error {
  constructor(
    readonly code: Errno,
    message: string,
    /** `boot`: the lease was granted but the processor's boot failed (or timed out); absent for a refusal. */
    readonly during?: 'boot',
  ) {
    super(`${code}: ${message}`);
  }
}

/** The daemon's log message for each thing the core logs. */
const LOG_MESSAGES: Record<SupervisorLogEvent, string> = {
  adopt: 'adopt',
  start: 'start',
  'start-failed': 'start failed',
  wedged: 'wedged: start succeeded but the processor stays offline',
  stop: 'stop',
  'stop-failed': 'stop failed',
  'recover-to-stop': 'recover to stop',
  'cannot-stop': 'cannot stop a crashed processor',
  borrow: 'running without a reference of ours: the kernel refused a second start',
  detach: 'detach',
  'detach-failed': 'detach failed (final: attach never stops)',
  'off-grace': 'last holder died: keeping the processor for offGraceMs',
  stopping: 'stop announced: waiting for acknowledgements (stopAckTimeoutMs)',
  'crash-limit': 'crash limit passed: the processor is failed',
  'disable-recovery-failed': 'could not write recovery disabled',
  'stopped-by-other': 'stopped by someone else: its leases end (processor-stopped)',
};

/** The supervisor's calls on an {@link RprocDriver}: answered when its promise settles (never rejected). */
export function driverCalls(driver: RprocDriver): SupervisorDriver {
  const pending = (op: string, p: Promise<Result<unknown>>): Pending<SupervisorAnswer> => ({
    onSettled: (listener) => p.then(listener, (err: unknown) => listener(nodeError(err, op))),
  });
  return {
    letGo: (device) => void driver.letGo?.(device),
    call(device: string, c: SupervisorCall) {
      switch (c.op) {
        case 'state':
          return pending('state', driver.state(device));
        case 'start':
          return pending('start', driver.start(device));
        case 'stop':
          return pending('stop', driver.stop(device));
        case 'detach':
          return pending('detach', driver.detach(device));
        case 'recover':
          return pending('recovery', driver.setRecovery(device, 'recover'));
        case 'read-firmware':
          return pending('firmware', driver.read(device, 'firmware'));
        case 'write-firmware':
          return pending('firmware', driver.setFirmware(device, c.name));
        case 'disable-recovery':
          return pending('recovery', driver.setRecovery(device, 'disabled'));
      }
    },
  };
}

/** A lease as `acquire` hands it out: one object per lease, its methods shared. */
class LeaseHandle implements Lease {
  end: LeaseEnd | null = null;
  /** The processor ran for it (`granted` was emitted), or its boot failed. */
  usable = false;
  failure: RprocError | null = null;
  /** Why it was lost, when whoever ended it said so. */
  lostReason: LeaseLostReason | undefined;
  #listeners: Map<LeaseEventName, Set<(d: LeaseEventDetail) => void>> | null = null;
  #waiters: Array<{ resolve(l: Lease): void; reject(e: Error): void }> = [];

  constructor(
    readonly id: string,
    readonly client: string,
    readonly processor: ProcessorRef,
    readonly since: number,
    readonly peer: { pid: number; uid: number; gid: number } | undefined,
    private readonly onEvent: AcquireOptions['onEvent'],
    private readonly sup: RunningSupervisor,
  ) {}

  get state(): Lease['state'] {
    return this.end ?? 'granted';
  }

  /** The lease itself (status and the daemon read it as a {@link Lease}). */
  get lease(): Lease {
    return this;
  }

  emit(event: LeaseEventName, detail: LeaseEventDetail): void {
    this.onEvent?.(event, detail);
    const set = this.#listeners?.get(event);
    if (set) for (const l of set) l(detail);
  }

  on(event: LeaseEventName, listener: (detail: LeaseEventDetail) => void): () => void {
    this.#listeners ??= new Map();
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  /** The core said the processor runs for it: `granted`, and `acquire` resolves. */
  ready(): void {
    if (this.end || this.usable || this.failure) return;
    this.usable = true;
    this.emit('granted', { processor: this.processor.device });
    for (const w of this.#waiters.splice(0)) w.resolve(this);
  }

  /** The core said its boot failed: `failed`, `acquire` rejects with the errno; then the lease ends. */
  failed(error: RprocError): void {
    if (this.end || this.usable || this.failure) return;
    this.failure = error;
    this.emit('failed', {
      processor: this.processor.device,
      error: { code: error.code, ...(error.detail ? { detail: error.detail } : {}) },
    });
    const e = this.#bootError(error);
    for (const w of this.#waiters.splice(0)) w.reject(e);
    this.sup.send(this.processor.device, this.id, 'lease.release');
  }

  /** What `acquire` rejects with when the boot failed: the kernel's errno, `during: 'boot'`. */
  #bootError(error: RprocError): RprocSupervisorError {
    return new RprocSupervisorError(
      error.code,
      error.detail ?? `boot of ${this.processor.name} failed`,
      'boot',
    );
  }

  /** The lease ended: an acquire still waiting for it rejects. */
  ended(): void {
    const e = new RprocSupervisorError(
      'ENODEV',
      `lease ${this.id} ended (${this.end}) before ${this.processor.name} ran`,
    );
    for (const w of this.#waiters.splice(0)) w.reject(e);
  }

  /** Resolves once the lease is usable; rejects if its boot fails or it ends first. */
  whenUsable(): Promise<Lease> {
    if (this.usable) return Promise.resolve(this);
    if (this.failure) return Promise.reject(this.#bootError(this.failure));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  ping(): void {
    this.sup.send(this.processor.device, this.id, 'lease.heartbeat');
  }

  async release(): Promise<void> {
    this.sup.send(this.processor.device, this.id, 'lease.release');
  }

  lose(reason?: LeaseLostReason): void {
    if (this.end === null && reason) this.lostReason ??= reason;
    this.sup.send(this.processor.device, this.id, 'lease.lost');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

/**
 * Starts a supervisor: one vote per lease, the processor runs while any lease holds it and stops when the
 * last one ends. With `hybrid` the driver holds `/dev/remoteprocN` with shutdown-on-release, so if this
 * process dies the kernel stops the processor. It is the simulated monitor's supervisor (runSupervisor,
 * the same core and actor tree) on a real driver: every timer and deferral runs on `clock`.
 *
 * @example
 * const sup = await createSupervisor({ driver: createSimDriver({ processors: [{ name: 'm4' }] }) });
 * {
 *   await using lease = await sup.acquire('m4', { client: 'audio' });
 *   lease.on('processor.crashed', () => console.log('m4 crashed; it recovers on its own'));
 * } // released here
 * await sup.close();
 */
export async function createSupervisor(options: SupervisorOptions): Promise<Supervisor> {
  const { driver } = options;
  const strategy = options.strategy ?? 'hybrid';
  if (strategy === 'hybrid' && !driver.holdsDevice) {
    throw new RprocSupervisorError(
      'EINVAL',
      `hybrid needs a driver that holds /dev/remoteprocN (cdev or sim); the ${driver.kind} driver cannot, use sysfs-monitor`,
    );
  }
  const clock = options.clock ?? realClock;
  const logging = options.log !== undefined;
  const log = options.log ?? (() => {});
  const processors: ProcessorRef[] = await driver.list();
  // Only a processor found powered can be a previous incarnation's to adopt. With none (a first start,
  // or a hybrid daemon's restart after the kernel's release stopped everything), there is no grace
  // period to wait out: a lease that ends at once stops its processor at once.
  const found = await Promise.all(processors.map((p) => driver.state(p.device)));
  const adoptable = found.some((r) => !r.ok || isPoweredState(r.value));
  const states = new Map<string, ObservedState | 'unknown'>(processors.map((p) => [p.device, 'unknown']));
  const crashes = new Map<string, number>();
  const leases = new Map<string, LeaseHandle>();
  const leasesOn = new Map<string, Map<string, LeaseHandle>>();
  let nextLease = options.firstLeaseId ?? 1;
  const inherited = new Set(options.inherited ?? []);
  let closed = false;
  const eventListeners = new Set<(e: SupervisorEvent) => void>();
  const names = new Map(processors.map((p) => [p.device, p.name]));
  const nameOf = (device: string) => names.get(device) ?? device;
  const publish = (e: SupervisorEvent) => {
    for (const l of eventListeners) l(e);
  };

  const base: SupervisorConfig = {
    recoverCrashed: strategy === 'hybrid',
    reconcile: options.reconcile ?? 'adopt',
    graceMs: options.graceMs ?? 2000,
    restarted: adoptable,
  };
  const settings = new Map<string, ProcessorSettings>(
    processors.map((p) => [p.device, settingsFor(options.settings, p)]),
  );
  const settingsOf = (device: string) =>
    settings.get(device) ?? settingsFor(options.settings, { device, name: device });
  const configFor = (device: string): SupervisorConfig => {
    const s = settingsOf(device);
    return {
      ...base,
      policy: s.policy,
      bootTimeoutMs: s.bootTimeoutMs,
      offGraceMs: s.offGraceMs,
      stopAckTimeoutMs: s.stopAckTimeoutMs,
      ...(s.firmware ? { firmware: s.firmware } : {}),
      ...(inherited.has(device) ? { inherited: true, graceMs: options.inheritedGraceMs ?? 10_000 } : {}),
      ...(s.crashLimit ? { crashLimit: s.crashLimit } : {}),
    };
  };
  const waiters = new ProcessorWaiters(clock);
  const stoppingListeners = new Set<StoppingListener>();
  const sup = runSupervisor({
    processors: processors.map((p) => p.device),
    config: base,
    configFor,
    driver: driverCalls(driver),
    clock,
    ...(options.inspect ? { inspect: options.inspect } : {}),
    pollMs: options.pollMs ?? 250,
    onLog: (processor, e) =>
      log({
        level: e.level,
        msg: LOG_MESSAGES[e.event],
        processor,
        ...e.data,
        ...(e.detail ? { detail: e.detail } : {}),
      }),
    onNotify: (processor, event, ids) => {
      if (event === 'processor.crashed') crashes.set(processor, (crashes.get(processor) ?? 0) + 1);
      publish({ event, processor, name: nameOf(processor) });
      for (const id of ids) leases.get(id)?.emit(event, { processor });
    },
    // Told after this turn: the acquire that made the lease has returned it by then.
    onLeasesReady: (_processor, ids) =>
      queueMicrotask(() => {
        for (const id of ids) leases.get(id)?.ready();
      }),
    onLeasesFailed: (processor, ids, error) =>
      queueMicrotask(() => {
        for (const id of ids) {
          const r = leases.get(id);
          if (!r) continue;
          if (logging)
            log({
              level: 'warn',
              msg: 'boot failed',
              lease: id,
              processor,
              errno: error.code,
              ...(error.detail ? { detail: error.detail } : {}),
            });
          r.failed(error);
        }
      }),
    onLeaseEnd: (processor, id, end) => {
      const r = leases.get(id);
      if (!r) return;
      leases.delete(id);
      leasesOn.get(processor)?.delete(id);
      r.end = end;
      r.ended();
      const reason = end === 'expired' ? 'ttl-expired' : r.lostReason;
      // A lease whose boot failed was told `failed`, not `lost`.
      if (end !== 'released' && !r.failure) r.emit('lost', { processor, ...(reason ? { reason } : {}) });
      if (logging) log({ level: 'info', msg: `lease ${end}`, lease: id, client: r.lease.client, processor });
    },
    onStopping: (processor, reason, ms, ids) => {
      const deadlineMs = Math.round(performance.timeOrigin + clock.now() + ms);
      const e = {
        event: 'processor.stopping',
        processor,
        name: nameOf(processor),
        reason,
        deadlineMs,
      } as const;
      if (logging) log({ level: 'info', msg: 'processor.stopping', processor, reason, deadlineMs });
      publish(e);
      for (const id of ids) leases.get(id)?.emit('processor.stopping', { processor, reason, deadlineMs });
      return [...stoppingListeners].flatMap((l) => l(e, ids));
    },
    onLeasesLost: (_processor, ids, reason) => {
      for (const id of ids) {
        const r = leases.get(id);
        if (r && r.end === null) r.lostReason ??= reason;
      }
    },
    onFailed: (processor, action, ids) => {
      publish({
        event: 'processor.failed',
        processor,
        name: nameOf(processor),
        reason: 'crash-limit',
        action,
      });
      for (const id of ids)
        leases.get(id)?.emit('processor.failed', { processor, reason: 'crash-limit', action });
    },
    onExit: (processor) => {
      log({ level: 'warn', msg: 'crash limit: exit', processor });
      options.onExit?.(processor);
    },
    onPoll: (processor, state) => {
      if (states.get(processor) === state) return;
      states.set(processor, state as ObservedState);
      publish({
        event: 'processor.state',
        processor,
        name: nameOf(processor),
        state: state as ObservedState,
      });
    },
  });

  let announced: Promise<void> | null = null;
  const announceShutdown = (): Promise<void> => {
    announced ??= (() => {
      sup.shutdown();
      return sup.whenStopsAcked();
    })();
    return announced;
  };

  const tryAcquire = (ref: string, o: AcquireOptions = {}): Result<Lease> => {
    if (closed) return fail('ENODEV', 'acquire', 'the supervisor is closed');
    const ttl = checkTtl(o.ttlMs);
    if (!ttl.ok) return ttl;
    // The processors it has (listed at start, and what hotplug added since): no I/O per acquire.
    const found = findProcessor(processors, ref);
    if (!found.ok) return found;
    const processor = found.value;
    const device = processor.device;
    const core = sup.core(device);
    const set = settingsOf(device);
    const admitted = admitLease(
      {
        policy: set.policy,
        configured: set.firmware,
        votes: core.votes,
        firmware: core.firmware,
        failed: core.failed,
      },
      o.firmware,
    );
    if (!admitted.ok) return admitted;
    const id = o.id !== undefined && !leases.has(o.id) ? o.id : `lease-${nextLease++}`;
    const n = /^lease-(\d+)$/.exec(id);
    if (n) nextLease = Math.max(nextLease, Number(n[1]) + 1);
    const client = o.client ?? 'anonymous';
    const record = new LeaseHandle(id, client, processor, clock.now(), o.peer, o.onEvent, sup);
    leases.set(id, record);
    leasesOn.set(device, (leasesOn.get(device) ?? new Map()).set(id, record));
    sup.acquire({ id, client, processor: device, ttlMs: o.ttlMs ?? null }, o.firmware);
    if (logging) log({ level: 'info', msg: 'lease granted', lease: id, client, processor: device });
    return ok(record);
  };

  const addProcessor = (p: ProcessorRef): Result<ProcessorRef> => {
    if (closed) return fail('ENODEV', 'hotplug', 'the supervisor is closed');
    if (processors.some((x) => x.device === p.device))
      return fail('EBUSY', 'hotplug', `${p.device} is supervised already`);
    processors.push(p);
    processors.sort((a, b) => (deviceIndex(a.device) ?? 0) - (deviceIndex(b.device) ?? 0));
    names.set(p.device, p.name);
    states.set(p.device, 'unknown');
    settings.set(p.device, settingsFor(options.settings, p));
    // A processor that appears is nobody's previous incarnation: nothing to adopt.
    sup.addProcessor(p.device, { ...configFor(p.device), restarted: false });
    log({ level: 'info', msg: 'processor added', processor: p.device, name: p.name });
    waiters.appeared(p);
    return ok(p);
  };
  const removeProcessor = async (device: string): Promise<Result<ProcessorRef>> => {
    const i = processors.findIndex((x) => x.device === device);
    const p = processors[i];
    if (!p) return fail('ENODEV', 'hotplug', `no processor ${device}`);
    processors.splice(i, 1);
    const held = [...(leasesOn.get(device)?.values() ?? [])];
    for (const r of held) if (r.end === null) r.lostReason ??= 'processor-removed';
    // No call goes to it from here on; its leases end (lost, processor-removed) through the tree.
    sup.removeProcessor(device);
    log({ level: 'info', msg: 'processor removed', processor: device, name: p.name, leases: held.length });
    // Its descriptor: shutdown-on-release cleared, then closed (never a flagged close of a removed cdev).
    await driver.letGo?.(device);
    leasesOn.delete(device);
    states.delete(device);
    crashes.delete(device);
    settings.delete(device);
    return ok(p);
  };
  const hotplug = options.hotplug
    ? startHotplug(
        {
          list: () => driver.list(),
          known: () => processors,
          add: addProcessor,
          remove: removeProcessor,
          log,
        },
        options.hotplug,
        clock,
      )
    : null;

  return {
    tryAcquire,
    addProcessor,
    removeProcessor,
    whenPresent: (ref, timeoutMs) => waiters.wait(ref, () => processors, closed ? 0 : timeoutMs),
    async crash(ref, reason = 'unknown') {
      const found = findProcessor(processors, ref);
      if (!found.ok) return found;
      if (!driver.crash)
        return fail(
          'ENOTSUP',
          'crash',
          `the ${driver.kind} driver cannot inject a crash: a board's kernel has no such interface (use the sim driver, or the mounted twin's --socket)`,
        );
      const r = await driver.crash(found.value.device, reason);
      return r.ok ? ok(found.value) : r;
    },
    async acquire(ref, o) {
      // With a probe timeout, a processor not there yet may appear (hotplug) before ENODEV.
      if (o?.probeTimeoutMs) {
        const present = await waiters.wait(ref, () => processors, o.probeTimeoutMs);
        if (!present.ok) throw new RprocSupervisorError('ENODEV', present.error.detail ?? ref);
      }
      const r = tryAcquire(ref, o);
      if (!r.ok) throw new RprocSupervisorError(r.error.code, r.error.detail ?? ref);
      // Resolves once the processor runs (or is attached) for it: acquire means usable.
      return (r.value as LeaseHandle).whenUsable();
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onStopping(listener) {
      stoppingListeners.add(listener);
      return () => stoppingListeners.delete(listener);
    },
    ack(ref, party) {
      const found = findProcessor(processors, ref);
      if (!found.ok) return found;
      return ok({ device: found.value.device, pending: sup.ack(found.value.device, party) });
    },
    announceShutdown,
    inspect(observer) {
      const sub = sup.root.system.inspect(observer);
      return () => sub.unsubscribe();
    },
    status: () => ({
      strategy,
      processors: processors.map((p) => {
        // Read once per processor, not once per lease: every lease of it has the same answer.
        const reference = !sup.core(p.device).borrowed;
        return {
          device: p.device,
          name: p.name,
          state: states.get(p.device) ?? 'unknown',
          crashes: crashes.get(p.device) ?? 0,
          policy: settingsOf(p.device).policy,
          failed: sup.core(p.device).failed,
          // The processor's own leases (an index, not a filter of all): linear in processors and leases.
          leases: [...(leasesOn.get(p.device)?.values() ?? [])].map((r) => ({
            id: r.lease.id,
            client: r.lease.client,
            since: r.lease.since,
            ...(r.lease.peer ? { pid: r.lease.peer.pid } : {}),
            reference,
          })),
        };
      }),
      hotplug: { source: hotplug?.source ?? 'none', waiting: hotplug !== null && processors.length === 0 },
    }),
    async close() {
      if (closed) return;
      // A shutdown is no holder's death: the last lease's end stops at once, without offGraceMs. Its
      // stops are announced first (two-phase), while the holders can still acknowledge.
      await announceShutdown();
      closed = true;
      hotplug?.stop();
      waiters.close();
      for (const r of [...leases.values()].reverse()) r.lease.lose('daemon-gone');
      // The last votes' stops (decided later in this instant) finish before the devices go.
      await sup.whenIdle();
      sup.stop();
      await driver.close();
    },
  };
}
