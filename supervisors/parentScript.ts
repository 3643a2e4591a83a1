// parent-script: a wrapper per client starts the processor, runs the client as its child, stops it when the child exits.

import type { SimProcess } from '../actors/os/SimOs.js';
import type { World } from '../scenarios/World.js';
import { clientProcess, perClientRefs } from './clientProcess.js';
import type { Strategy } from './Strategy.js';

function sysfs(world: World, id: string, value: string) {
  return world.twin.sysfsWrite(world.index(world.client(id).processor), 'state', value);
}

/**
 * `script:<id>`: `echo start > state; client; echo stop > state`. SIGTERM is forwarded to the child;
 * SIGKILL of the script leaves the child running and nobody to stop the processor.
 */
export const parentScript: Strategy = {
  name: 'parent-script',
  summary:
    'a wrapper script per client starts the processor, runs the client, stops it when the client exits',
  start() {},
  acquire(world, id) {
    world.want(id, true);
    if (world.alive(`client:${id}`) || world.alive(`script:${id}`)) return;
    let child: SimProcess | undefined;
    const script = world.os.spawn(`script:${id}`, {
      start(self) {
        self.syscall(
          () => sysfs(world, id, 'start\n'),
          () => {
            child = clientProcess(world, id, () => ({}), self);
          },
        );
      },
      terminate() {
        if (child?.alive) world.os.kill(child, 'SIGTERM');
        else script.exit('SIGTERM');
      },
    });
    world.os.onExit((p) => {
      if (p !== child || !script.alive) return;
      script.run(() =>
        script.syscall(
          () => sysfs(world, id, 'stop\n'),
          () => script.exit(),
        ),
      );
    });
  },
  release(world, id) {
    world.want(id, false);
    world.alive(`client:${id}`)?.exit('released');
  },
  expectedRefs: (world, _p, n) => perClientRefs(world, n),
};
