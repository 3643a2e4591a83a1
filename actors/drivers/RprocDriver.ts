// RprocDriver: the one interface of the drivers (sim, sysfs, cdev) the production supervisor runs on.

import { ERRNOS, type Errno, fail, type Result } from '../../machines/errno.js';
import { KERNEL_STATES, type KernelState } from '../../machines/rprocTypes.js';
import type { SysfsAttr } from '../kernel/sysfsAttributes.js';

/** Which driver. */
export type DriverKind = 'sim' | 'sysfs' | 'cdev';

/** A processor as a driver finds it. */
export interface ProcessorRef {
  /** `remoteprocN`. */
  device: string;
  /** The driver-given `name`. */
  name: string;
}

/** A `state` read: a kernel state, or `invalid` for a string the kernel does not print. */
export type ObservedState = KernelState | 'invalid';

/**
 * What the supervisor needs from the kernel, the same on a board (sysfs, cdev) and in the twin (sim).
 * Every call returns errno data; none throws for a kernel error. Commands confirm by re-reading
 * `state` and return what they find: a successful `stop` need not stop anything (kernel-semantics §2).
 */
export interface RprocDriver {
  readonly kind: DriverKind;
  /**
   * The driver holds `/dev/remoteprocN` with shutdown-on-release, so the kernel stops the processor if
   * this process dies: what `hybrid` needs.
   */
  readonly holdsDevice: boolean;
  /** The processors there are, in device order. */
  list(): Promise<ProcessorRef[]>;
  /** The processor called `ref` (`remoteprocN` or its name); ENODEV if there is none. */
  resolve(ref: string): Promise<Result<ProcessorRef>>;
  /** Reads an attribute, without its trailing newline. */
  read(device: string, attr: SysfsAttr): Promise<Result<string>>;
  /** Reads `state`. */
  state(device: string): Promise<Result<ObservedState>>;
  /** Writes `firmware` (EBUSY unless offline). */
  setFirmware(device: string, name: string): Promise<Result>;
  /** Writes `recovery`. */
  setRecovery(device: string, value: 'enabled' | 'disabled' | 'recover'): Promise<Result>;
  /** `start`; resolves after the kernel returns, with the state read afterwards. */
  start(device: string): Promise<Result<ObservedState>>;
  /** `stop` (one reference); resolves with the state read afterwards. */
  stop(device: string): Promise<Result<ObservedState>>;
  /** `detach` (v5.13+; EINVAL unless ATTACHED, or without `ops->detach`); resolves with the state read afterwards. */
  detach(device: string): Promise<Result<ObservedState>>;
  /** Polls `state` every `intervalMs` (remoteproc sends no events) and reports each change. */
  watch(device: string, onState: (state: ObservedState) => void, intervalMs: number): () => void;
  /**
   * Lets go of `/dev/remoteprocN` if the driver holds it, clearing shutdown-on-release first while the
   * processor runs (the flag is the processor's, kernel-semantics §5.4: the release would drop a reference that is not
   * this process's). The next command opens it again. Only drivers that hold the device have it.
   */
  letGo?(device: string): Promise<void>;
  /** Lets go of everything the driver holds (for cdev: the descriptors, so the kernel's release runs). */
  close(): Promise<void>;
}

/** Parses a `state` read. */
export function parseState(text: string): ObservedState {
  const s = text.trim();
  return (KERNEL_STATES as readonly string[]).includes(s) ? (s as KernelState) : 'invalid';
}

/** Maps a Node error (its `code`) to errno data; codes the ABI does not use become EIO with the detail. */
export function nodeError<T = never>(err: unknown, op: string, path?: string): Result<T> {
  const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : '';
  const message = err instanceof Error ? err.message : String(err);
  const known = (ERRNOS as readonly string[]).includes(code);
  const r = fail<T>(known ? (code as Errno) : 'EIO', op, known ? path : `${path ?? ''} ${message}`.trim());
  return r;
}

/** `remoteprocN` for an index, and the index of `remoteprocN` (the kernel twin's own helpers). */
export { deviceIndex, deviceName } from '../kernel/Processor.js';

/** Finds `ref` among `list` by device or name. */
export function findProcessor(list: readonly ProcessorRef[], ref: string): Result<ProcessorRef> {
  const p = list.find((x) => x.device === ref) ?? list.find((x) => x.name === ref);
  if (p) return { ok: true, value: p };
  // At most 10 named: the message stays small however many processors there are.
  const named = list.slice(0, 10).map((x) => `${x.device} (${x.name})`);
  if (list.length > 10) named.push(`… ${list.length - 10} more`);
  const known = named.join(', ') || 'none';
  return fail('ENODEV', 'resolve', `no processor "${ref}"; there are: ${known}`);
}
