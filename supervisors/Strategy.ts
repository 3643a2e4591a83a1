// Strategy: the one interface every supervision strategy implements (one file each under supervisors/).

import type { StrategyName } from '../scenarios/scenarioSchema.js';
import type { World } from '../scenarios/World.js';

/**
 * A way to tie a processor's life to the clients that need it. A strategy drives the kernel twin only
 * through its sysfs and cdev front ends, from the processes it runs, as a real program would.
 */
export interface Strategy {
  readonly name: StrategyName;
  /** One line: who controls the processor, and what stops it. */
  readonly summary: string;
  /** Starts the strategy's own processes (a monitor under init), at time 0. */
  start(world: World): void;
  /** The scenario says `client` acquires its processor (starting a new incarnation if it died). */
  acquire(world: World, client: string): void;
  /** The scenario says `client` releases its processor cleanly. */
  release(world: World, client: string): void;
  /** init starts the monitor now if it is not running; false when there is no monitor to start. */
  startMonitor?(world: World): boolean;
  /** The references that `wanting` live clients should hold on `processor` under this strategy. */
  expectedRefs(world: World, processor: string, wanting: number): number;
}
