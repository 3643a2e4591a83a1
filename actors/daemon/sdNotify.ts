// sdNotify: the service manager's notification protocol (sd_notify(3)) — datagrams on $NOTIFY_SOCKET, with descriptors as SCM_RIGHTS, through koffi.

import { type Errno, fail, ok, type Result } from '../../machines/errno.js';
import { errnoName } from '../drivers/ioctl.js';
import { libc as loadLibc } from '../libc.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
/** `sizeof(struct sockaddr_un)`'s path part. */
const SUN_PATH = 108;
/** Descriptors one message carries at most (the kernel's SCM_MAX_FD is 253). */
export const MAX_NOTIFY_FDS = 253;

interface Iovec {
  iov_base: unknown;
  iov_len: number;
}
interface Msghdr {
  msg_name: unknown;
  msg_namelen: number;
  msg_iov: unknown;
  msg_iovlen: number;
  msg_control: unknown;
  msg_controllen: number;
  msg_flags: number;
}
interface Fns {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  close(fd: number): number;
  listen(fd: number, backlog: number): number;
  sendmsg(fd: number, msg: Msghdr, flags: number): number | bigint;
  recvmsg(fd: number, msg: Msghdr, flags: number): number | bigint;
  iovec: unknown;
  errno(): number;
}
let fns: Fns | null = null;

function libc(): Fns {
  if (!fns) {
    const { koffi, lib } = loadLibc();
    const iovec = koffi.struct('rproc_iovec', { iov_base: 'void *', iov_len: 'size_t' });
    koffi.struct('rproc_msghdr', {
      msg_name: 'void *',
      msg_namelen: 'uint32',
      msg_iov: 'void *',
      msg_iovlen: 'size_t',
      msg_control: 'void *',
      msg_controllen: 'size_t',
      msg_flags: 'int',
    });
    fns = {
      socket: lib.func('int socket(int domain, int type, int protocol)') as Fns['socket'],
      bind: lib.func('int bind(int fd, const void *addr, uint32 len)') as Fns['bind'],
      close: lib.func('int close(int fd)') as Fns['close'],
      listen: lib.func('int listen(int fd, int backlog)') as Fns['listen'],
      sendmsg: lib.func('intptr_t sendmsg(int fd, const rproc_msghdr *msg, int flags)') as Fns['sendmsg'],
      recvmsg: lib.func('intptr_t recvmsg(int fd, _Inout_ rproc_msghdr *msg, int flags)') as Fns['recvmsg'],
      iovec,
      errno: () => koffi.errno(),
    };
  }
  return fns;
}

/** errno data for the last failed call of `op`. */
function lastError(op: string, what: string): Result<never> {
  const n = libc().errno();
  return fail(errnoName(n), op, `${what}: errno ${n}`);
}

/**
 * A `sockaddr_un` for `path`: a file system path, or an abstract name written `@name` (the `@` becomes
 * the leading NUL, as systemd writes `$NOTIFY_SOCKET`). EINVAL for an empty or too long name.
 */
export function unixAddress(path: string): Result<{ addr: Buffer; length: number }> {
  const abstract = path.startsWith('@');
  const name = abstract ? Buffer.concat([Buffer.from([0]), Buffer.from(path.slice(1))]) : Buffer.from(path);
  if (
    name.length === 0 ||
    name.length > (abstract ? SUN_PATH : SUN_PATH - 1) ||
    (!abstract && name[0] !== 0x2f)
  )
    return fail('EINVAL', 'sd_notify', `not a Unix socket address: ${JSON.stringify(path)}`);
  const addr = Buffer.alloc(2 + SUN_PATH);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  // An abstract name is exactly its bytes; a path ends with its NUL.
  return ok({ addr, length: 2 + name.length + (abstract ? 0 : 1) });
}

/** The control message of SCM_RIGHTS carrying `fds`. */
function rightsMessage(fds: readonly number[]): Buffer {
  const data = 4 * fds.length;
  const space = 16 + Math.ceil(data / 8) * 8;
  const b = Buffer.alloc(space);
  b.writeBigUInt64LE(BigInt(16 + data), 0);
  b.writeInt32LE(SOL_SOCKET, 8);
  b.writeInt32LE(SCM_RIGHTS, 12);
  for (const [i, fd] of fds.entries()) b.writeInt32LE(fd, 16 + 4 * i);
  return b;
}

/**
 * Sends one datagram `message` to the Unix datagram socket `path` (a path, or `@abstract`), with `fds`
 * as SCM_RIGHTS: sd_pid_notify_with_fds(3) without libsystemd. errno data on failure (ENOENT, ECONNREFUSED
 * as EIO, …); nothing is thrown.
 */
export function sendDatagram(path: string, message: string, fds: readonly number[] = []): Result {
  const target = unixAddress(path);
  if (!target.ok) return target;
  if (fds.length > MAX_NOTIFY_FDS)
    return fail('EINVAL', 'sd_notify', `more than ${MAX_NOTIFY_FDS} descriptors`);
  const { koffi } = loadLibc();
  const c = libc();
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return lastError('socket', path);
  try {
    const payload = Buffer.from(message);
    const control = fds.length ? rightsMessage(fds) : null;
    const msg: Msghdr = {
      msg_name: target.value.addr,
      msg_namelen: target.value.length,
      msg_iov: koffi.as(
        [{ iov_base: payload, iov_len: payload.length } satisfies Iovec],
        koffi.pointer(c.iovec as never),
      ),
      msg_iovlen: 1,
      msg_control: control,
      msg_controllen: control?.length ?? 0,
      msg_flags: 0,
    };
    const n = Number(c.sendmsg(fd, msg, MSG_NOSIGNAL));
    return n < 0 ? lastError('sendmsg', path) : ok();
  } finally {
    c.close(fd);
  }
}

/** A datagram received with {@link receiveDatagram}: its text and the descriptors it carried (now this process's). */
export interface Datagram {
  text: string;
  fds: number[];
}

/**
 * Binds a Unix socket at `path` (a path, or `@abstract`): a datagram socket, what a service manager
 * listens on for notifications, or a listening stream socket, what it passes for socket activation
 * (the tests play one). Returns its descriptor (close-on-exec), not served by Node.
 */
export function bindUnix(path: string, type: 'datagram' | 'stream' = 'datagram'): Result<number> {
  const target = unixAddress(path);
  if (!target.ok) return target;
  const c = libc();
  const fd = c.socket(AF_UNIX, (type === 'stream' ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return lastError('socket', path);
  if (c.bind(fd, target.value.addr, target.value.length) < 0) {
    const e = lastError('bind', path);
    c.close(fd);
    return e;
  }
  if (type === 'stream' && c.listen(fd, 128) < 0) {
    const e = lastError('listen', path);
    c.close(fd);
    return e;
  }
  return ok(fd);
}

/**
 * Reads one datagram from `fd` without waiting: the datagram, or null when none is queued. Received
 * descriptors are close-on-exec. Up to 64 KiB of text and {@link MAX_NOTIFY_FDS} descriptors.
 */
export function receiveDatagram(fd: number): Result<Datagram | null> {
  const { koffi } = loadLibc();
  const c = libc();
  const size = 64 * 1024;
  const controlSize = 16 + 4 * MAX_NOTIFY_FDS + 4;
  const buf = koffi.alloc('uint8', size);
  const control = koffi.alloc('uint8', controlSize);
  const iov = koffi.alloc(c.iovec as never, 1);
  try {
    koffi.encode(iov, c.iovec as never, { iov_base: buf, iov_len: size } satisfies Iovec);
    const msg: Msghdr = {
      msg_name: null,
      msg_namelen: 0,
      msg_iov: iov,
      msg_iovlen: 1,
      msg_control: control,
      msg_controllen: controlSize,
      msg_flags: 0,
    };
    const n = Number(c.recvmsg(fd, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
    if (n < 0) {
      const e = c.errno();
      return errnoName(e) === ('EAGAIN' as Errno) || e === 11 ? ok(null) : lastError('recvmsg', `fd ${fd}`);
    }
    const text = Buffer.from(koffi.view(buf, n)).toString('utf8');
    const fds: number[] = [];
    const cbytes = Buffer.from(koffi.view(control, Number(msg.msg_controllen)));
    for (let at = 0; at + 16 <= cbytes.length; ) {
      const len = Number(cbytes.readBigUInt64LE(at));
      if (len < 16) break;
      if (cbytes.readInt32LE(at + 8) === SOL_SOCKET && cbytes.readInt32LE(at + 12) === SCM_RIGHTS)
        for (let i = at + 16; i + 4 <= at + len; i += 4) fds.push(cbytes.readInt32LE(i));
      at += Math.ceil(len / 8) * 8;
    }
    return ok({ text, fds });
  } finally {
    koffi.free(buf);
    koffi.free(control);
    koffi.free(iov);
  }
}

/** Closes a descriptor this process holds by number (a received or inherited one). */
export function closeFd(fd: number): void {
  libc().close(fd);
}

/** The service manager as the environment describes it (systemd.exec(5), sd_notify(3)). */
export interface ServiceManager {
  /** `$NOTIFY_SOCKET`: a path or `@abstract`. */
  readonly socket: string;
  /** `$WATCHDOG_USEC` in ms when it is set for this process (`$WATCHDOG_PID` unset or ours), else null. */
  readonly watchdogMs: number | null;
  /** `$FDSTORE`: how many descriptors the service manager keeps for this service (0: no fd store). */
  readonly fdStoreMax: number;
  /** Sends `KEY=value` lines (sd_notify(3)), with `fds` as SCM_RIGHTS. */
  notify(fields: Record<string, string>, fds?: readonly number[]): Result;
}

/**
 * The service manager this process runs under, or null without `$NOTIFY_SOCKET`: then nothing is sent
 * and nothing changes.
 */
export function serviceManager(
  env: NodeJS.ProcessEnv = process.env,
  pid = process.pid,
): ServiceManager | null {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return null;
  const usec = Number(env.WATCHDOG_USEC);
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
  const store = Number(env.FDSTORE);
  return {
    socket,
    watchdogMs: forUs && Number.isFinite(usec) && usec > 0 ? usec / 1000 : null,
    fdStoreMax: Number.isInteger(store) && store > 0 ? store : 0,
    notify: (fields, fds = []) =>
      sendDatagram(
        socket,
        Object.entries(fields)
          // A value is one line: a newline would start another assignment.
          .map(([k, v]) => `${k}=${v.replace(/[\r\n]+/g, ' ')}`)
          .join('\n'),
        fds,
      ),
  };
}
