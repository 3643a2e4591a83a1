// KernelTwin: the kernel twin — rproc machines, per-process descriptor tables, and the sysfs and cdev front ends.

import type { InspectionEvent } from 'xstate';
import { fail, ok, type Result } from '../../machines/errno.js';
import { DEFAULT_PROFILE, type KernelProfile, profileFeatures } from '../../machines/profile.js';
import {
  type CrashType,
  RPROC_DEFAULTS,
  type RprocContext,
  type RprocOptions,
} from '../../machines/rprocTypes.js';
import { type TwinClock, VirtualClock } from '../VirtualClock.js';
import { cdevIoctl, cdevRelease, cdevWrite } from './cdevFile.js';
import { FdTable, type OpenFileDescription } from './FdTable.js';
import { PendingCall } from './PendingCall.js';
import { deviceIndex, Processor } from './Processor.js';
import { type SysfsAttr, sysfsRead, sysfsWrite } from './sysfsAttributes.js';

/** A processor as a driver declares it: a `name`, and any {@link RprocOptions} to override. */
export type ProcessorSpec = Partial<RprocOptions> & { name: string };

/** Options of {@link KernelTwin}. */
export interface KernelTwinOptions {
  /** @default '5.19' */
  profile?: KernelProfile;
  /** Registered in order as `remoteproc0`, `remoteproc1`, … */
  processors: ProcessorSpec[];
  /** Time source for boots, stops and recoveries. @default a new {@link VirtualClock} */
  clock?: TwinClock;
  /** XState's inspection observer, attached to every processor actor (the inspector's feed). @default none */
  inspect?: (event: InspectionEvent) => void;
}

/** How a process opens `/dev/remoteprocN`. @default { write: true, cloexec: false } (O_RDWR) */
export interface OpenMode {
  write?: boolean;
  /** O_CLOEXEC: an `exec` closes it (a `fork` still shares it). */
  cloexec?: boolean;
}

const encoder = new TextEncoder();

/**
 * The kernel twin: what `/sys/class/remoteproc` and `/dev/remoteprocN` do on a given kernel profile.
 * Calls that block in the kernel return a {@link PendingCall} that settles in virtual time; the others
 * return a {@link Result} at once. Processes are named by pid and come alive when first used.
 *
 * @example
 * const clock = new VirtualClock();
 * const twin = new KernelTwin({ processors: [{ name: 'm4' }], clock });
 * const fd = twin.cdevOpen(100, 0);                 // { ok: true, value: 3 }
 * twin.cdevIoctl(100, 3, RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
 * twin.cdevWrite(100, 3, 'start');                  // settles after bootMs
 * clock.advanceBy(100);
 * twin.exit(100);                                   // SIGKILL: release stops the processor
 */
export class KernelTwin {
  readonly profile: KernelProfile;
  readonly clock: TwinClock;
  /** Every processor registered, in index order; an unbound one stays (its `context.removed` is set). */
  readonly processors: readonly Processor[];
  readonly fds = new FdTable();
  #releaseListeners = new Set<(index: number, pid: number, stops: boolean) => void>();
  #addListeners = new Set<(p: Processor) => void>();
  readonly #list: Processor[];
  readonly #inspect: ((event: InspectionEvent) => void) | undefined;

  constructor(options: KernelTwinOptions) {
    this.profile = options.profile ?? DEFAULT_PROFILE;
    this.clock = options.clock ?? new VirtualClock();
    this.#inspect = options.inspect;
    this.#list = [];
    this.processors = this.#list;
    for (const spec of options.processors) this.#register(spec);
  }

  #register(spec: ProcessorSpec): Processor {
    const p = new Processor(
      this.#list.length,
      this.profile,
      { ...RPROC_DEFAULTS, ...spec },
      this.clock,
      this.#inspect,
    );
    this.#list.push(p);
    return p;
  }

  /**
   * A platform driver registers one more processor at run time (`rproc_add`, hotplug): it gets the next
   * index, `remoteproc<processors.length>`. The twin never reuses the index of an unbound processor
   * (the kernel's ida may, once the old device is released). Subscriptions made before it include it.
   */
  add(spec: ProcessorSpec): Processor {
    const p = this.#register(spec);
    for (const l of this.#addListeners) l(p);
    return p;
  }

  /** Calls `listener` with each processor {@link KernelTwin.add} registers. Returns an unsubscribe. */
  onAdd(listener: (p: Processor) => void): () => void {
    this.#addListeners.add(listener);
    return () => this.#addListeners.delete(listener);
  }

  /** Subscribes `each` to every processor, those added later included; returns the unsubscribe. */
  #everyProcessor(each: (p: Processor) => { unsubscribe(): void }): () => void {
    const subs = this.#list.map(each);
    const off = this.onAdd((p) => subs.push(each(p)));
    return () => {
      off();
      for (const s of subs) s.unsubscribe();
    };
  }

  /** The processor called `ref` (its `name`, or `remoteprocN`), or undefined. */
  resolve(ref: string): Processor | undefined {
    const i = deviceIndex(ref);
    if (i !== undefined) return this.processors[i];
    // A name taken again by a processor added after the first was unbound is the new one's.
    return (
      this.processors.find((p) => p.name === ref && !p.context.removed) ??
      this.processors.find((p) => p.name === ref)
    );
  }

  /** The processor at `index`; an unknown index is a programmer error. */
  processor(index: number): Processor {
    const p = this.processors[index];
    if (!p) throw new Error(`no remoteproc${index}: the twin has ${this.processors.length} processors`);
    return p;
  }

  /** `struct rproc` of a processor, including the power count no real interface shows. */
  inspect(index: number): RprocContext {
    return this.processor(index).context;
  }

  /** Reads `/sys/class/remoteproc/remoteprocN/<attr>`. */
  sysfsRead(index: number, attr: SysfsAttr): Result<string> {
    return sysfsRead(this.processor(index), attr);
  }

  /** Writes `value` to `/sys/class/remoteproc/remoteprocN/<attr>`. */
  sysfsWrite(index: number, attr: SysfsAttr, value: string): PendingCall<number> {
    return sysfsWrite(this.processor(index), attr, value);
  }

  /**
   * `open("/dev/remoteprocN")` in process `pid`: the new descriptor. Once unregistered: ENOENT where
   * devtmpfs removed the node (v5.14+), ENXIO where a static node is left (the cdev is gone).
   */
  cdevOpen(pid: number, index: number, mode: OpenMode = {}): Result<number> {
    const p = this.processor(index);
    if (p.context.removed) {
      const code = profileFeatures(p.profile).devtmpfsNode ? 'ENOENT' : 'ENXIO';
      return fail(code, 'cdev.open', `${p.device} was unregistered`);
    }
    return this.fds.open(pid, index, mode.write ?? true, mode.cloexec ?? false);
  }

  #file(pid: number, fd: number): Result<{ p: Processor; ofd: OpenFileDescription }> {
    const got = this.fds.get(pid, fd);
    return got.ok ? ok({ p: this.processor(got.value.rproc), ofd: got.value }) : got;
  }

  /** `write(fd, data)` on a cdev descriptor. A string is sent as its UTF-8 bytes, without a newline added. */
  cdevWrite(pid: number, fd: number, data: string | Uint8Array): PendingCall<number> {
    const f = this.#file(pid, fd);
    if (!f.ok) return PendingCall.settled<number>(f);
    if (!f.value.ofd.writable)
      return PendingCall.settled<number>(fail('EBADF', 'cdev.write', 'opened read-only'));
    return cdevWrite(f.value.p, typeof data === 'string' ? encoder.encode(data) : data);
  }

  /** `read(fd)`: the cdev has no read operation, so EINVAL. */
  cdevRead(pid: number, fd: number): Result<never> {
    const f = this.#file(pid, fd);
    return f.ok ? fail('EINVAL', 'cdev.read', 'no read operation') : f;
  }

  /** `ioctl(fd, request, &arg)`; `arg` undefined stands for a bad pointer. */
  cdevIoctl(pid: number, fd: number, request: number, arg?: number): Result<number> {
    const f = this.#file(pid, fd);
    return f.ok ? cdevIoctl(f.value.p, request, arg) : f;
  }

  /** `close(fd)`: settles after the release, if this was the description's last reference. */
  close(pid: number, fd: number): PendingCall<undefined> {
    const closed = this.fds.close(pid, fd);
    if (!closed.ok) return PendingCall.settled<undefined>(closed);
    return closed.value ? this.#release(closed.value.rproc, pid) : PendingCall.settled(ok());
  }

  /**
   * Passes `from`'s descriptor `fd` to process `to` over a Unix socket (SCM_RIGHTS): the new descriptor
   * in `to`, on the same open file description, so its release waits for both to close it.
   */
  passFd(from: number, fd: number, to: number): Result<number> {
    return this.fds.pass(from, fd, to);
  }

  /** `fork()`: `child` shares every open file description of `parent`. */
  fork(parent: number, child: number): Result {
    return this.fds.fork(parent, child);
  }

  /**
   * Process death for any reason, SIGKILL included: the kernel closes every descriptor. Settles when
   * every release it caused has finished.
   */
  exit(pid: number): PendingCall<undefined> {
    return this.#releaseAll(this.fds.exit(pid), pid);
  }

  /** `execve()` in `pid`: closes its O_CLOEXEC descriptors. Settles when their releases have finished. */
  exec(pid: number): PendingCall<undefined> {
    return this.#releaseAll(this.fds.exec(pid), pid);
  }

  /** The last reference to a description of processor `index` went away: the driver's `release()`. */
  #release(index: number, pid: number): PendingCall<undefined> {
    const p = this.processor(index);
    const stops = p.context.shutdownOnRelease;
    for (const l of this.#releaseListeners) l(index, pid, stops);
    return cdevRelease(p);
  }

  #releaseAll(released: Result<OpenFileDescription[]>, pid: number): PendingCall<undefined> {
    if (!released.ok) return PendingCall.settled<undefined>(released);
    const calls = released.value.map((ofd) => this.#release(ofd.rproc, pid));
    const all = new PendingCall<undefined>();
    let left = calls.length;
    if (left === 0) all.settle(ok());
    for (const c of calls) c.onSettled(() => --left === 0 && all.settle(ok()));
    return all;
  }

  /** `rproc_report_crash`: queues the crash worker, which takes the lock. Returns at once. */
  crash(index: number, reason: CrashType = 'unknown'): void {
    this.processor(index).call('crash', { reason });
  }

  /** Driver unbind, `rproc_del`: one shutdown, then DELETED. Settles when done. */
  unbind(index: number): PendingCall<undefined> {
    return this.processor(index).call('del');
  }

  /**
   * `rmmod` of the platform driver: every processor still registered is removed (`rproc_del`, with the
   * driver's code still there), then the driver's ops are gone. A later call that would run one is the
   * Oops hazard (docs/abi.md): counted in the processor's `oopses`, nothing runs. Settles when done.
   */
  unload(): PendingCall<undefined> {
    const calls = this.processors.map((p) => p.call('unload'));
    const all = new PendingCall<undefined>();
    let left = calls.length;
    for (const c of calls) c.onSettled(() => --left === 0 && all.settle(ok()));
    return all;
  }

  /** Calls that would have run an op of an unloaded driver, over every processor. */
  oopses(): number {
    return this.processors.reduce((n, p) => n + p.context.oopses, 0);
  }

  /** Userspace wrote to devcoredump `data`: frees an inline dump, so a blocked recovery goes on. */
  discardCoredump(index: number): void {
    this.processor(index).actor.send({ type: 'rproc.coredump.free' });
  }

  /** Platform-driver system suspend: RUNNING → SUSPENDED (the core itself never does this). */
  suspend(index: number): void {
    this.processor(index).actor.send({ type: 'rproc.suspend' });
  }

  /** Platform-driver resume: SUSPENDED → RUNNING. */
  resume(index: number): void {
    this.processor(index).actor.send({ type: 'rproc.resume' });
  }

  /**
   * Calls `listener` with a processor's index and context after each of its changes (processors added
   * later included). Returns an unsubscribe.
   */
  subscribe(listener: (index: number, context: RprocContext) => void): () => void {
    return this.#everyProcessor((p) => p.actor.subscribe((s) => listener(p.index, s.context)));
  }

  /**
   * Calls `listener` for each uevent of a processor's virtio/rpmsg child devices: `remove` when it is
   * stopped (by a stop or by a crash recovery), `add` when it starts. Returns an unsubscribe.
   */
  onUevent(listener: (index: number, action: 'add' | 'remove') => void): () => void {
    return this.#everyProcessor((p) => p.actor.on('rproc.uevent', (e) => listener(p.index, e.action)));
  }

  /**
   * Calls `listener` each time the last descriptor of an open `/dev/remoteprocN` goes away (close, exec
   * or exit of `pid`), before the kernel's `release()` runs; `stops` is the processor's
   * shutdown-on-release flag. Returns an unsubscribe.
   */
  onRelease(listener: (index: number, pid: number, stops: boolean) => void): () => void {
    this.#releaseListeners.add(listener);
    return () => this.#releaseListeners.delete(listener);
  }

  /** Stops every processor actor and its timers. */
  stop(): void {
    for (const p of this.processors) p.actor.stop();
  }
}
