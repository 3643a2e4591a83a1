// sim driver: the in-process kernel twin behind RprocDriver, in real time (the embedded default).

import { ok, type Result } from '../../machines/errno.js';
import { isRunningState } from '../../machines/powered.js';
import { DEFAULT_PROFILE, type KernelProfile } from '../../machines/profile.js';
import { RPROC_SET_SHUTDOWN_ON_RELEASE } from '../kernel/cdevCommand.js';
import { KernelTwin, type ProcessorSpec } from '../kernel/KernelTwin.js';
import type { PendingCall } from '../kernel/PendingCall.js';
import { realClock } from '../RealClock.js';
import type { TwinClock } from '../VirtualClock.js';
import {
  findProcessor,
  type ObservedState,
  type ProcessorRef,
  parseState,
  type RprocDriver,
} from './RprocDriver.js';
import { pollState } from './sysfsDriver.js';

/** Options of {@link createSimDriver}. */
export interface SimDriverOptions {
  processors: ProcessorSpec[];
  /** @default DEFAULT_PROFILE ('5.19') */
  kernel?: KernelProfile;
  /** @default real time */
  clock?: TwinClock;
  /** The pid the twin knows this process by. @default process.pid */
  pid?: number;
}

const promise = <T>(call: PendingCall<T>): Promise<Result<T>> =>
  new Promise((resolve) => call.onSettled(resolve));

/**
 * A driver over an in-process {@link KernelTwin}: it behaves like the cdev driver (it holds each
 * processor's device with shutdown-on-release, in the twin), so `hybrid` runs on it.
 *
 * @example
 * const driver = createSimDriver({ processors: [{ name: 'm4' }] });
 * await driver.start('m4'); // resolves after bootMs of real time
 */
export function createSimDriver(options: SimDriverOptions): RprocDriver & { twin: KernelTwin } {
  const twin = new KernelTwin({
    profile: options.kernel ?? DEFAULT_PROFILE,
    processors: options.processors,
    clock: options.clock ?? realClock,
  });
  const pid = options.pid ?? process.pid;
  const fds = new Map<number, number>();
  const index = (device: string): number => twin.resolve(device)?.index ?? -1;
  const valid = (device: string) => index(device) >= 0;
  const noDevice = (device: string): Result<never> => ({
    ok: false,
    error: { code: 'ENOENT', op: 'sim', detail: `no ${device}` },
  });
  // A processor the twin unbound (rproc_del) is not listed: its sysfs directory is gone.
  const list = (): ProcessorRef[] =>
    twin.processors.filter((p) => !p.context.removed).map((p) => ({ device: p.device, name: p.name }));
  const state = async (device: string): Promise<Result<ObservedState>> => {
    if (!valid(device)) return noDevice(device);
    const r = twin.sysfsRead(index(device), 'state');
    return r.ok ? ok(parseState(r.value)) : r;
  };
  const command = async (
    device: string,
    cmd: 'start' | 'stop' | 'detach',
  ): Promise<Result<ObservedState>> => {
    if (!valid(device)) return noDevice(device);
    const i = index(device);
    let fd = fds.get(i);
    if (fd === undefined) {
      const opened = twin.cdevOpen(pid, i, { cloexec: true });
      if (!opened.ok) return opened;
      fd = opened.value;
      fds.set(i, fd);
      twin.cdevIoctl(pid, fd, RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
    }
    const w = await promise(twin.cdevWrite(pid, fd, cmd));
    return w.ok ? state(device) : w;
  };
  const write = async (device: string, attr: 'firmware' | 'recovery', value: string): Promise<Result> => {
    if (!valid(device)) return noDevice(device);
    const r = await promise(twin.sysfsWrite(index(device), attr, value));
    return r.ok ? ok() : r;
  };
  return {
    kind: 'sim',
    holdsDevice: true,
    twin,
    list: async () => list(),
    resolve: async (ref) => findProcessor(list(), ref),
    read: async (device, attr) => {
      if (!valid(device)) return noDevice(device);
      const r = twin.sysfsRead(index(device), attr);
      return r.ok ? ok(r.value.replace(/\n$/, '')) : r;
    },
    state,
    setFirmware: (device, name) => write(device, 'firmware', name),
    setRecovery: (device, value) => write(device, 'recovery', value),
    start: (device) => command(device, 'start'),
    stop: (device) => command(device, 'stop'),
    detach: (device) => command(device, 'detach'),
    async letGo(device) {
      const i = index(device);
      const fd = fds.get(i);
      if (fd === undefined) return;
      fds.delete(i);
      const s = twin.sysfsRead(i, 'state');
      // A removed processor (no sysfs state any more) is let go of as the cdev driver does: flag cleared.
      if (!s.ok || isRunningState(s.value.trim())) twin.cdevIoctl(pid, fd, RPROC_SET_SHUTDOWN_ON_RELEASE, 0);
      await promise(twin.close(pid, fd));
    },
    watch: (device, onState, intervalMs) => pollState(() => state(device), onState, intervalMs),
    async crash(device, reason) {
      if (!valid(device)) return noDevice(device);
      twin.crash(index(device), reason);
      return ok();
    },
    async close() {
      // The process lets go of its descriptors as on exit: the twin's releases run.
      for (const [i, fd] of [...fds].reverse()) {
        fds.delete(i);
        await promise(twin.close(pid, fd));
      }
    },
  };
}
