// sysfs-direct: each client writes sysfs `start`, and `stop` on a clean exit. Nothing stops it on a crash.

import type { World } from '../../actors/World.js';
import { clientProcess, perClientRefs, releaseClient } from './clientProcess.js';
import type { Strategy } from './Strategy.js';

function write(world: World, id: string, cmd: 'start' | 'stop') {
  return () => world.twin.sysfsWrite(world.index(world.client(id).processor), 'state', `${cmd}\n`);
}

/** Each client writes `start` to sysfs on acquire and `stop` on release or SIGTERM. */
export const sysfsDirect: Strategy = {
  name: 'sysfs-direct',
  summary: 'each client writes sysfs start, and stop on a clean exit; nothing stops it when a client crashes',
  start: (world) => ({
    acquire(id) {
      const proc = clientProcess(world, id, () => ({
        terminate(self) {
          if (!world.wants(id)) return self.exit('SIGTERM');
          world.want(id, false);
          self.syscall(write(world, id, 'stop'), () => self.exit('SIGTERM'));
        },
      }));
      proc.run(() => {
        world.want(id, true);
        proc.syscall(write(world, id, 'start'));
      });
    },
    release: (id) => releaseClient(world, id, (proc) => proc.syscall(write(world, id, 'stop'))),
    expectedRefs: (_p, n) => perClientRefs(world, n),
  }),
};
