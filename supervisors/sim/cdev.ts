// cdev: each client opens /dev/remoteprocN, sets shutdown-on-release, writes start; the kernel's release stops it.

import { RPROC_SET_SHUTDOWN_ON_RELEASE } from '../../actors/kernel/cdevCommand.js';
import { PendingCall } from '../../actors/kernel/PendingCall.js';
import type { SimProcess } from '../../actors/os/SimOs.js';
import { ok } from '../../machines/errno.js';
import { clientProcess, perClientRefs, releaseClient } from './clientProcess.js';
import type { Strategy } from './Strategy.js';

/**
 * Each client holds its own descriptor. Opened without O_CLOEXEC, as the kernel thread's examples do, so
 * a forked helper inherits it. Release is the close; death is the kernel's close.
 */
export const cdev: Strategy = {
  name: 'cdev',
  summary:
    "each client opens the cdev, sets shutdown-on-release and writes start; the kernel's release stops it",
  start(world) {
    /** The descriptor each client process holds: a new incarnation starts with none. */
    const held = new Map<SimProcess, number>();
    const close = (proc: SimProcess): PendingCall<undefined> => {
      const fd = held.get(proc);
      if (fd === undefined) return PendingCall.settled(ok());
      held.delete(proc);
      return world.twin.close(proc.pid, fd);
    };
    return {
      acquire(id) {
        const proc = clientProcess(world, id, () => ({
          terminate(self) {
            world.want(id, false);
            self.syscall(
              () => close(self),
              () => self.exit('SIGTERM'),
            );
          },
        }));
        proc.run(() => {
          world.want(id, true);
          proc.syscall(() => {
            if (held.has(proc)) return PendingCall.settled<number>(ok(0));
            const fd = world.twin.cdevOpen(proc.pid, world.index(world.client(id).processor));
            if (!fd.ok) return PendingCall.settled<number>(fd);
            held.set(proc, fd.value);
            world.twin.cdevIoctl(proc.pid, fd.value, RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
            return world.twin.cdevWrite(proc.pid, fd.value, 'start');
          });
        });
      },
      release: (id) => releaseClient(world, id, (proc) => proc.syscall(() => close(proc))),
      expectedRefs: (_p, n) => perClientRefs(world, n),
    };
  },
};
