// hotplug: processors that appear or disappear while a supervisor runs — kernel uevents (netlink), else a rescan of the class directory.

import type { ProcessorRef } from '../../actors/drivers/RprocDriver.js';
import type { Uevent } from '../../actors/drivers/uevent.js';
import { remoteprocUevent } from '../../actors/drivers/uevent.js';
import { openUeventSocket, type UeventSocket } from '../../actors/drivers/ueventSocket.js';
import type { TwinClock } from '../../actors/VirtualClock.js';
import type { Result } from '../../machines/errno.js';

/** Where a supervisor hears of processors that come and go: kernel uevents, a periodic rescan, or nowhere. */
export type HotplugSource = 'netlink' | 'rescan' | 'none';

/** The default rescan period where netlink is unavailable (`--rescan-ms`). */
export const DEFAULT_RESCAN_MS = 1000;

/** Options of hotplug (`createSupervisor`'s `hotplug`). */
export interface HotplugOptions {
  /**
   * Listen to the kernel's uevents (NETLINK_KOBJECT_UEVENT): only right when the driver's sysfs root is
   * the kernel's own `/sys/class/remoteproc` (a mounted twin sends none). When the socket cannot be
   * opened (EPERM in a container …) the rescan is used instead. @default false
   */
  netlink?: boolean;
  /** Rescan the processors this often where there is no netlink. @default {@link DEFAULT_RESCAN_MS} */
  rescanMs?: number;
  /** Opens the uevent socket (tests inject one). @default {@link openUeventSocket} */
  openSocket?: (onEvent: (e: Uevent) => void, onOverflow: () => void) => Result<UeventSocket>;
}

/** What changed between the processors a supervisor has and those a listing shows. */
export interface ProcessorChanges {
  /** Devices gone, or now another processor (another `name` on the same `remoteprocN`). */
  removed: string[];
  added: ProcessorRef[];
}

/**
 * The difference between `known` and `listed`: a device not listed any more is removed; a listed device
 * not known is added; a device whose `name` changed is both (a new processor took its number). A
 * processor removed and added again between two listings with the same number and name is not seen:
 * the kernel's remove and add uevents are what tell it (the rescan cannot).
 */
export function processorChanges(
  known: readonly ProcessorRef[],
  listed: readonly ProcessorRef[],
): ProcessorChanges {
  const now = new Map(listed.map((p) => [p.device, p.name]));
  const had = new Map(known.map((p) => [p.device, p.name]));
  const removed = known.filter((p) => now.get(p.device) !== p.name).map((p) => p.device);
  const added = listed.filter((p) => had.get(p.device) !== p.name);
  return { removed, added };
}

/** What hotplug changes: the supervisor's processors. */
export interface HotplugTarget {
  /** The processors there are now (the driver's listing). */
  list(): Promise<ProcessorRef[]>;
  /** The processors the supervisor has. */
  known(): readonly ProcessorRef[];
  add(p: ProcessorRef): void;
  remove(device: string): Promise<unknown>;
  log(entry: { level: 'info' | 'warn'; msg: string; [k: string]: unknown }): void;
}

/** A running hotplug watch. */
export interface Hotplug {
  readonly source: HotplugSource;
  /** Looks at the processors now (what a uevent or a rescan tick does); resolves once applied. */
  sync(): Promise<void>;
  stop(): void;
}

/**
 * Watches for processors that appear or disappear and applies each change to `target`: on a remoteproc
 * uevent (a `remove` of `remoteprocN` removes it; any other reads the listing again, which adds what
 * appeared), else on a rescan every `rescanMs` on `clock`. Changes are applied one listing at a
 * time, in order; removals before additions, so a processor that came back on a new `remoteprocN` is
 * re-resolved by its name.
 */
export function startHotplug(target: HotplugTarget, options: HotplugOptions, clock: TwinClock): Hotplug {
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  const apply = async () => {
    const listed = await target.list();
    if (stopped) return;
    const changes = processorChanges(target.known(), listed);
    for (const device of changes.removed) await target.remove(device);
    for (const p of changes.added) if (!stopped) target.add(p);
  };
  const sync = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await apply().catch((err: unknown) =>
          target.log({ level: 'warn', msg: 'hotplug: listing the processors failed', error: String(err) }),
        );
      } while (again && !stopped);
      running = null;
    })();
    return running;
  };
  let socket: UeventSocket | null = null;
  if (options.netlink) {
    const open = options.openSocket ?? ((on, overflow) => openUeventSocket(on, { onOverflow: overflow }));
    const r = open(
      (e) => {
        const u = remoteprocUevent(e);
        if (!u || stopped) return;
        target.log({ level: 'info', msg: `uevent ${u.action}`, processor: u.device });
        // A remove is applied as it is, with no listing: the kernel sends it after removing the
        // attributes but before the directory goes, so a listing now could show a nameless remoteprocN.
        if (u.action === 'remove') {
          if (target.known().some((p) => p.device === u.device)) void target.remove(u.device);
        } else void sync();
      },
      () => {
        target.log({ level: 'warn', msg: 'hotplug: uevents were dropped (ENOBUFS): rescanning' });
        void sync();
      },
    );
    if (r.ok) socket = r.value;
    else
      target.log({
        level: 'warn',
        msg: `hotplug: no uevent socket (${r.error.code}): rescanning every ${options.rescanMs ?? DEFAULT_RESCAN_MS} ms instead`,
        ...(r.error.detail ? { detail: r.error.detail } : {}),
      });
  }
  const rescanMs = options.rescanMs ?? DEFAULT_RESCAN_MS;
  let timer: unknown = null;
  if (!socket && rescanMs > 0) {
    const tick = () => {
      timer = clock.setTimeout(() => {
        if (stopped) return;
        void sync().then(() => !stopped && tick());
      }, rescanMs);
    };
    tick();
  }
  const source: HotplugSource = socket ? 'netlink' : rescanMs > 0 ? 'rescan' : 'none';
  return {
    source,
    sync,
    stop() {
      stopped = true;
      socket?.close();
      if (timer !== null) clock.clearTimeout(timer);
    },
  };
}
