// fuseProtocol: the FUSE kernel protocol (linux/fuse.h, 7.x) — request headers in, reply structs out, for the opcodes the twin serves.

import { constants } from 'node:os';

/** The protocol major version this server speaks. */
export const FUSE_MAJOR = 7;
/** The highest minor version this server speaks (the structs below are those of 7.38). */
export const FUSE_MINOR = 38;
/** Older minors change struct sizes we do not model; the kernel has sent at least 7.23 since Linux 3.15. */
export const FUSE_MIN_MINOR = 23;
/** The root directory's node id. */
export const FUSE_ROOT_ID = 1;
/** The largest write payload we accept; the read buffer is this plus room for headers. */
export const MAX_WRITE = 64 * 1024;
/** Size of the buffer each `read(2)` on /dev/fuse uses (it must hold MAX_WRITE plus headers). */
export const READ_BUFFER = MAX_WRITE + 4096;

/** The opcodes the twin handles or must recognise (enum fuse_opcode). */
export const OP = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  SETXATTR: 21,
  GETXATTR: 22,
  LISTXATTR: 23,
  REMOVEXATTR: 24,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  DESTROY: 38,
  IOCTL: 39,
  BATCH_FORGET: 42,
} as const;

/** FOPEN_DIRECT_IO: every read and write goes to the server; no page cache, no size needed. */
export const FOPEN_DIRECT_IO = 1 << 0;
/** FUSE_BIG_WRITES (init flag): writes larger than a page in one request. */
export const FUSE_BIG_WRITES = 1 << 5;
/** FUSE_IOCTL_UNRESTRICTED: only CUSE and privileged servers see these; we refuse them. */
export const FUSE_IOCTL_UNRESTRICTED = 1 << 1;
/** FUSE_IOCTL_DIR: an ioctl on a directory. */
export const FUSE_IOCTL_DIR = 1 << 4;

/** sizeof(struct fuse_in_header). */
export const IN_HEADER = 40;
/** sizeof(struct fuse_out_header). */
export const OUT_HEADER = 16;

/** A request as read from /dev/fuse: its header and the bytes after it. */
export interface FuseRequest {
  opcode: number;
  unique: bigint;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
  body: Buffer;
}

/** Parses one request read from /dev/fuse; null if it is shorter than its header claims. */
export function parseRequest(buf: Buffer): FuseRequest | null {
  if (buf.length < IN_HEADER) return null;
  const len = buf.readUInt32LE(0);
  if (len < IN_HEADER || len > buf.length) return null;
  return {
    opcode: buf.readUInt32LE(4),
    unique: buf.readBigUInt64LE(8),
    nodeid: Number(buf.readBigUInt64LE(16)),
    uid: buf.readUInt32LE(24),
    gid: buf.readUInt32LE(28),
    pid: buf.readUInt32LE(32),
    body: buf.subarray(IN_HEADER, len),
  };
}

/** The errno number of a name (`EINVAL` → 22). */
export function errnoNumber(name: string): number {
  return (constants.errno as Record<string, number>)[name] ?? constants.errno.EIO;
}

/** A reply: `fuse_out_header` and `payload`; `error` is an errno name, or 0 for success. */
export function reply(unique: bigint, error: string | 0, payload: Buffer = Buffer.alloc(0)): Buffer {
  const body = error === 0 ? payload : Buffer.alloc(0);
  const out = Buffer.alloc(OUT_HEADER + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeInt32LE(error === 0 ? 0 : -errnoNumber(error), 4);
  out.writeBigUInt64LE(unique, 8);
  body.copy(out, OUT_HEADER);
  return out;
}

/** What a node looks like to `stat(2)`. */
export interface FuseAttr {
  ino: number;
  /** File type and permission bits, e.g. `0o100644`. */
  mode: number;
  size: number;
  nlink: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, for atime, mtime and ctime. */
  time: number;
}

/** sizeof(struct fuse_attr). */
const ATTR = 88;

function writeAttr(buf: Buffer, at: number, a: FuseAttr): void {
  buf.writeBigUInt64LE(BigInt(a.ino), at);
  buf.writeBigUInt64LE(BigInt(a.size), at + 8);
  buf.writeBigUInt64LE(BigInt(Math.ceil(a.size / 512)), at + 16);
  for (const off of [24, 32, 40]) buf.writeBigUInt64LE(BigInt(a.time), at + off);
  buf.writeUInt32LE(a.mode, at + 60);
  buf.writeUInt32LE(a.nlink, at + 64);
  buf.writeUInt32LE(a.uid, at + 68);
  buf.writeUInt32LE(a.gid, at + 72);
  buf.writeUInt32LE(4096, at + 80); // blksize
}

/** `fuse_entry_out` (LOOKUP): node id and attributes, cached for 0 s so every access asks again. */
export function entryOut(a: FuseAttr): Buffer {
  const b = Buffer.alloc(40 + ATTR);
  b.writeBigUInt64LE(BigInt(a.ino), 0);
  writeAttr(b, 40, a);
  return b;
}

/** `fuse_attr_out` (GETATTR, SETATTR), valid for 0 s. */
export function attrOut(a: FuseAttr): Buffer {
  const b = Buffer.alloc(16 + ATTR);
  writeAttr(b, 16, a);
  return b;
}

/** `fuse_open_out` (OPEN, OPENDIR). */
export function openOut(fh: number, openFlags: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt(fh), 0);
  b.writeUInt32LE(openFlags, 8);
  return b;
}

/** `fuse_write_out` (WRITE). */
export function writeOut(size: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(size, 0);
  return b;
}

/** `fuse_statfs_out`: a tiny file system with 255-byte names. */
export function statfsOut(): Buffer {
  const b = Buffer.alloc(80);
  b.writeUInt32LE(4096, 40); // bsize
  b.writeUInt32LE(255, 44); // namelen
  b.writeUInt32LE(4096, 48); // frsize
  return b;
}

/** The kernel's offer in `fuse_init_in`. */
export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
}

/** Parses `fuse_init_in`. */
export function parseInit(body: Buffer): InitIn | null {
  if (body.length < 16) return null;
  return {
    major: body.readUInt32LE(0),
    minor: body.readUInt32LE(4),
    maxReadahead: body.readUInt32LE(8),
    flags: body.readUInt32LE(12),
  };
}

/** `fuse_init_out`: our version (at most the kernel's minor), the flags we take, and MAX_WRITE. */
export function initOut(kernel: InitIn, minor: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(FUSE_MAJOR, 0);
  b.writeUInt32LE(minor, 4);
  b.writeUInt32LE(kernel.maxReadahead, 8);
  b.writeUInt32LE(kernel.flags & FUSE_BIG_WRITES, 12);
  b.writeUInt16LE(16, 16); // max_background
  b.writeUInt16LE(12, 18); // congestion_threshold
  b.writeUInt32LE(MAX_WRITE, 20);
  b.writeUInt32LE(1, 24); // time_gran: 1 ns
  return b;
}

/** One directory entry for READDIR. */
export interface DirEntry {
  ino: number;
  name: string;
  /** DT_DIR (4) or DT_REG (8). */
  type: number;
}

/** DT_DIR and DT_REG, for {@link DirEntry.type}. */
export const DT = { DIR: 4, REG: 8 } as const;

/**
 * The READDIR reply: `fuse_dirent`s from index `offset`, as many as fit in `size` bytes. Each entry's
 * `off` is the index of the next one, which the kernel sends back as the next offset.
 */
export function dirents(entries: readonly DirEntry[], offset: number, size: number): Buffer {
  const parts: Buffer[] = [];
  let used = 0;
  for (let i = offset; i < entries.length; i++) {
    const e = entries[i] as DirEntry;
    const name = Buffer.from(e.name);
    const len = (24 + name.length + 7) & ~7;
    if (used + len > size) break;
    const d = Buffer.alloc(len);
    d.writeBigUInt64LE(BigInt(e.ino), 0);
    d.writeBigUInt64LE(BigInt(i + 1), 8);
    d.writeUInt32LE(name.length, 16);
    d.writeUInt32LE(e.type, 20);
    name.copy(d, 24);
    parts.push(d);
    used += len;
  }
  return Buffer.concat(parts);
}

/** `fuse_ioctl_out` followed by the data the kernel copies out to the caller's pointer. */
export function ioctlOut(result: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(16 + data.length);
  b.writeInt32LE(result, 0);
  data.copy(b, 16);
  return b;
}

/** The fixed-size part of `fuse_ioctl_in`. */
export interface IoctlIn {
  fh: number;
  flags: number;
  cmd: number;
  inSize: number;
  outSize: number;
  /** The `_IOW` bytes the kernel copied in from the caller. */
  data: Buffer;
}

/** Parses `fuse_ioctl_in` and its input data. */
export function parseIoctl(body: Buffer): IoctlIn | null {
  if (body.length < 32) return null;
  const inSize = body.readUInt32LE(24);
  return {
    fh: Number(body.readBigUInt64LE(0)),
    flags: body.readUInt32LE(8),
    cmd: body.readUInt32LE(12),
    inSize,
    outSize: body.readUInt32LE(28),
    data: body.subarray(32, 32 + inSize),
  };
}

/** `fh`, `offset` and `size` of `fuse_read_in` / `fuse_write_in` (40 bytes; write data follows). */
export function parseIo(body: Buffer): { fh: number; offset: number; size: number; data: Buffer } | null {
  if (body.length < 40) return null;
  const size = body.readUInt32LE(16);
  return {
    fh: Number(body.readBigUInt64LE(0)),
    offset: Number(body.readBigUInt64LE(8)),
    size,
    data: body.subarray(40, 40 + size),
  };
}

/** `fh` of the requests that start with it (RELEASE, FLUSH, GETATTR's is at 8). */
export function parseFh(body: Buffer, at = 0): number {
  return body.length >= at + 8 ? Number(body.readBigUInt64LE(at)) : 0;
}

/** The NUL-terminated name of LOOKUP. */
export function parseName(body: Buffer): string {
  const nul = body.indexOf(0);
  return body.subarray(0, nul < 0 ? body.length : nul).toString('utf8');
}
