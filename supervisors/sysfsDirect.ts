// sysfs-direct: each client writes sysfs `start`, and `stop` on a clean exit. Nothing stops it on a crash.

import type { World } from '../scenarios/World.js';
import { clientProcess, perClientRefs } from './clientProcess.js';
import type { Strategy } from './Strategy.js';

function stop(world: World, id: string): void {
  world.twin.sysfsWrite(world.index(world.client(id).processor), 'state', 'stop\n');
}

/** Each client writes `start` to sysfs on acquire and `stop` on release or SIGTERM. */
export const sysfsDirect: Strategy = {
  name: 'sysfs-direct',
  summary: 'each client writes sysfs start, and stop on a clean exit; nothing stops it when a client crashes',
  start() {},
  acquire(world, id) {
    const proc = clientProcess(world, id, () => ({
      terminate(self) {
        stop(world, id);
        self.exit('SIGTERM');
      },
    }));
    world.want(id, true);
    proc.run(() => world.twin.sysfsWrite(world.index(world.client(id).processor), 'state', 'start\n'));
  },
  release(world, id) {
    const proc = world.alive(`client:${id}`);
    if (!proc) return;
    world.want(id, false);
    proc.run(() => stop(world, id));
  },
  expectedRefs: (world, _p, n) => perClientRefs(world, n),
};
