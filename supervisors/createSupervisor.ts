// createSupervisor: the production supervisor (hybrid or sysfs-monitor) on a real driver, in real time.

import { createActor, type InspectionEvent } from 'xstate';
import {
  findProcessor,
  type ObservedState,
  type ProcessorRef,
  type RprocDriver,
} from '../actors/drivers/RprocDriver.js';
import { realClock } from '../actors/RealClock.js';
import type { TwinClock } from '../actors/VirtualClock.js';
import type { Errno } from '../machines/errno.js';
import { isPoweredState } from '../machines/powered.js';
import { type ReconcilePolicy, supervisorMachine } from '../machines/supervisorMachine.js';
import { createDriverExecutor } from './driverExecutor.js';
import { type LeaseRunner, startLease } from './leaseRunner.js';

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
  /** @default real time */
  clock?: TwinClock;
  /** Structured log lines. @default none */
  log?: (entry: { level: 'info' | 'warn'; msg: string; [k: string]: unknown }) => void;
}

/** Options of {@link Supervisor.acquire}. */
export interface AcquireOptions {
  /** Firmware to boot if the processor has to be started. */
  firmware?: string;
  /** Who holds the lease (shown by `status`). @default 'anonymous' */
  client?: string;
  /** The lease is lost after this long without `ping()`. @default null (never) */
  ttlMs?: number | null;
  /** Recorded on the lease (the daemon passes the peer's credentials). */
  peer?: { pid: number; uid: number; gid: number };
  /**
   * One listener for every event of the lease, in place before any can happen: what the daemon uses,
   * as it costs less per lease than an `on()` per event.
   */
  onEvent?: (event: LeaseEventName, detail: { processor: string; reason?: string }) => void;
}

/** Events of a lease. */
export type LeaseEventName = 'granted' | 'processor.crashed' | 'processor.recovered' | 'lost';

/** A client's claim on a processor. `await using lease = await sup.acquire('m4')` releases it at scope end. */
export interface Lease extends AsyncDisposable {
  readonly id: string;
  readonly client: string;
  readonly processor: ProcessorRef;
  readonly since: number;
  readonly peer?: { pid: number; uid: number; gid: number };
  /** `granted` until released, lost (TTL, supervisor closed) or expired. */
  readonly state: 'granted' | 'released' | 'lost' | 'expired';
  on(event: LeaseEventName, listener: (detail: { processor: string; reason?: string }) => void): () => void;
  /** A heartbeat: restarts the TTL. */
  ping(): void;
  /** Ends the lease; idempotent. The processor stops when its last lease ends. */
  release(): Promise<void>;
  /** Ends the lease as lost: its holder is gone (the daemon calls this on a connection's EOF). */
  lose(): void;
}

/** What `onEvent` reports: state changes seen by polling, crashes and recoveries. */
export type SupervisorEvent =
  | { event: 'processor.state'; processor: string; name: string; state: ObservedState }
  | { event: 'processor.crashed' | 'processor.recovered'; processor: string; name: string };

/** What `status()` returns. */
export interface SupervisorStatus {
  strategy: 'hybrid' | 'sysfs-monitor';
  processors: Array<{
    device: string;
    name: string;
    state: ObservedState | 'unknown';
    crashes: number;
    leases: Array<{ id: string; client: string; since: number; pid?: number }>;
  }>;
}

/** The production supervisor. */
export interface Supervisor {
  /** Leases `processor` (`remoteprocN` or its name); rejects with an Error whose `code` is the errno. */
  acquire(processor: string, options?: AcquireOptions): Promise<Lease>;
  status(): SupervisorStatus;
  /** Calls `listener` for every {@link SupervisorEvent}; returns an unsubscribe. */
  onEvent(listener: (e: SupervisorEvent) => void): () => void;
  /**
   * Attaches an XState inspection observer (the inspector's feed) to the supervisor actor and to the
   * lease actors created from now on. Only leases with a TTL are actors; a lease without one runs on
   * leaseMachine's transition table and shows in `status()`, not in the stream. Returns the detach.
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
  ) {
    super(`${code}: ${message}`);
  }
}

interface LeaseRecord {
  lease: Lease;
  runner: LeaseRunner;
  emit: (event: LeaseEventName, detail: { processor: string; reason?: string }) => void;
}

/**
 * Starts a supervisor: one vote per lease, the processor runs while any lease holds it and stops when the
 * last one ends. With `hybrid` the driver holds `/dev/remoteprocN` with shutdown-on-release, so if this
 * process dies the kernel stops the processor.
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
  const processors = await driver.list();
  const states = new Map<string, ObservedState | 'unknown'>(processors.map((p) => [p.device, 'unknown']));
  // Only a processor found powered can be a previous incarnation's to adopt. With none (a first start,
  // or a hybrid daemon's restart after the kernel's release stopped everything), there is no grace
  // period to wait out: a lease that ends at once stops its processor at once.
  const found = await Promise.all(processors.map((p) => driver.state(p.device)));
  const adoptable = found.some((r) => !r.ok || isPoweredState(r.value));
  const crashes = new Map<string, number>();
  const leases = new Map<string, LeaseRecord>();
  const firmwareWanted = new Map<string, string>();
  let nextLease = 1;
  let closed = false;
  const eventListeners = new Set<(e: SupervisorEvent) => void>();
  const nameOf = (device: string) => processors.find((p) => p.device === device)?.name ?? device;
  const observers = new Set<(event: InspectionEvent) => void>();
  const inspectLeases = (event: InspectionEvent) => {
    for (const o of observers) o(event);
  };
  const publish = (e: SupervisorEvent) => {
    for (const l of eventListeners) l(e);
  };

  const sup = createActor(supervisorMachine, {
    clock,
    input: {
      processors: processors.map((p) => p.device),
      reconcile: options.reconcile ?? 'adopt',
      graceMs: options.graceMs ?? 2000,
      restarted: adoptable,
    },
  });

  const executor = createDriverExecutor({
    driver,
    recoverCrashed: strategy === 'hybrid',
    firmwareFor: (device) => firmwareWanted.get(device),
    log,
  });

  sup.on('supervisor.ensure', (e) => executor.ensure(e.processor, e.want));
  sup.on('supervisor.notify', (e) => {
    if (e.event === 'processor.crashed') crashes.set(e.processor, (crashes.get(e.processor) ?? 0) + 1);
    publish({ event: e.event, processor: e.processor, name: nameOf(e.processor) });
    for (const r of leases.values())
      if (r.lease.processor.device === e.processor) r.emit(e.event, { processor: e.processor });
  });
  sup.start();

  // Votes of one turn of the event loop reach the supervisor machine together, netted per processor:
  // under load a release and an acquire that cross are no decision at all (not a stop then a start),
  // and the machine takes one event per turn instead of two per lease. Any other event delivers the
  // pending votes first, so the machine sees everything in the order it happened.
  const pendingVotes = new Map<string, number>();
  let flushScheduled = false;
  const flushVotes = () => {
    for (const [processor, delta] of pendingVotes) {
      const type = delta > 0 ? 'lease.granted' : 'lease.ended';
      for (let i = 0; i < Math.abs(delta); i++) sup.send({ type, processor });
    }
    pendingVotes.clear();
  };
  const vote = (processor: string, delta: 1 | -1) => {
    pendingVotes.set(processor, (pendingVotes.get(processor) ?? 0) + delta);
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      flushVotes();
    });
  };

  const unwatch = processors.map((p) =>
    driver.watch(
      p.device,
      (state) => {
        states.set(p.device, state);
        publish({ event: 'processor.state', processor: p.device, name: p.name, state });
        if (state === 'invalid') return;
        flushVotes();
        sup.send({ type: 'processor.observed', processor: p.device, state });
      },
      options.pollMs ?? 250,
    ),
  );

  const acquire = async (ref: string, o: AcquireOptions = {}): Promise<Lease> => {
    if (closed) throw new RprocSupervisorError('ENODEV', 'the supervisor is closed');
    // The processors were listed once at start (the supervisor watches only those): no I/O per acquire.
    const found = findProcessor(processors, ref);
    if (!found.ok) throw new RprocSupervisorError(found.error.code, found.error.detail ?? ref);
    const processor = found.value;
    if (o.firmware) firmwareWanted.set(processor.device, o.firmware);
    const id = `lease-${nextLease++}`;
    const client = o.client ?? 'anonymous';
    let listeners: Map<LeaseEventName, Set<(d: { processor: string; reason?: string }) => void>> | null =
      null;
    const onEvent = o.onEvent;
    const emit = (event: LeaseEventName, detail: { processor: string; reason?: string }) => {
      onEvent?.(event, detail);
      const set = listeners?.get(event);
      if (set) for (const l of set) l(detail);
    };
    const runner = startLease(
      { id, client, processor: processor.device, ttlMs: o.ttlMs ?? null },
      clock,
      observers.size > 0 ? inspectLeases : undefined,
      (end) => {
        leases.delete(id);
        if (end !== 'released') emit('lost', { processor: processor.device, reason: end });
        vote(processor.device, -1);
        if (logging)
          log({ level: 'info', msg: `lease ${end}`, lease: id, client, processor: processor.device });
      },
    );
    const lease: Lease = {
      id,
      client,
      processor,
      since: clock.now(),
      ...(o.peer ? { peer: o.peer } : {}),
      get state() {
        return runner.end ?? 'granted';
      },
      on(event, listener) {
        listeners ??= new Map();
        const set = listeners.get(event) ?? new Set();
        listeners.set(event, set);
        set.add(listener);
        return () => set.delete(listener);
      },
      ping: () => runner.send('lease.heartbeat'),
      async release() {
        runner.send('lease.release');
      },
      lose: () => runner.send('lease.lost'),
      async [Symbol.asyncDispose]() {
        await lease.release();
      },
    };
    leases.set(id, { lease, runner, emit });
    runner.send('lease.grant');
    vote(processor.device, 1);
    if (logging) log({ level: 'info', msg: 'lease granted', lease: id, client, processor: processor.device });
    queueMicrotask(() => emit('granted', { processor: processor.device }));
    return lease;
  };

  return {
    acquire,
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    inspect(observer) {
      observers.add(observer);
      const onSupervisor = sup.system.inspect(observer);
      return () => {
        observers.delete(observer);
        onSupervisor.unsubscribe();
      };
    },
    status: () => ({
      strategy,
      processors: processors.map((p) => ({
        device: p.device,
        name: p.name,
        state: states.get(p.device) ?? 'unknown',
        crashes: crashes.get(p.device) ?? 0,
        leases: [...leases.values()]
          .filter((r) => r.lease.processor.device === p.device)
          .map((r) => ({
            id: r.lease.id,
            client: r.lease.client,
            since: r.lease.since,
            ...(r.lease.peer ? { pid: r.lease.peer.pid } : {}),
          })),
      })),
    }),
    async close() {
      if (closed) return;
      for (const r of [...leases.values()].reverse()) r.runner.send('lease.lost');
      flushVotes();
      // The last votes' stops (decided after the same-instant messages) finish before the devices go.
      await new Promise<void>((r) => clock.setTimeout(() => r(), 0));
      await executor.idle();
      closed = true;
      executor.close();
      for (const u of unwatch) u();
      sup.stop();
      await driver.close();
    },
  };
}
