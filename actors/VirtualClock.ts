// VirtualClock: an XState `Clock` whose time moves only when told, and which can say when the next timer is due.

/** XState's clock interface, plus `now()`: the injected time source of the twin, scenarios and tests. */
export interface TwinClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
  now(): number;
}

interface Timer {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * Virtual time for XState actors. Unlike XState's `SimulatedClock` it can tell when the next timer is
 * due, so a runner can jump from event to event instead of stepping millisecond by millisecond. Timers
 * due at the same instant run in the order they were set.
 *
 * @example
 * const clock = new VirtualClock();
 * const actor = createActor(rprocMachine, { input, clock }).start();
 * clock.advanceBy(100); // runs every timer due in the next 100 ms, in order
 */
export class VirtualClock implements TwinClock {
  #now = 0;
  #nextId = 1;
  #timers = new Map<number, Timer>();

  /** @param start the initial time in ms. @default 0 */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const id = this.#nextId++;
    this.#timers.set(id, { id, due: this.#now + Math.max(0, timeout), fn });
    return id;
  }

  clearTimeout(id: unknown): void {
    if (typeof id === 'number') this.#timers.delete(id);
  }

  /** When the earliest pending timer is due, or `undefined` when none is pending. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const t of this.#timers.values()) if (min === undefined || t.due < min) min = t.due;
    return min;
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Runs every timer due at or before `time`, in due order, then sets the time to `time`. */
  advanceTo(time: number): void {
    if (time < this.#now)
      throw new Error(`VirtualClock cannot go back in time (now ${this.#now}, asked ${time})`);
    for (;;) {
      const next = this.#earliest();
      if (!next || next.due > time) break;
      this.#timers.delete(next.id);
      this.#now = next.due;
      next.fn();
    }
    this.#now = time;
  }

  /** Runs every timer due in the next `ms` milliseconds. */
  advanceBy(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /** Runs the earliest pending timer (and any due at the same instant). Returns false when none is pending. */
  step(): boolean {
    const due = this.nextDue();
    if (due === undefined) return false;
    this.advanceTo(due);
    return true;
  }

  #earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers.values()) {
      if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }
}
