// sysfs front end: /sys/class/remoteproc/remoteprocN/{state,firmware,name,recovery,coredump} (kernel-semantics §4).

import { fail, ok, type Result } from '../../machines/errno.js';
import { profileFeatures } from '../../machines/profile.js';
import { COREDUMP_MODES, type CoredumpMode } from '../../machines/rprocTypes.js';
import { PendingCall } from './PendingCall.js';
import { layerCommand, type Processor, written } from './Processor.js';

/** The remoteproc attributes the twin serves. */
export const SYSFS_ATTRS = ['state', 'firmware', 'name', 'recovery', 'coredump'] as const;
/** One remoteproc sysfs attribute. */
export type SysfsAttr = (typeof SYSFS_ATTRS)[number];

const OP = 'sysfs.write';
const encoder = new TextEncoder();

/** `sysfs_streq`: equal, allowing one trailing newline. */
export function sysfsStreq(buf: string, word: string): boolean {
  return buf === word || buf === `${word}\n`;
}

/** ENOENT when the attribute file does not exist: the device is gone, or the profile predates it. */
function missing(p: Processor, attr: SysfsAttr, op: string): Result<never> | undefined {
  if (p.context.removed) return fail('ENOENT', op, `${p.device} was unregistered`);
  if ((attr === 'recovery' || attr === 'coredump') && !profileFeatures(p.profile).sysfsRecoveryAndCoredump) {
    return fail('ENOENT', op, `${attr} is in debugfs only before v5.10`);
  }
  return undefined;
}

/** Reads an attribute: the kernel's string plus `\n`. Lock-free, so transients show. */
export function sysfsRead(p: Processor, attr: SysfsAttr): Result<string> {
  const gone = missing(p, attr, 'sysfs.read');
  if (gone) return gone;
  const ctx = p.context;
  switch (attr) {
    case 'state':
      return ok(`${ctx.state}\n`);
    case 'firmware': {
      const unknown = profileFeatures(p.profile).firmwareUnknownWhenAttached
        ? ctx.state === 'attached'
        : ctx.autonomous;
      return ok(`${unknown ? 'unknown' : ctx.firmware}\n`);
    }
    case 'name':
      return ok(`${ctx.options.name}\n`);
    case 'recovery':
      return ok(ctx.recoveryDisabled ? 'disabled\n' : 'enabled\n');
    case 'coredump':
      return ok(`${ctx.coredump}\n`);
  }
}

function writeState(p: Processor, value: string, count: number): PendingCall<number> {
  if (sysfsStreq(value, 'start')) return layerCommand(p, 'start', OP, count);
  if (sysfsStreq(value, 'stop')) return layerCommand(p, 'stop', OP, count);
  if (profileFeatures(p.profile).detachCommand && sysfsStreq(value, 'detach'))
    return layerCommand(p, 'detach', OP, count);
  return PendingCall.settled(fail('EINVAL', OP, `Unrecognised option: ${value}`));
}

function writeFirmware(p: Processor, value: string, count: number): PendingCall<number> {
  // Cut at the first newline; the core checks the state before the empty name, on every version.
  const name = value.split('\n')[0] ?? '';
  return written(p.call('setFirmware', { firmware: name }), OP, count);
}

function writeRecovery(p: Processor, value: string, count: number): PendingCall<number> {
  if (sysfsStreq(value, 'enabled')) {
    p.set({ recoveryDisabled: false });
    return written(p.call('recover'), OP, count, true);
  }
  if (sysfsStreq(value, 'disabled')) {
    p.set({ recoveryDisabled: true });
    return PendingCall.settled(ok(count));
  }
  if (sysfsStreq(value, 'recover')) return written(p.call('recover'), OP, count, true);
  return PendingCall.settled(fail('EINVAL', OP, `Unrecognised option: ${value}`));
}

function writeCoredump(p: Processor, value: string, count: number): PendingCall<number> {
  if (p.context.state === 'crashed') {
    return PendingCall.settled(fail('EBUSY', OP, "can't change coredump configuration"));
  }
  const mode = COREDUMP_MODES.find((m) => sysfsStreq(value, m));
  if (!mode) return PendingCall.settled(fail('EINVAL', OP, `Invalid coredump configuration: ${value}`));
  p.set({ coredump: mode satisfies CoredumpMode });
  return PendingCall.settled(ok(count));
}

/**
 * Writes `value` (the bytes of `write(2)`, one trailing newline allowed) to an attribute. Settles with
 * the byte count, or the kernel's errno, when the kernel would return.
 */
export function sysfsWrite(p: Processor, attr: SysfsAttr, value: string): PendingCall<number> {
  const gone = missing(p, attr, OP);
  if (gone) return PendingCall.settled<number>(gone);
  // kernfs refuses to open a 0444 attribute for writing, even for root.
  const readOnly =
    attr === 'name' || (p.context.options.sysfsReadOnly && profileFeatures(p.profile).sysfsReadOnlyFlag);
  if (readOnly) return PendingCall.settled(fail('EACCES', OP, `${attr} is read-only`));
  const count = encoder.encode(value).length;
  // sysfs_kf_write: a 0-byte write returns 0 without reaching the attribute's store.
  if (count === 0) return PendingCall.settled(ok(0));
  switch (attr) {
    case 'state':
      return writeState(p, value, count);
    case 'firmware':
      return writeFirmware(p, value, count);
    case 'recovery':
      return writeRecovery(p, value, count);
    case 'coredump':
      return writeCoredump(p, value, count);
  }
}
