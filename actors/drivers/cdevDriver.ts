// cdev driver: holds /dev/remoteprocN with shutdown-on-release and writes commands to it (RprocDriver).

import { close as closeFd, closeSync, write as writeFd } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, ok, type Result } from '../../machines/errno.js';
import { crashPoint } from '../crashPoint.js';
import { RPROC_GET_SHUTDOWN_ON_RELEASE, RPROC_SET_SHUTDOWN_ON_RELEASE } from '../kernel/cdevCommand.js';
import { ioctlInt } from './ioctl.js';
import { nodeError, type ObservedState, type RprocDriver } from './RprocDriver.js';
import { nodeFiles, type SysfsFiles, sysfsAccess, sysfsBackedDriver } from './sysfsDriver.js';

/** Options of {@link createCdevDriver}. */
export interface CdevDriverOptions {
  /** Where `remoteprocN/` attributes are. @default '/sys/class/remoteproc' */
  sysfsRoot?: string;
  /** Where the `remoteprocN` device nodes are. @default '/dev' */
  devRoot?: string;
  /** @default node's file system */
  files?: SysfsFiles;
  /**
   * Descriptors of `remoteprocN` this process inherited (the service manager's fd store, docs/systemd.md),
   * by device: used in place of a new open — the same open file description, so no new reference and
   * no new start. The driver owns them from now on.
   */
  inherited?: ReadonlyMap<string, number>;
  /** Told each descriptor the driver opens (to hand it to the service manager's fd store). */
  onHold?: (device: string, fd: number) => void;
  /** Told each descriptor the driver lets go of (cleared and closed): remove it from the fd store. */
  onLetGo?: (device: string) => void;
}

/** What the driver holds a device through: a FileHandle it opened, or an inherited descriptor. */
interface DeviceHandle {
  readonly fd: number;
  write(text: string): Promise<unknown>;
  close(): Promise<void>;
}

/** An inherited descriptor as a {@link DeviceHandle}. */
function inheritedHandle(fd: number): DeviceHandle {
  return {
    fd,
    write: (text) =>
      new Promise((resolve, reject) => writeFd(fd, text, (err, n) => (err ? reject(err) : resolve(n)))),
    close: () => new Promise((resolve) => closeFd(fd, () => resolve())),
  };
}

/** The cdev driver: an {@link RprocDriver} that also hears of removed processors. */
export interface CdevDriver extends RprocDriver {
  /**
   * `device` was removed (driver unbind or rmmod: hotplug's `remove` uevent, or found gone by the
   * driver itself). If the driver holds its descriptor, it clears shutdown-on-release on it (ioctl 0:
   * the ioctl runs no driver op) and closes it, and never writes to it again: on a kernel with the 2026
   * backports a removed processor can still read running, and a `stop` or a flagged close on that
   * descriptor calls `ops->stop` in a module that may be unloaded — a kernel Oops (docs/abi.md). A later
   * `start` of a device of that name opens a fresh descriptor (a re-added processor). Resolves once
   * the descriptor is closed; a device it does not hold is a no-op.
   */
  onRemoved(device: string): Promise<void>;
  /**
   * The devices whose inherited descriptor ({@link CdevDriverOptions.inherited}) the driver kept: those
   * with shutdown-on-release still set. One found cleared was being let go of by the previous
   * incarnation: it is closed (and `onLetGo` told), not kept.
   */
  readonly inherited: readonly string[];
}

/**
 * The cdev driver. For each processor it controls, it opens `<devRoot>/remoteprocN` read-write (Node
 * opens every descriptor with O_CLOEXEC, and spawns children without them, so no child inherits it),
 * sets RPROC_SET_SHUTDOWN_ON_RELEASE, and writes `start` / `stop` to it without a newline. If this
 * process dies, the kernel's release of the descriptor stops the processor. The device has no read:
 * state, firmware and recovery go through sysfs. It never opens a device only to look at it: with the
 * flag set, any last close drops a reference (kernel-semantics §5.4).
 *
 * @example
 * const driver = createCdevDriver();
 * await driver.start('remoteproc0'); // opens and holds /dev/remoteproc0, then boots it
 * await driver.close();              // the kernel's release stops it
 *
 * Before each write and before it closes a descriptor, it checks that the processor's sysfs directory
 * is still there (`state` readable); if it is gone (ENOENT), the processor was removed: it lets go of
 * the descriptor as {@link CdevDriver.onRemoved} does instead (the write answers ENODEV).
 */
export function createCdevDriver(options: CdevDriverOptions = {}): CdevDriver {
  const devRoot = options.devRoot ?? '/dev';
  const sys = sysfsAccess(options.sysfsRoot ?? '/sys/class/remoteproc', options.files ?? nodeFiles);
  const held = new Map<string, Promise<Result<DeviceHandle>>>();
  const kept: string[] = [];
  for (const [device, fd] of options.inherited ?? []) {
    const flag = ioctlInt(fd, RPROC_GET_SHUTDOWN_ON_RELEASE);
    if (flag.ok && flag.value !== 0) {
      held.set(device, Promise.resolve(ok(inheritedHandle(fd))));
      kept.push(device);
    } else {
      // Cleared: the previous incarnation was letting it go (its reference, if any, is not ours).
      options.onLetGo?.(device);
      closeSync(fd);
    }
  }
  /** Descriptors being let go of: a new open waits for it (the flag is cleared before it is set again). */
  const lettingGo = new Map<string, Promise<void>>();

  const hold = (device: string): Promise<Result<DeviceHandle>> => {
    let h = held.get(device);
    if (!h) {
      const path = join(devRoot, device);
      h = (async (): Promise<Result<DeviceHandle>> => {
        await lettingGo.get(device);
        let handle: DeviceHandle;
        try {
          handle = await open(path, 'r+');
        } catch (err) {
          return nodeError(err, 'cdev.open', path);
        }
        const set = ioctlInt(handle.fd, RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
        if (!set.ok) {
          await handle.close();
          return set;
        }
        options.onHold?.(device, handle.fd);
        return ok(handle);
      })();
      held.set(device, h);
      void h.then((r) => {
        if (!r.ok) held.delete(device);
      });
    }
    return h;
  };

  /**
   * Lets go of a descriptor: shutdown-on-release cleared first (the flag is the processor's: a close
   * with it set would drop a reference that is not ours, or call into a removed driver), then closed.
   * The next command opens it again; it waits for this.
   */
  const release = async (device: string): Promise<void> => {
    const h = held.get(device);
    if (!h) return;
    held.delete(device);
    const closing = (async () => {
      const r = await h;
      if (!r.ok) return;
      ioctlInt(r.value.fd, RPROC_SET_SHUTDOWN_ON_RELEASE, 0);
      options.onLetGo?.(device);
      await r.value.close();
    })();
    lettingGo.set(device, closing);
    await closing;
    if (lettingGo.get(device) === closing) lettingGo.delete(device);
  };
  /** The processor's sysfs directory is gone: it was removed. */
  const gone = async (device: string): Promise<boolean> => {
    const s = await sys.state(device);
    return !s.ok && s.error.code === 'ENOENT';
  };

  const command = async (
    device: string,
    cmd: 'start' | 'stop' | 'detach',
  ): Promise<Result<ObservedState>> => {
    if (held.has(device) && (await gone(device))) {
      await release(device);
      return fail('ENODEV', `cdev.${cmd}`, `${device} was removed: its descriptor is closed, not written`);
    }
    const h = await hold(device);
    if (!h.ok) return h;
    try {
      // One write of the bare word: the cdev rejects a trailing newline (kernel-semantics §5.2).
      await h.value.write(cmd);
      if (cmd === 'start') crashPoint('boot');
      if (cmd === 'stop') crashPoint('stop');
    } catch (err) {
      return nodeError(err, 'cdev.write', join(devRoot, device));
    }
    return sys.state(device);
  };

  const driver = sysfsBackedDriver(sys, {
    kind: 'cdev',
    holdsDevice: true,
    command,
    letGo: release,
    async close() {
      // A descriptor being let go of has its flag cleared before this process may exit.
      await Promise.all(lettingGo.values());
      // Reverse order of acquisition; a removed processor's descriptor is closed without its flag.
      for (const [device, h] of [...held].reverse()) {
        if (await gone(device)) {
          await release(device);
          continue;
        }
        held.delete(device);
        const r = await h;
        if (r.ok) await r.value.close();
      }
    },
  });
  return { ...driver, onRemoved: release, inherited: kept };
}
