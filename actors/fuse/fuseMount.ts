// fuseMount: a FUSE session without libfuse — open /dev/fuse, mount(2) through koffi, read requests on a thread, write replies.

import { closeSync, openSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { Worker } from 'node:worker_threads';
import { libc as loadLibc } from '../libc.js';
import { type FuseRequest, parseRequest, READ_BUFFER } from './fuseProtocol.js';

type CStr = string | null;
interface Libc {
  mount(source: CStr, target: CStr, type: CStr, flags: number, data: CStr): number;
  umount2(target: string, flags: number): number;
  errno(): number;
}

let loaded: Libc | null = null;

/** libc's `mount` and `umount2`, loaded once through koffi. */
function libc(): Libc {
  if (!loaded) {
    const { koffi, lib } = loadLibc();
    const mount = lib.func(
      'int mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data)',
    );
    const umount2 = lib.func('int umount2(const char *target, int flags)');
    loaded = {
      mount: (...a) => mount(...a),
      umount2: (t, f) => umount2(t, f),
      errno: () => koffi.errno(),
    };
  }
  return loaded;
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** An Error with the errno name as `code`, as Node's own system errors have. */
export function sysError(call: string, errno: number, path: string): Error & { code: string } {
  const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  return Object.assign(new Error(`${call} ${path}: ${code}`), { code, errno, syscall: call, path });
}

/** MS_NOSUID | MS_NODEV. */
const MOUNT_FLAGS = 2 | 4;
/** umount2's MNT_DETACH: lazy unmount, for a mount that is busy or whose server is gone. */
export const MNT_DETACH = 2;

/** `umount2(target, flags)`; throws a system error with the errno name. */
export function umount(target: string, flags = 0): void {
  const c = libc();
  if (c.umount2(target, flags) !== 0) throw sysError('umount2', c.errno(), target);
}

// The reading thread: blocking read(2)s on /dev/fuse, each request posted to the main thread. It ends
// when the connection does (ENODEV after unmount, or an abort).
const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const buf = Buffer.alloc(workerData.size);
for (;;) {
  let n;
  try {
    n = readSync(workerData.fd, buf, 0, buf.length, null);
  } catch (err) {
    if (err.code === 'EINTR' || err.code === 'EAGAIN' || err.code === 'ENOENT') continue;
    parentPort.postMessage({ end: err.code || String(err) });
    break;
  }
  if (n === 0) { parentPort.postMessage({ end: 'EOF' }); break; }
  parentPort.postMessage(buf.subarray(0, n));
}
`;

/** Options of {@link FuseSession.mount}. */
export interface FuseMountOptions {
  /** The mount point, an existing directory. */
  dir: string;
  /** `fuse.<subtype>` in /proc/mounts, and the source name. */
  subtype: string;
  /** Called for each request; must not block. */
  onRequest(req: FuseRequest): void;
  /** Called when the kernel refuses a reply (a server bug: the reply was malformed). */
  onWriteError?(err: Error): void;
}

/**
 * One mounted FUSE file system. Requests are read by a worker thread (a read blocks until the kernel
 * has one, and must never block the event loop or take a libuv pool thread that callers of the mount
 * in this same process would need); replies are written synchronously, which never blocks on /dev/fuse.
 */
export class FuseSession {
  readonly dir: string;
  readonly #fd: number;
  readonly #worker: Worker;
  readonly #onWriteError: (err: Error) => void;
  #ended: Promise<string>;

  private constructor(options: FuseMountOptions, fd: number) {
    this.dir = options.dir;
    this.#fd = fd;
    this.#onWriteError = options.onWriteError ?? (() => {});
    this.#worker = new Worker(READER, { eval: true, workerData: { fd, size: READ_BUFFER } });
    // The first of these settles it: a promise resolves once.
    this.#ended = new Promise((end) => {
      this.#worker.on('message', (m: Uint8Array | { end: string }) => {
        if (m instanceof Uint8Array) {
          const req = parseRequest(Buffer.from(m.buffer, m.byteOffset, m.byteLength));
          if (req) options.onRequest(req);
        } else end(m.end);
      });
      this.#worker.on('error', (err) => end(String(err)));
      this.#worker.on('exit', () => end('exit'));
    });
  }

  /**
   * Opens /dev/fuse and mounts it on `dir` as `fuse.<subtype>` (root only: EPERM otherwise; ENOENT
   * when /dev/fuse is missing). The kernel's first request is INIT.
   */
  static mount(options: FuseMountOptions): FuseSession {
    const fd = openSync('/dev/fuse', 'r+');
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const data = `fd=${fd},rootmode=40000,user_id=${uid},group_id=${gid},allow_other`;
    const c = libc();
    if (c.mount(options.subtype, options.dir, `fuse.${options.subtype}`, MOUNT_FLAGS, data) !== 0) {
      const errno = c.errno();
      closeSync(fd);
      throw sysError('mount', errno, options.dir);
    }
    return new FuseSession(options, fd);
  }

  /**
   * Writes one reply; never throws (it runs inside twin callbacks). A request the caller gave up on
   * (ENOENT) or a gone connection (ENODEV) is normal; anything else is a malformed reply, reported to
   * `onWriteError`.
   */
  write(buf: Buffer): void {
    try {
      writeSync(this.#fd, buf);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENODEV' && code !== 'EBADF') this.#onWriteError(err as Error);
    }
  }

  /** Resolves with the reason when the connection has ended. */
  get ended(): Promise<string> {
    return this.#ended;
  }

  /**
   * Unmounts: a plain umount, or a lazy one (MNT_DETACH) when something still has a file open there.
   * Resolves when the reading thread has ended, or after `waitMs` if open files keep the connection
   * alive (the thread is then left to end with them, and does not keep the process alive).
   */
  async unmount(waitMs = 2000): Promise<void> {
    try {
      umount(this.dir);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EBUSY') umount(this.dir, MNT_DETACH);
      else if (code !== 'EINVAL' && code !== 'ENOENT') throw err; // EINVAL: no longer mounted
    }
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = await Promise.race([
      this.#ended.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), waitMs);
      }),
    ]);
    clearTimeout(timer);
    if (gaveUp) {
      this.#worker.unref();
      return;
    }
    await this.#worker.terminate();
    closeSync(this.#fd);
  }
}
