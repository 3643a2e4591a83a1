// uevent: the kernel's uevent messages (NETLINK_KOBJECT_UEVENT, `ACTION@DEVPATH\0KEY=VAL\0…`), parsed — pure, no I/O.

/** One kernel uevent: its action and device path, and every `KEY=VAL` it carried. */
export interface Uevent {
  /** `add`, `remove`, `change`, `bind`, `unbind`, `move`, `online`, `offline`. */
  action: string;
  /** The device's path under /sys, e.g. `/devices/platform/remoteproc-test/remoteproc/remoteproc0`. */
  devpath: string;
  /** `SUBSYSTEM`, e.g. `remoteproc`; absent when the message had none. */
  subsystem?: string;
  /** Every `KEY=VAL` of the message (ACTION, DEVPATH, SUBSYSTEM, SEQNUM, DEVNAME, …). */
  vars: Record<string, string>;
}

/** The largest message the kernel sends (UEVENT_BUFFER_SIZE 2048, plus the `ACTION@DEVPATH` header). */
export const UEVENT_MAX = 8192;

/**
 * Parses one datagram of the kernel's uevent multicast group (group 1): `ACTION@DEVPATH`, then
 * NUL-separated `KEY=VAL` pairs. Returns null for what is not a kernel uevent: an empty or headerless
 * message, or udev's own re-broadcast (it starts with `libudev`, and goes to group 2 anyway). A pair
 * without `=` is skipped; the ACTION and DEVPATH pairs, when present, win over the header.
 */
export function parseUevent(bytes: Uint8Array): Uevent | null {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const parts = text.split('\0');
  const header = parts[0] ?? '';
  if (header.startsWith('libudev')) return null;
  const at = header.indexOf('@');
  if (at <= 0 || at === header.length - 1) return null;
  const vars: Record<string, string> = {};
  for (const pair of parts.slice(1)) {
    const eq = pair.indexOf('=');
    if (eq > 0) vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const action = vars.ACTION ?? header.slice(0, at);
  const devpath = vars.DEVPATH ?? header.slice(at + 1);
  return { action, devpath, ...(vars.SUBSYSTEM ? { subsystem: vars.SUBSYSTEM } : {}), vars };
}

/** What a remoteproc uevent says: a `remoteprocN` was added or removed (or changed). */
export interface RemoteprocUevent {
  action: string;
  /** `remoteprocN`: the last component of DEVPATH. */
  device: string;
}

const DEVICE = /^remoteproc\d+$/;

/**
 * A uevent of the remoteproc class itself (`SUBSYSTEM=remoteproc`, DEVPATH ending in `remoteprocN`), or
 * null: the platform device's own `bind`/`unbind` and the rpmsg/virtio children's events are not the
 * processor's appearing or going.
 */
export function remoteprocUevent(e: Uevent | null): RemoteprocUevent | null {
  if (e?.subsystem !== 'remoteproc') return null;
  const device = e.devpath.slice(e.devpath.lastIndexOf('/') + 1);
  return DEVICE.test(device) ? { action: e.action, device } : null;
}
