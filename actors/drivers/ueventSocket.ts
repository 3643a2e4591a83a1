// ueventSocket: a NETLINK_KOBJECT_UEVENT socket through koffi, read without blocking Node's event loop.

import { fail, ok, type Result } from '../../machines/errno.js';
import { libc } from '../libc.js';
import { errnoName } from './ioctl.js';
import { parseUevent, UEVENT_MAX, type Uevent } from './uevent.js';

const AF_NETLINK = 16;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_KOBJECT_UEVENT = 15;
/** The kernel's multicast group (group 2 is udev's re-broadcast). */
const KERNEL_GROUP = 1;
const MSG_DONTWAIT = 0x40;
const ENOBUFS = 105;

interface Calls {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number | bigint;
  close(fd: number): number;
  errno(): number;
}
let calls: Calls | null = null;
function load(): Calls {
  if (!calls) {
    const { koffi, lib } = libc();
    calls = {
      socket: lib.func('int socket(int domain, int type, int protocol)') as Calls['socket'],
      bind: lib.func('int bind(int fd, const void *addr, uint32_t len)') as Calls['bind'],
      recv: lib.func('intptr_t recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)') as Calls['recv'],
      close: lib.func('int close(int fd)') as Calls['close'],
      errno: () => koffi.errno(),
    };
  }
  return calls;
}

/** Options of {@link openUeventSocket}. */
export interface UeventSocketOptions {
  /** How often the socket is drained. @default 100 */
  pollMs?: number;
  /**
   * The kernel dropped messages (ENOBUFS: the receive buffer overflowed): whoever listens must look
   * again (a rescan), since an add or a remove may be among them.
   */
  onOverflow?(): void;
}

/** An open uevent socket. */
export interface UeventSocket {
  readonly fd: number;
  /** Stops reading and closes the descriptor. Idempotent. */
  close(): void;
}

/**
 * Opens `socket(AF_NETLINK, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT)` bound to the
 * kernel's group, and calls `onEvent` with every uevent it reads. Node cannot watch such a descriptor
 * (`new net.Socket({ fd })` refuses it: ERR_INVALID_FD_TYPE, libuv sees an unknown handle type), and a
 * blocking `recv` would hold a thread, so it is drained with non-blocking `recv` every `pollMs` on an
 * unref'd timer. Errno data when the socket cannot be opened or bound (EPERM, EACCES in a restricted
 * container; EAFNOSUPPORT without netlink).
 */
export function openUeventSocket(
  onEvent: (e: Uevent) => void,
  options: UeventSocketOptions = {},
): Result<UeventSocket> {
  let c: Calls;
  try {
    c = load();
  } catch (err) {
    return fail('ENOTSUP', 'uevent.socket', `koffi/libc: ${(err as Error).message}`);
  }
  const fd = c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
  if (fd < 0)
    return fail(errnoName(c.errno()), 'uevent.socket', 'socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)');
  // struct sockaddr_nl: nl_family (u16), nl_pad (u16), nl_pid (u32: 0, the kernel picks), nl_groups (u32).
  const addr = Buffer.alloc(12);
  addr.writeUInt16LE(AF_NETLINK, 0);
  addr.writeUInt32LE(KERNEL_GROUP, 8);
  if (c.bind(fd, addr, addr.length) < 0) {
    const code = errnoName(c.errno());
    c.close(fd);
    return fail(code, 'uevent.bind', 'bind to the kernel uevent group');
  }
  const buf = Buffer.alloc(UEVENT_MAX);
  let open = true;
  const drain = () => {
    while (open) {
      const n = Number(c.recv(fd, buf, buf.length, MSG_DONTWAIT));
      if (n < 0) {
        const e = c.errno();
        if (e === ENOBUFS) {
          options.onOverflow?.();
          continue;
        }
        return; // EAGAIN: nothing more now (EINTR: next time)
      }
      const e = parseUevent(buf.subarray(0, n));
      if (e) onEvent(e);
    }
  };
  const timer = setInterval(drain, options.pollMs ?? 100);
  timer.unref();
  return ok({
    fd,
    close() {
      if (!open) return;
      open = false;
      clearInterval(timer);
      c.close(fd);
    },
  });
}
