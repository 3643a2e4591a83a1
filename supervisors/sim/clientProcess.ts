// Helpers the strategies share: client incarnations and their release, and the references per-client strategies should hold.

import type { Program, SimProcess } from '../../actors/os/SimOs.js';
import type { World } from '../../actors/World.js';
import { profileFeatures } from '../../machines/profile.js';

/** The live `client:<id>` process, or a new incarnation running `program`. */
export function clientProcess(
  world: World,
  id: string,
  program: () => Program,
  parent: SimProcess | null = null,
): SimProcess {
  return world.alive(`client:${id}`) ?? world.os.spawn(`client:${id}`, program(), parent);
}

/**
 * The scenario says client `id` releases: its live incarnation stops wanting and runs `release`. A
 * frozen client releases when it runs again; a dead one has nothing to release.
 */
export function releaseClient(world: World, id: string, release: (proc: SimProcess) => void): void {
  const proc = world.alive(`client:${id}`);
  proc?.run(() => {
    world.want(id, false);
    release(proc);
  });
}

/**
 * References per-client strategies hold: one per wanting client where `start` stacks (5.19+), at most
 * one before (a second client's `start` is EBUSY).
 */
export function perClientRefs(world: World, wanting: number): number {
  return profileFeatures(world.scenario.kernel).layerStateChecks ? Math.min(1, wanting) : wanting;
}

/** One reference while anyone wants the processor: what a monitor holds. */
export function monitorRefs(_world: World, wanting: number): number {
  return Math.min(1, wanting);
}
