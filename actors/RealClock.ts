// RealClock: the twin's clock in real time, for the daemon's `sim` driver and the mounted twin.

import type { TwinClock } from './VirtualClock.js';

/** Wall-clock time and Node's timers, behind the {@link TwinClock} interface. */
export const realClock: TwinClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
  now: () => performance.now(),
};
