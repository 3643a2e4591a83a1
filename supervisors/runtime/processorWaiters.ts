// processorWaiters: acquires waiting for a processor that is not there yet (the daemon's --probe-timeout).

import { findProcessor, type ProcessorRef } from '../../actors/drivers/RprocDriver.js';
import type { TwinClock } from '../../actors/VirtualClock.js';
import { fail, ok, type Result } from '../../machines/errno.js';

interface Waiter {
  ref: string;
  timer: unknown;
  resolve(r: Result<ProcessorRef>): void;
}

/**
 * Who waits for which processor: {@link ProcessorWaiters.wait} resolves with the processor once one
 * called `ref` (its `remoteprocN` or its name) is {@link ProcessorWaiters.appeared}, or with ENODEV after
 * `timeoutMs` on `clock`, or when {@link ProcessorWaiters.close} is called.
 */
export class ProcessorWaiters {
  readonly #waiters = new Set<Waiter>();

  constructor(private readonly clock: TwinClock) {}

  /**
   * The processor called `ref` among `present` now, else once it appears within `timeoutMs`; ENODEV
   * with `present` named (as `findProcessor` says) when it does not.
   */
  wait(
    ref: string,
    present: () => readonly ProcessorRef[],
    timeoutMs: number,
  ): Promise<Result<ProcessorRef>> {
    const now = findProcessor(present(), ref);
    if (now.ok || timeoutMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const w: Waiter = {
        ref,
        resolve,
        timer: this.clock.setTimeout(() => {
          this.#waiters.delete(w);
          const r = findProcessor(present(), ref);
          if (r.ok) return resolve(r);
          resolve(fail('ENODEV', 'acquire', `${r.error.detail} (waited ${timeoutMs} ms for it to appear)`));
        }, timeoutMs),
      };
      this.#waiters.add(w);
    });
  }

  /** `p` appeared: every wait for it (by device or name) resolves with it. */
  appeared(p: ProcessorRef): void {
    for (const w of [...this.#waiters]) {
      if (w.ref !== p.device && w.ref !== p.name) continue;
      this.#waiters.delete(w);
      this.clock.clearTimeout(w.timer);
      w.resolve(ok(p));
    }
  }

  /** Every wait resolves with ENODEV (the supervisor is closing). */
  close(): void {
    for (const w of [...this.#waiters]) {
      this.#waiters.delete(w);
      this.clock.clearTimeout(w.timer);
      w.resolve(fail('ENODEV', 'acquire', 'the supervisor is closed'));
    }
  }
}
