// FdTable: processes, their descriptor tables and the open file descriptions they share (dup/fork semantics).

import { fail, ok, type Result } from '../../machines/errno.js';

/** An open file description of `/dev/remoteprocN`: shared by fork, released on its last close. */
export interface OpenFileDescription {
  id: number;
  /** Index of the processor (`remoteproc<rproc>`). */
  rproc: number;
  writable: boolean;
  /** Descriptors, in any process, that refer to it. */
  refs: number;
}

interface Process {
  fds: Map<number, OpenFileDescription>;
  /** Descriptors opened with O_CLOEXEC: closed by `exec`, not by `fork`. */
  cloexec: Set<number>;
}

/** The first descriptor a process gets; 0–2 are its standard streams. */
const FIRST_FD = 3;

/**
 * Per-process descriptor tables. A pid comes alive when first used and stays dead once it exits.
 * Releases are not done here: `close` and `exit` return the descriptions whose last reference went away.
 */
export class FdTable {
  #procs = new Map<number, Process>();
  #dead = new Set<number>();
  #nextOfd = 1;

  /** True once `pid` has exited. */
  isDead(pid: number): boolean {
    return this.#dead.has(pid);
  }

  /** Live pids, ascending. */
  pids(): number[] {
    return [...this.#procs.keys()].sort((a, b) => a - b);
  }

  #proc(pid: number): Result<Process> {
    if (this.#dead.has(pid)) return fail('ESRCH', 'process', `pid ${pid} has exited`);
    let p = this.#procs.get(pid);
    if (!p) {
      p = { fds: new Map(), cloexec: new Set() };
      this.#procs.set(pid, p);
    }
    return ok(p);
  }

  /** Opens a new description in `pid`, returning the lowest free descriptor number. */
  open(pid: number, rproc: number, writable: boolean, cloexec = false): Result<number> {
    const p = this.#proc(pid);
    if (!p.ok) return p;
    let fd = FIRST_FD;
    while (p.value.fds.has(fd)) fd++;
    p.value.fds.set(fd, { id: this.#nextOfd++, rproc, writable, refs: 1 });
    if (cloexec) p.value.cloexec.add(fd);
    return ok(fd);
  }

  /** The description behind `pid`'s descriptor `fd`: ESRCH for a dead process, EBADF for a bad fd. */
  get(pid: number, fd: number): Result<OpenFileDescription> {
    const p = this.#proc(pid);
    if (!p.ok) return p;
    const ofd = p.value.fds.get(fd);
    return ofd ? ok(ofd) : fail('EBADF', 'fd', `pid ${pid} has no fd ${fd}`);
  }

  /** Closes one descriptor. The value is the description if that was its last reference, else null. */
  close(pid: number, fd: number): Result<OpenFileDescription | null> {
    const got = this.get(pid, fd);
    if (!got.ok) return got;
    this.#procs.get(pid)?.fds.delete(fd);
    this.#procs.get(pid)?.cloexec.delete(fd);
    got.value.refs--;
    return ok(got.value.refs === 0 ? got.value : null);
  }

  /**
   * `sendmsg(SCM_RIGHTS)` of `from`'s descriptor `fd` to `to` (a service manager's fd store, say): `to`
   * gets a new descriptor, the lowest free, on the same open file description, which gains a reference.
   */
  pass(from: number, fd: number, to: number): Result<number> {
    const got = this.get(from, fd);
    if (!got.ok) return got;
    const p = this.#proc(to);
    if (!p.ok) return p;
    let n = FIRST_FD;
    while (p.value.fds.has(n)) n++;
    p.value.fds.set(n, got.value);
    got.value.refs++;
    return ok(n);
  }

  /** `fork()`: the child gets a copy of the parent's table; every description gains a reference. */
  fork(parent: number, child: number): Result {
    const p = this.#proc(parent);
    if (!p.ok) return p;
    if (this.#procs.has(child) || this.#dead.has(child))
      return fail('EINVAL', 'fork', `pid ${child} already used`);
    const fds = new Map(p.value.fds);
    for (const ofd of fds.values()) ofd.refs++;
    this.#procs.set(child, { fds, cloexec: new Set(p.value.cloexec) });
    return ok();
  }

  /** `execve()`: closes the O_CLOEXEC descriptors; returns the last-closed descriptions. */
  exec(pid: number): Result<OpenFileDescription[]> {
    const p = this.#proc(pid);
    if (!p.ok) return p;
    const released: OpenFileDescription[] = [];
    for (const fd of [...p.value.cloexec].sort((a, b) => a - b)) {
      const closed = this.close(pid, fd);
      if (closed.ok && closed.value) released.push(closed.value);
    }
    return ok(released);
  }

  /** Process exit, for any reason: closes every descriptor in fd order; returns the last-closed descriptions. */
  exit(pid: number): Result<OpenFileDescription[]> {
    const p = this.#proc(pid);
    if (!p.ok) return p;
    const released: OpenFileDescription[] = [];
    for (const fd of [...p.value.fds.keys()].sort((a, b) => a - b)) {
      const closed = this.close(pid, fd);
      if (closed.ok && closed.value) released.push(closed.value);
    }
    this.#procs.delete(pid);
    this.#dead.add(pid);
    return ok(released);
  }

  /** `pid`'s descriptors, ascending. */
  descriptors(pid: number): number[] {
    return [...(this.#procs.get(pid)?.fds.keys() ?? [])].sort((a, b) => a - b);
  }
}
