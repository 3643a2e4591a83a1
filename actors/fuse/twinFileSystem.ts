// twinFileSystem: the FUSE requests of the mounted twin answered by a KernelTwin — class/remoteproc/remoteprocN/* and dev/remoteprocN.

import { constants } from 'node:fs';
import { profileFeatures } from '../../machines/profile.js';
import type { KernelTwin } from '../kernel/KernelTwin.js';
import type { PendingCall } from '../kernel/PendingCall.js';
import { SYSFS_ATTRS, type SysfsAttr } from '../kernel/sysfsAttributes.js';
import * as P from './fuseProtocol.js';

/**
 * The twin pid that owns every descriptor opened through the mount. The real kernel does the per-process
 * part (fork, dup, close on death) and sends RELEASE on the last close of an open file description, so
 * one FUSE file handle is one twin open file description.
 */
export const MOUNT_PID = 0;

type Node =
  | { kind: 'dir'; ino: number; name: string; parent: number; children: () => Node[] }
  | { kind: 'attr'; ino: number; name: SysfsAttr; parent: number; index: number }
  | { kind: 'cdev'; ino: number; name: string; parent: number; index: number };

type Handle =
  | { kind: 'attr'; index: number; attr: SysfsAttr; text: Buffer | null }
  | { kind: 'cdev'; fd: number; index: number; pid: number; uid: number; since: number };

/** An open file description of `dev/remoteprocN`, with the process that opened it (FUSE tells its pid). */
export interface DeviceHolder {
  /** Index of the processor. */
  index: number;
  /** The twin descriptor (owned by {@link MOUNT_PID}). */
  fd: number;
  /** The real process that opened it; after a fork others may share it, and it may be gone. */
  pid: number;
  uid: number;
  /** When it was opened, ms since the epoch. */
  since: number;
}

/** The negotiated protocol: what the kernel offered and the minor we answered with. */
export interface FuseProtocolVersion {
  kernel: string;
  negotiated: string;
}

const ROOT = P.FUSE_ROOT_ID;

/** What a handler did: replied, will reply when a twin call settles, or owes no reply. */
type Outcome = 'replied' | 'later' | 'none';
type Answer = (error: string | 0, payload?: Buffer) => Outcome;

/**
 * Answers FUSE requests with the kernel twin's semantics: attribute reads return the twin's strings,
 * writes its errno, and the device file supports open, write, the two remoteproc ioctls (restricted FUSE
 * ioctls: the kernel copies the `_IOW`/`_IOR` int32 in and out) and release. Blocking twin calls are
 * answered when they settle; other requests are served meanwhile. Never throws: a request it cannot
 * make sense of gets EINVAL, EIO or ENOSYS.
 */
export class TwinFileSystem {
  readonly #twin: KernelTwin;
  readonly #send: (reply: Buffer) => void;
  readonly #log: (msg: string) => void;
  readonly #nodes = new Map<number, Node>();
  readonly #handles = new Map<number, Handle>();
  readonly #time = Math.floor(Date.now() / 1000);
  #nextFh = 1;
  /** Set once INIT has been answered. */
  protocol: FuseProtocolVersion | null = null;

  constructor(twin: KernelTwin, send: (reply: Buffer) => void, log: (msg: string) => void = () => {}) {
    this.#twin = twin;
    this.#send = send;
    this.#log = log;
    const classDir = this.#dir(2, 'class', ROOT, () => [remoteproc]);
    // A processor the twin unbound is gone from the class directory at once; its device node too where
    // devtmpfs removes it (v5.14+), else the static node stays (its open is ENXIO).
    const devDir = this.#dir(3, 'dev', ROOT, () =>
      this.#devFiles.filter((n) => n.kind !== 'cdev' || this.#nodeStays(n.index)),
    );
    const remoteproc = this.#dir(4, 'remoteproc', 2, () =>
      this.#procDirs.filter((d) => !this.#twin.processor(d.index).context.removed).map((d) => d.node),
    );
    this.#dir(ROOT, '', ROOT, () => [classDir, devDir]);
    for (const p of twin.processors) this.#addProcessor(p.index, p.device);
    // Processors the twin registers at run time (hotplug) appear as they are added.
    twin.onAdd((p) => this.#addProcessor(p.index, p.device));
  }

  readonly #procDirs: Array<{ index: number; node: Node }> = [];
  readonly #devFiles: Node[] = [];

  #dir(ino: number, name: string, parent: number, children: () => Node[]): Node {
    const n: Node = { kind: 'dir', ino, name, parent, children };
    this.#nodes.set(ino, n);
    return n;
  }

  #nodeStays(index: number): boolean {
    const p = this.#twin.processor(index);
    return !p.context.removed || !profileFeatures(p.profile).devtmpfsNode;
  }

  /** The nodes of processor `index`: its directory of attributes (inode 16 + 8·index), its device file. */
  #addProcessor(index: number, device: string): void {
    const base = 16 + index * 8;
    const attrs = SYSFS_ATTRS.map((attr, k): Node => {
      const n: Node = { kind: 'attr', ino: base + 1 + k, name: attr, parent: base, index };
      this.#nodes.set(n.ino, n);
      return n;
    });
    // An attribute the profile lacks (recovery, coredump before 5.10) is not there at all.
    const node = this.#dir(base, device, 4, () =>
      attrs.filter((a) => a.kind !== 'attr' || this.#exists(a.index, a.name)),
    );
    this.#procDirs.push({ index, node });
    const dev: Node = { kind: 'cdev', ino: base + 6, name: device, parent: 3, index };
    this.#nodes.set(dev.ino, dev);
    this.#devFiles.push(dev);
  }

  /** Descriptors of the device files currently open through the mount. */
  get openDevices(): number {
    return this.deviceHolders().length;
  }

  /** The open file descriptions of the device files, in the order they were opened. */
  deviceHolders(): DeviceHolder[] {
    const out: DeviceHolder[] = [];
    for (const h of this.#handles.values())
      if (h.kind === 'cdev') out.push({ index: h.index, fd: h.fd, pid: h.pid, uid: h.uid, since: h.since });
    return out;
  }

  #exists(index: number, attr: SysfsAttr): boolean {
    const r = this.#twin.sysfsRead(index, attr);
    return r.ok || r.error.code !== 'ENOENT';
  }

  #attr(n: Node): P.FuseAttr {
    const mode =
      n.kind === 'dir' ? 0o40755 : n.kind === 'cdev' ? 0o100600 : n.name === 'name' ? 0o100444 : 0o100644;
    const size = n.kind === 'attr' ? 4096 : 0;
    return { ino: n.ino, mode, size, nlink: n.kind === 'dir' ? 2 : 1, uid: 0, gid: 0, time: this.#time };
  }

  #child(parent: Node, name: string): Node | undefined {
    if (parent.kind !== 'dir') return undefined;
    return parent.children().find((c) => c.name === name);
  }

  /** Handles one request; replies now, later (blocking twin calls), or never (FORGET, INTERRUPT). */
  handle(req: P.FuseRequest): void {
    const answer: Answer = (error, payload) => {
      this.#send(P.reply(req.unique, error, payload));
      return 'replied';
    };
    try {
      this.#dispatch(req, answer);
    } catch (err) {
      this.#log(`fuse: opcode ${req.opcode} failed: ${(err as Error).stack ?? String(err)}`);
      answer('EIO');
    }
  }

  #dispatch(req: P.FuseRequest, answer: Answer): Outcome {
    const node = this.#nodes.get(req.nodeid);
    const settle = <T>(call: PendingCall<T>, ok: (v: T) => Buffer | undefined): Outcome => {
      call.onSettled((r) => (r.ok ? answer(0, ok(r.value)) : answer(r.error.code)));
      return 'later';
    };
    switch (req.opcode) {
      case P.OP.INIT:
        return this.#init(req, answer);
      case P.OP.FORGET:
      case P.OP.BATCH_FORGET:
      case P.OP.INTERRUPT: // twin calls are not interruptible once started; the kernel drops the reply
        return 'none';
      case P.OP.DESTROY:
      case P.OP.FLUSH:
      case P.OP.FSYNC:
      case P.OP.FSYNCDIR:
      case P.OP.RELEASEDIR:
        return answer(0);
      case P.OP.STATFS:
        return answer(0, P.statfsOut());
      case P.OP.LOOKUP: {
        if (!node) return answer('ENOENT');
        if (node.kind !== 'dir') return answer('ENOTDIR');
        const child = this.#child(node, P.parseName(req.body));
        return child ? answer(0, P.entryOut(this.#attr(child))) : answer('ENOENT');
      }
      case P.OP.GETATTR:
      case P.OP.SETATTR: // truncation (a shell's `>`) is accepted and changes nothing, as on sysfs
      case P.OP.ACCESS:
        if (!node) return answer('ENOENT');
        return req.opcode === P.OP.ACCESS ? answer(0) : answer(0, P.attrOut(this.#attr(node)));
      case P.OP.OPENDIR:
        if (!node) return answer('ENOENT');
        return node.kind === 'dir' ? answer(0, P.openOut(0, 0)) : answer('ENOTDIR');
      case P.OP.READDIR: {
        const io = P.parseIo(req.body);
        if (!node) return answer('ENOENT');
        if (node.kind !== 'dir') return answer('ENOTDIR');
        if (!io) return answer('EINVAL');
        const entries: P.DirEntry[] = [
          { ino: node.ino, name: '.', type: P.DT.DIR },
          { ino: node.parent, name: '..', type: P.DT.DIR },
          ...node
            .children()
            .map((c) => ({ ino: c.ino, name: c.name, type: c.kind === 'dir' ? P.DT.DIR : P.DT.REG })),
        ];
        return answer(0, P.dirents(entries, io.offset, io.size));
      }
      case P.OP.OPEN:
        return this.#open(node, req, answer);
      case P.OP.READ: {
        const io = P.parseIo(req.body);
        const h = io && this.#handles.get(io.fh);
        if (!io || !h) return answer('EBADF');
        if (h.kind === 'cdev') {
          const r = this.#twin.cdevRead(MOUNT_PID, h.fd);
          return answer(r.ok ? 'EIO' : r.error.code);
        }
        // Like seq_file: the attribute is formatted by the first read (or one at offset 0), and later
        // reads continue that text.
        if (io.offset === 0 || h.text === null) {
          const r = this.#twin.sysfsRead(h.index, h.attr);
          if (!r.ok) return answer(r.error.code);
          h.text = Buffer.from(r.value);
        }
        return answer(0, h.text.subarray(io.offset, io.offset + io.size));
      }
      case P.OP.WRITE: {
        const io = P.parseIo(req.body);
        const h = io && this.#handles.get(io.fh);
        if (!io || !h) return answer('EBADF');
        const size = io.data.length;
        // sysfs ignores the offset; the bytes are passed exactly (one trailing newline is the twin's call).
        const call =
          h.kind === 'attr'
            ? this.#twin.sysfsWrite(h.index, h.attr, io.data.toString('utf8'))
            : this.#twin.cdevWrite(MOUNT_PID, h.fd, Uint8Array.from(io.data));
        return settle(call, () => P.writeOut(size));
      }
      case P.OP.IOCTL:
        return this.#ioctl(req.body, answer);
      case P.OP.RELEASE: {
        const fh = P.parseFh(req.body);
        const h = this.#handles.get(fh);
        this.#handles.delete(fh);
        if (h?.kind !== 'cdev') return answer(0);
        // The last close of this open file description: the twin's rproc_cdev_release.
        return settle(this.#twin.close(MOUNT_PID, h.fd), () => undefined);
      }
      case P.OP.CREATE:
        return answer('EACCES'); // vfs_create without a create op, as on sysfs
      case P.OP.MKNOD:
      case P.OP.MKDIR:
      case P.OP.UNLINK:
      case P.OP.RMDIR:
      case P.OP.RENAME:
        return answer('EPERM');
      default:
        return answer('ENOSYS'); // xattrs, locks, poll, …: the kernel stops asking, or says EOPNOTSUPP
    }
  }

  #init(req: P.FuseRequest, answer: Answer): Outcome {
    const init = P.parseInit(req.body);
    if (!init) return answer('EINVAL');
    if (init.major > P.FUSE_MAJOR) return answer(0, P.initOut(init, P.FUSE_MINOR)); // the kernel re-sends 7.x
    if (init.major < P.FUSE_MAJOR || init.minor < P.FUSE_MIN_MINOR) {
      this.#log(`fuse: kernel protocol ${init.major}.${init.minor} is older than 7.${P.FUSE_MIN_MINOR}`);
      return answer('EPROTO');
    }
    const minor = Math.min(init.minor, P.FUSE_MINOR);
    this.protocol = { kernel: `${init.major}.${init.minor}`, negotiated: `${P.FUSE_MAJOR}.${minor}` };
    return answer(0, P.initOut(init, minor));
  }

  #open(node: Node | undefined, req: P.FuseRequest, answer: Answer): Outcome {
    const body = req.body;
    if (!node) return answer('ENOENT');
    if (node.kind === 'dir') return answer('EISDIR');
    const flags = body.length >= 4 ? body.readUInt32LE(0) : 0;
    const writing = (flags & 3) !== constants.O_RDONLY;
    let h: Handle;
    if (node.kind === 'attr') {
      if (!this.#exists(node.index, node.name)) return answer('ENOENT');
      // kernfs refuses to open a 0444 attribute for writing, even for root.
      if (writing && node.name === 'name') return answer('EACCES');
      h = { kind: 'attr', index: node.index, attr: node.name, text: null };
    } else {
      const fd = this.#twin.cdevOpen(MOUNT_PID, node.index, { write: writing });
      if (!fd.ok) return answer(fd.error.code);
      h = { kind: 'cdev', fd: fd.value, index: node.index, pid: req.pid, uid: req.uid, since: Date.now() };
    }
    const fh = this.#nextFh++;
    this.#handles.set(fh, h);
    return answer(0, P.openOut(fh, P.FOPEN_DIRECT_IO));
  }

  #ioctl(body: Buffer, answer: Answer): Outcome {
    const io = P.parseIoctl(body);
    const h = io && this.#handles.get(io.fh);
    if (!io) return answer('EINVAL');
    if (io.flags & P.FUSE_IOCTL_DIR || h?.kind !== 'cdev') return answer('ENOTTY');
    if (io.flags & P.FUSE_IOCTL_UNRESTRICTED) return answer('ENOSYS');
    // _IOW: the int32 the caller's pointer points at; fewer bytes stand for a bad pointer (EFAULT).
    const arg = io.data.length >= 4 ? io.data.readInt32LE(0) : undefined;
    const r = this.#twin.cdevIoctl(MOUNT_PID, h.fd, io.cmd, arg);
    if (!r.ok) return answer(r.error.code);
    if (io.outSize >= 4) {
      // _IOR: the kernel's put_user of the value; the ioctl itself returns 0.
      const out = Buffer.alloc(4);
      out.writeInt32LE(r.value, 0);
      return answer(0, P.ioctlOut(0, out));
    }
    return answer(0, P.ioctlOut(r.value));
  }
}
