// Strategy: the one interface every supervision strategy implements (one file each under supervisors/sim/).

import type { World } from '../../actors/World.js';
import type { MonitorView } from './monitorProgram.js';

/** The strategies compared, in the order docs/design.md lists them. */
export const STRATEGY_NAMES = [
  'sysfs-direct',
  'parent-script',
  'sysfs-monitor',
  'cdev',
  'hybrid',
  'hybrid-fdstore',
] as const;
/** One strategy name. */
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/**
 * A way to tie a processor's life to the clients that need it. A strategy drives the kernel twin only
 * through its sysfs and cdev front ends, from the processes it runs, as a real program would.
 */
export interface Strategy {
  readonly name: StrategyName;
  /** One line: who controls the processor, and what stops it. */
  readonly summary: string;
  /** Starts the strategy in `world` at time 0 (a monitor under init, say); what it keeps lives on the run. */
  start(world: World): StrategyRun;
}

/** One strategy running in one world: everything it keeps between events is here, not in module state. */
export interface StrategyRun {
  /** The scenario says `client` acquires its processor (starting a new incarnation if it died). */
  acquire(client: string): void;
  /** The scenario says `client` releases its processor cleanly. */
  release(client: string): void;
  /** init starts the monitor now if it is not running; false when it runs. Absent: no monitor to start. */
  startMonitor?(): boolean;
  /** The references that `wanting` live clients should hold on `processor` under this strategy. */
  expectedRefs(processor: string, wanting: number): number;
  /** The live monitor's supervisor state, for exploration and inspection; null while none runs. */
  monitor?(): MonitorView | null;
  /**
   * What init keeps that changes the future (hybrid-fdstore: a restart due, the recent restarts' ages,
   * the stored descriptors), for exploration's state encoding. Absent: init keeps nothing that matters.
   */
  init?(): unknown;
}
