// cdev: each client opens /dev/remoteprocN, sets shutdown-on-release, writes start; the kernel's release stops it.

import { RPROC_SET_SHUTDOWN_ON_RELEASE } from '../actors/kernel/cdevCommand.js';
import { PendingCall } from '../actors/kernel/PendingCall.js';
import { ok } from '../machines/errno.js';
import type { World } from '../scenarios/World.js';
import { clientProcess, perClientRefs } from './clientProcess.js';
import type { Strategy } from './Strategy.js';

const fds = new WeakMap<World, Map<string, number>>();

function table(world: World): Map<string, number> {
  let t = fds.get(world);
  if (!t) {
    t = new Map();
    fds.set(world, t);
  }
  return t;
}

function close(world: World, id: string, pid: number): PendingCall<undefined> {
  const fd = table(world).get(id);
  if (fd === undefined) return PendingCall.settled(ok());
  table(world).delete(id);
  return world.twin.close(pid, fd);
}

/**
 * Each client holds its own descriptor. Opened without O_CLOEXEC, as the kernel thread's examples do, so
 * a forked helper inherits it. Release is the close; death is the kernel's close.
 */
export const cdev: Strategy = {
  name: 'cdev',
  summary:
    "each client opens the cdev, sets shutdown-on-release and writes start; the kernel's release stops it",
  start() {},
  acquire(world, id) {
    const proc = clientProcess(world, id, () => ({
      terminate(self) {
        world.want(id, false);
        self.syscall(
          () => close(world, id, self.pid),
          () => self.exit('SIGTERM'),
        );
      },
    }));
    proc.run(() => {
      world.want(id, true);
      proc.syscall(() => {
        if (table(world).has(id)) return PendingCall.settled<number>(ok(0));
        const fd = world.twin.cdevOpen(proc.pid, world.index(world.client(id).processor));
        if (!fd.ok) return PendingCall.settled<number>(fd);
        table(world).set(id, fd.value);
        world.twin.cdevIoctl(proc.pid, fd.value, RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
        return world.twin.cdevWrite(proc.pid, fd.value, 'start');
      });
    });
  },
  release(world, id) {
    const proc = world.alive(`client:${id}`);
    if (!proc) return;
    // A frozen client releases when it runs again.
    proc.run(() => {
      world.want(id, false);
      proc.syscall(() => close(world, id, proc.pid));
    });
  },
  expectedRefs: (world, _p, n) => perClientRefs(world, n),
};
