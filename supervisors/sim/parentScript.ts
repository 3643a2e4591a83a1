// parent-script: a wrapper per client starts the processor, runs the client as its child, stops it when the child exits.

import type { SimProcess } from '../../actors/os/SimOs.js';
import type { World } from '../../actors/World.js';
import { clientProcess, perClientRefs, releaseClient } from './clientProcess.js';
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
  start: (world) => ({
    acquire(id) {
      const client = world.alive(`client:${id}`);
      if (client) {
        client.run(() => world.want(id, true));
        return;
      }
      world.want(id, true);
      // A script still booting the processor for this client will start it; one whose client has exited is
      // stopping it and about to exit, so a new script is needed.
      const running = world.alive(`script:${id}`);
      const last = world.os.find(`client:${id}`);
      if (running && !(last && last.parent === running)) return;
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
    // The client exits; its script then stops the processor.
    release: (id) => releaseClient(world, id, (client) => client.exit('released')),
    expectedRefs: (_p, n) => perClientRefs(world, n),
  }),
};
