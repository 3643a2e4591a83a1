// FdStore: the simulated init's file descriptor store (systemd's FDSTORE=1): the monitor's cdev descriptors, kept across its restarts.

import type { SimProcess } from '../../actors/os/SimOs.js';
import type { World } from '../../actors/World.js';

/**
 * Descriptors of `/dev/remoteprocN` that the monitor gave to init (sd_notify `FDSTORE=1`, SCM_RIGHTS),
 * one per processor, held in init's own descriptor table: while init holds one, the monitor's death
 * does not release the device, so the kernel does not stop the processor. A restarted monitor gets a
 * copy of each back (`LISTEN_FDS`); init drops them all when it stops restarting the monitor (no
 * restart configured, or its restart intensity exceeded: systemd's `FileDescriptorStorePreserve=no`),
 * and the kernel's release then does what it does for a dead hybrid monitor.
 */
export class FdStore {
  /** Processor name → init's descriptor. */
  readonly #fds = new Map<string, number>();

  constructor(
    private readonly world: World,
    private readonly init: SimProcess,
  ) {}

  /** The processors whose descriptor init holds, in the order they were stored. */
  names(): string[] {
    return [...this.#fds.keys()];
  }

  /** True while init holds a descriptor of `name`. */
  has(name: string): boolean {
    return this.#fds.has(name);
  }

  /** `FDSTORE=1`: process `pid` gives init a copy of its descriptor `fd` of `name`. */
  keep(name: string, pid: number, fd: number): void {
    if (this.#fds.has(name) || !this.init.alive) return;
    const copy = this.world.twin.passFd(pid, fd, this.init.pid);
    if (!copy.ok) return;
    this.#fds.set(name, copy.value);
    this.trace('init.fdstore-kept', name);
  }

  /** The monitor `pid` starts: a copy of init's descriptor of `name` in `pid`, or null (none stored). */
  take(name: string, pid: number): number | null {
    const fd = this.#fds.get(name);
    if (fd === undefined) return null;
    const copy = this.world.twin.passFd(this.init.pid, fd, pid);
    if (!copy.ok) return null;
    this.trace('init.fdstore-handed', name);
    return copy.value;
  }

  /** `FDSTOREREMOVE=1`: the monitor lets `name` go; init closes its copy. */
  remove(name: string): void {
    const fd = this.#fds.get(name);
    if (fd === undefined) return;
    this.#fds.delete(name);
    this.world.twin.close(this.init.pid, fd);
    this.trace('init.fdstore-removed', name);
  }

  /** init stops restarting the monitor (`why`): it closes every stored descriptor. */
  drop(why: string): void {
    for (const [name, fd] of [...this.#fds]) {
      this.#fds.delete(name);
      this.trace('init.fdstore-dropped', name, { why });
      this.world.twin.close(this.init.pid, fd);
    }
  }

  private trace(type: string, subject: string, data?: Record<string, unknown>): void {
    this.world.trace({ source: 'process', type, subject, ...(data ? { data } : {}) });
  }
}
