// sysfs driver: reads and writes <root>/remoteprocN/{state,firmware,recovery,coredump,name} (RprocDriver).

import { constants } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ok, type Result } from '../../machines/errno.js';
import type { SysfsAttr } from '../kernel/sysfsAttributes.js';
import {
  deviceIndex,
  findProcessor,
  nodeError,
  type ObservedState,
  type ProcessorRef,
  parseState,
  type RprocDriver,
} from './RprocDriver.js';

/** The file operations the driver makes: Node's by default; tests may put the kernel twin behind them. */
export interface SysfsFiles {
  readFile(path: string): Promise<string>;
  /** One `write(2)` of exactly `data` (what `echo -n` does), to an existing attribute. */
  writeFile(path: string, data: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
}

/** Node's file system: `open(O_WRONLY|O_TRUNC)` as a shell's `>` does but without O_CREAT, one write, close. */
export const nodeFiles: SysfsFiles = {
  readFile: (path) => readFile(path, 'utf8'),
  async writeFile(path, data) {
    const handle = await open(path, constants.O_WRONLY | constants.O_TRUNC);
    try {
      await handle.write(data);
    } finally {
      await handle.close();
    }
  },
  readdir: (path) => readdir(path),
};

/** Options of {@link createSysfsDriver}. */
export interface SysfsDriverOptions {
  /** @default '/sys/class/remoteproc' */
  root?: string;
  /** @default node's file system */
  files?: SysfsFiles;
}

/** The sysfs operations the cdev driver shares. */
export interface SysfsAccess {
  root: string;
  list(): Promise<ProcessorRef[]>;
  read(device: string, attr: SysfsAttr): Promise<Result<string>>;
  write(device: string, attr: SysfsAttr, value: string): Promise<Result>;
  state(device: string): Promise<Result<ObservedState>>;
}

/** Reads and writes the attributes of `root` with `files`. */
export function sysfsAccess(root: string, files: SysfsFiles): SysfsAccess {
  const path = (device: string, attr: SysfsAttr) => join(root, device, attr);
  const access: SysfsAccess = {
    root,
    async list() {
      let names: string[];
      try {
        names = await files.readdir(root);
      } catch {
        return [];
      }
      const devices = names
        .filter((n) => deviceIndex(n) !== undefined)
        .sort((a, b) => (deviceIndex(a) ?? 0) - (deviceIndex(b) ?? 0));
      const out: ProcessorRef[] = [];
      for (const device of devices) {
        const name = await access.read(device, 'name');
        out.push({ device, name: name.ok ? name.value : device });
      }
      return out;
    },
    async read(device, attr) {
      try {
        return ok((await files.readFile(path(device, attr))).replace(/\n$/, ''));
      } catch (err) {
        return nodeError(err, 'sysfs.read', path(device, attr));
      }
    },
    async write(device, attr, value) {
      try {
        await files.writeFile(path(device, attr), value);
        return ok();
      } catch (err) {
        return nodeError(err, 'sysfs.write', path(device, attr));
      }
    },
    async state(device) {
      const r = await access.read(device, 'state');
      return r.ok ? ok(parseState(r.value)) : r;
    },
  };
  return access;
}

/** Polls `state` every `intervalMs` and reports each change, until the returned function is called. */
export function pollState(
  state: () => Promise<Result<ObservedState>>,
  onState: (s: ObservedState) => void,
  intervalMs: number,
): () => void {
  let last: ObservedState | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const r = await state();
    if (stopped) return;
    if (r.ok && r.value !== last) {
      last = r.value;
      onState(r.value);
    }
    timer = setTimeout(tick, intervalMs);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * The sysfs driver. Commands are written without a newline and confirmed by re-reading `state`. It cannot
 * hold the device, so `hybrid` cannot run on it.
 *
 * @example
 * const driver = createSysfsDriver();
 * const p = await driver.resolve('m4');
 * if (p.ok) console.log(await driver.start(p.value.device)); // { ok: true, value: 'running' }
 */
export function createSysfsDriver(options: SysfsDriverOptions = {}): RprocDriver {
  const sys = sysfsAccess(options.root ?? '/sys/class/remoteproc', options.files ?? nodeFiles);
  const command = async (
    device: string,
    cmd: 'start' | 'stop' | 'detach',
  ): Promise<Result<ObservedState>> => {
    const w = await sys.write(device, 'state', cmd);
    return w.ok ? sys.state(device) : w;
  };
  return sysfsBackedDriver(sys, { kind: 'sysfs', holdsDevice: false, command, close: async () => {} });
}

/**
 * A driver whose reads, `firmware`, `recovery` and polling go through sysfs; only how `start`/`stop`
 * are issued (and what `close` lets go of) differs between the sysfs and cdev drivers.
 */
export function sysfsBackedDriver(
  sys: SysfsAccess,
  parts: Pick<RprocDriver, 'kind' | 'holdsDevice' | 'close' | 'letGo'> & {
    command(device: string, cmd: 'start' | 'stop' | 'detach'): Promise<Result<ObservedState>>;
  },
): RprocDriver {
  return {
    kind: parts.kind,
    holdsDevice: parts.holdsDevice,
    list: () => sys.list(),
    resolve: async (ref) => findProcessor(await sys.list(), ref),
    read: (device, attr) => sys.read(device, attr),
    state: (device) => sys.state(device),
    setFirmware: (device, name) => sys.write(device, 'firmware', name),
    setRecovery: (device, value) => sys.write(device, 'recovery', value),
    start: (device) => parts.command(device, 'start'),
    stop: (device) => parts.command(device, 'stop'),
    detach: (device) => parts.command(device, 'detach'),
    watch: (device, onState, intervalMs) => pollState(() => sys.state(device), onState, intervalMs),
    close: parts.close,
    ...(parts.letGo ? { letGo: parts.letGo } : {}),
  };
}
