// RealClock: the twin's and the supervisor's clock in real time, for the daemon and the mounted twin.

import type { TwinClock } from './VirtualClock.js';

/** A zero-delay timeout, run by `setImmediate`: after the I/O of this turn, not a millisecond later. */
class Immediate {
  constructor(readonly handle: NodeJS.Immediate) {}
}

/**
 * Wall-clock time and Node's timers, behind the {@link TwinClock} interface. A timeout of 0 is "later in
 * this instant": it runs at the end of the event loop's turn (`setImmediate`), so that the replies and
 * votes of one turn are one decision, as a 0 ms timer is on the virtual clock.
 */
export const realClock: TwinClock = {
  setTimeout: (fn, ms) => (ms <= 0 ? new Immediate(setImmediate(fn)) : setTimeout(fn, ms)),
  clearTimeout: (id) => {
    if (id instanceof Immediate) clearImmediate(id.handle);
    else clearTimeout(id as NodeJS.Timeout);
  },
  now: () => performance.now(),
};
