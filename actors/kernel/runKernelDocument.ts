// runKernelDocument: executes a parsed `kernel run` document against a fresh twin, one result per operation.

import { type Errno, fail, ok, type Result } from '../../machines/errno.js';
import type { KernelProfile } from '../../machines/profile.js';
import { VirtualClock } from '../VirtualClock.js';
import { ioctlRequestNumber, RPROC_GET_SHUTDOWN_ON_RELEASE } from './cdevCommand.js';
import { KernelTwin } from './KernelTwin.js';
import type { KernelDocument, KernelOp } from './kernelDocument.js';
import { PendingCall } from './PendingCall.js';

/** The result of one operation. `value` is set for reads, GET ioctls and `power`. */
export interface OpResult {
  i: number;
  op: KernelOp['op'];
  ok: boolean;
  errno?: Errno;
  value?: string | number;
  /** What the kernel would have logged, for a failure. Not part of the `--json` line. */
  detail?: string;
  /** Virtual time (ms) at which the operation returned. Not part of the `--json` line. */
  t: number;
  /**
   * The operation would have run an op of an unloaded driver (after `unload`): a kernel Oops on a real
   * kernel, which ends the lab's VM. The line says `"oops":true` and no errno.
   */
  oops?: boolean;
}

/**
 * A processor at the end of a run, as `kernel run`'s table shows it: from the twin, or on a real
 * kernel from the lab's fake driver (lab/protocol.ts).
 */
export interface ProcessorFinal {
  device: string;
  name: string;
  state: string;
  power: number;
  shutdownOnRelease: number;
  crashes: number;
}

/** Options of {@link runKernelDocument}. */
export interface RunKernelOptions {
  profile: KernelProfile;
  /** Called with each result, in operation order, as soon as it and all before it have returned. */
  onResult?: (result: OpResult) => void;
  /** Called with the new twin and its clock before the first operation (to observe it, e.g. `lab diff`). */
  onTwin?: (twin: KernelTwin, clock: VirtualClock) => void;
}

/** What a run leaves: every result, and the twin in its final state (for inspection). */
export interface KernelRun {
  results: OpResult[];
  twin: KernelTwin;
  clock: VirtualClock;
}

type Value = string | number | undefined;
const hasValue = new Set<KernelOp['op']>(['sysfs.read', 'power']);

/**
 * Runs `doc` on a new twin in virtual time. Each operation waits until it returns (a `start` waits for
 * the boot, a command waits on the lock while recovery runs) unless it says `wait: false`; after the last
 * operation, time runs on until every operation has returned. A document `parseKernelDocument`
 * did not check may name a processor the twin does not have: that operation answers ENOENT (as a path
 * that does not exist would) and the run goes on.
 */
export function runKernelDocument(doc: KernelDocument, options: RunKernelOptions): KernelRun {
  const clock = new VirtualClock();
  const twin = new KernelTwin({ profile: options.profile, processors: doc.processors, clock });
  options.onTwin?.(twin, clock);
  const fds = new Map<string, { pid: number; fd: number } | null>();
  const results: OpResult[] = [];
  const calls: PendingCall<Value>[] = [];
  let emitted = 0;

  // execute() resolves an operation's processor first: an unknown one is that operation's ENOENT.
  const index = (ref: string) => twin.resolve(ref)?.index ?? -1;
  const file = (label: string, pid?: number) => {
    const f = fds.get(label);
    return f ? { pid: pid ?? f.pid, fd: f.fd } : undefined;
  };
  const now = <T extends Value>(r: Result<T>): PendingCall<Value> => PendingCall.settled<Value>(r);
  const drop = <T>(c: PendingCall<T>): PendingCall<Value> =>
    c.map((r): Result<Value> => (r.ok ? ok(undefined) : r));

  const execute = (o: KernelOp): PendingCall<Value> => {
    if ('rproc' in o && !twin.resolve(o.rproc))
      return now(fail('ENOENT', o.op, `no processor "${o.rproc}" (no such sysfs directory or device)`));
    switch (o.op) {
      case 'sysfs.read':
        return now(twin.sysfsRead(index(o.rproc), o.attr));
      case 'sysfs.write':
        return drop(twin.sysfsWrite(index(o.rproc), o.attr, o.value));
      case 'cdev.open': {
        const r = twin.cdevOpen(o.pid, index(o.rproc), { write: o.mode !== 'r' });
        fds.set(o.fd, r.ok ? { pid: o.pid, fd: r.value } : null);
        return drop(now(r));
      }
      case 'power':
        return now(ok(twin.inspect(index(o.rproc)).power));
      case 'fork':
        return drop(now(twin.fork(o.pid, o.child)));
      case 'kill':
        return drop(twin.exit(o.pid));
      case 'crash':
        twin.crash(index(o.rproc), o.reason);
        return now(ok(undefined));
      case 'advance':
        clock.advanceBy(o.ms);
        return now(ok(undefined));
      case 'unbind':
        return drop(twin.unbind(index(o.rproc)));
      case 'unload':
        return drop(twin.unload());
      case 'coredump.discard':
        twin.discardCoredump(index(o.rproc));
        return now(ok(undefined));
      case 'suspend':
        twin.suspend(index(o.rproc));
        return now(ok(undefined));
      case 'resume':
        twin.resume(index(o.rproc));
        return now(ok(undefined));
    }
    const f = file(o.fd, o.pid);
    if (!f) return now(fail('EBADF', o.op, `fd "${o.fd}" was never opened`));
    switch (o.op) {
      case 'cdev.write':
        return drop(twin.cdevWrite(f.pid, f.fd, o.value));
      case 'cdev.read':
        return now(twin.cdevRead(f.pid, f.fd));
      case 'cdev.close':
        return drop(twin.close(f.pid, f.fd));
      case 'cdev.ioctl': {
        const request = ioctlRequestNumber(o.request) ?? 0;
        const r = twin.cdevIoctl(f.pid, f.fd, request, o.value);
        // GET returns the flag; SET returns 0, with nothing to show.
        return request === RPROC_GET_SHUTDOWN_ON_RELEASE ? now(r) : drop(now(r));
      }
    }
  };

  const flush = () => {
    while (emitted < calls.length) {
      const r = results[emitted];
      if (!r) break;
      options.onResult?.(r);
      emitted++;
    }
  };

  doc.ops.forEach((o, i) => {
    const oopsesBefore = twin.oopses();
    const call = execute(o);
    calls.push(call);
    call.onSettled((r) => {
      const res: OpResult = { i, op: o.op, ok: r.ok, t: clock.now() };
      if (r.ok && r.value !== undefined && (hasValue.has(o.op) || o.op === 'cdev.ioctl')) res.value = r.value;
      if (twin.oopses() > oopsesBefore) {
        // A stale `stop`, or a release (close, kill) that ran the unloaded driver's ops->stop.
        results[i] = { i, op: o.op, ok: false, t: res.t, oops: true, detail: 'kernel Oops' };
        return;
      }
      if (!r.ok) {
        res.errno = r.error.code;
        if (r.error.detail) res.detail = r.error.detail;
      }
      results[i] = res;
    });
    if (o.wait !== false) runUntil(clock, () => call.settled);
    flush();
  });
  runUntil(clock, () => calls.every((c) => c.settled));
  flush();
  return { results, twin, clock };
}

function runUntil(clock: VirtualClock, done: () => boolean): void {
  while (!done()) {
    // Every blocking call in the twin ends after a finite virtual time, so a timer is always pending.
    if (!clock.step()) throw new Error('kernel run: an operation can never return (no timer pending)');
  }
}

/** The `--json` line of a result: `{"i":0,"op":"sysfs.write","ok":true}`, plus `errno` or `value`. */
export function resultJson(r: OpResult): string {
  const out: Record<string, unknown> = { i: r.i, op: r.op, ok: r.ok };
  if (r.oops) out.oops = true;
  if (r.errno !== undefined) out.errno = r.errno;
  if (r.value !== undefined) out.value = r.value;
  return JSON.stringify(out);
}
