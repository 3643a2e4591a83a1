// mountTwin: the kernel twin mounted as a file system — class/remoteproc/remoteprocN/* and dev/remoteprocN under one directory.

import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_PROFILE, type KernelProfile } from '../../machines/profile.js';
import { KernelTwin, type ProcessorSpec } from '../kernel/KernelTwin.js';
import { realClock } from '../RealClock.js';
import type { TwinClock } from '../VirtualClock.js';
import { FuseSession } from './fuseMount.js';
import { clearStaleMount, type MountEntry } from './staleMount.js';
import { type DeviceHolder, type FuseProtocolVersion, TwinFileSystem } from './twinFileSystem.js';

/** Options of {@link mountTwin}. */
export interface MountTwinOptions {
  /** The mount point; created if missing. */
  dir: string;
  processors: ProcessorSpec[];
  /** @default DEFAULT_PROFILE ('5.19') */
  kernel?: KernelProfile;
  /** @default real time: a boot takes bootMs of wall-clock time */
  clock?: TwinClock;
  /** Unexpected server-side errors (a request that threw). */
  log?: (msg: string) => void;
  /** How long to wait for the kernel's INIT. @default 5000 */
  initTimeoutMs?: number;
}

/** A mounted twin. Everything a caller (the CLI, an inspector, a test) needs to look at or drive it. */
export interface MountedTwin {
  /** The absolute mount point. */
  dir: string;
  /** The twin behind the files: subscribe to it, inspect it, crash its processors. */
  twin: KernelTwin;
  processors: readonly ProcessorSpec[];
  /** `<dir>/class/remoteproc`: what a driver's `--sysfs-root` should be. */
  sysfsRoot: string;
  /** `<dir>/dev`: what a driver's `--dev-root` should be. */
  devRoot: string;
  /** The FUSE protocol version the kernel offered and the one negotiated. */
  protocol: FuseProtocolVersion;
  /** A dead FUSE mount that was found on `dir` and cleared first, if any. */
  clearedStale: MountEntry | null;
  /** Descriptors of `dev/remoteprocN` open right now (each is one open file description). */
  openDevices(): number;
  /** Who opened each of them: the real pid and uid FUSE reported with the open. */
  deviceHolders(): DeviceHolder[];
  /** Resolves when the kernel ends the connection (unmounted, possibly by someone else). */
  ended: Promise<string>;
  /** Unmounts (lazily if files are still open) and stops the twin. Idempotent. */
  close(): Promise<void>;
}

/**
 * Mounts a {@link KernelTwin} on `dir` through /dev/fuse (root only). Reads of the mounted files return
 * the twin's strings, writes its errno, and the kernel's own file handling (fork, dup, close on death)
 * decides when a device file is released. A stale mount of a killed twin on `dir` is cleared first; a
 * live one is refused (EBUSY). Errors are Node-style errors with an errno `code` (EPERM when not root,
 * ENOENT when /dev/fuse is missing).
 *
 * Callers in the same process must use asynchronous file APIs on the mount: a synchronous call blocks
 * the event loop that answers it.
 *
 * @example
 * const m = await mountTwin({ dir: '/tmp/twin', processors: [{ name: 'm4', bootMs: 50 }] });
 * // sh -c 'echo start > /tmp/twin/class/remoteproc/remoteproc0/state'
 * await m.close();
 */
export async function mountTwin(options: MountTwinOptions): Promise<MountedTwin> {
  const dir = resolve(options.dir);
  const log = options.log ?? (() => {});
  // A dead mount first: until it is cleared, even mkdir on it fails with ENOTCONN.
  const stale = await clearStaleMount(dir);
  await mkdir(dir, { recursive: true }).catch((err: { code?: string }) => {
    if (err.code !== 'EEXIST') throw err;
    throw Object.assign(new Error(`ENOTDIR: ${dir} is not a directory`), { code: 'ENOTDIR', path: dir });
  });
  const twin = new KernelTwin({
    profile: options.kernel ?? DEFAULT_PROFILE,
    processors: options.processors,
    clock: options.clock ?? realClock,
  });
  let session: FuseSession | undefined;
  let initialised: () => void = () => {};
  const init = new Promise<void>((r) => {
    initialised = r;
  });
  const fs = new TwinFileSystem(twin, (reply) => session?.write(reply), log);
  try {
    session = FuseSession.mount({
      dir,
      subtype: 'rproc-twin',
      onWriteError: (err) => log(`fuse: reply refused: ${err.message}`),
      onRequest: (req) => {
        fs.handle(req);
        if (fs.protocol) initialised();
      },
    });
  } catch (err) {
    twin.stop();
    throw err;
  }
  const s = session;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    init.then(() => false),
    s.ended.then(() => true),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), options.initTimeoutMs ?? 5000);
    }),
  ]);
  clearTimeout(timer);
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= s.unmount().finally(() => twin.stop());
    return closed;
  };
  if (timedOut || !fs.protocol) {
    await close();
    throw Object.assign(new Error(`EPROTO: ${dir}: the kernel's FUSE INIT was not answered`), {
      code: 'EPROTO',
    });
  }
  return {
    dir,
    twin,
    processors: options.processors,
    sysfsRoot: join(dir, 'class', 'remoteproc'),
    devRoot: join(dir, 'dev'),
    protocol: fs.protocol,
    clearedStale: stale.cleared ? stale.mount : null,
    openDevices: () => fs.openDevices,
    deviceHolders: () => fs.deviceHolders(),
    ended: s.ended,
    close,
  };
}
