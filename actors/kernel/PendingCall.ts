// PendingCall: a system call that may block in the kernel (waiting on `rproc->lock`, booting) until virtual time passes.

import type { Result } from '../../machines/errno.js';

/**
 * The handle of a twin operation that returns when the kernel would: at once, or after a boot, a stop or
 * a recovery it had to wait for. Settles exactly once; callbacks run synchronously when it does.
 *
 * @example
 * const call = twin.sysfsWrite(0, 'state', 'start\n');
 * call.onSettled((r) => console.log(r.ok ? 'booted' : r.error.code));
 * clock.advanceBy(100);
 */
export class PendingCall<T = undefined> {
  #result: Result<T> | undefined;
  #listeners: Array<(result: Result<T>) => void> = [];

  /** A call that has already returned. */
  static settled<T>(result: Result<T>): PendingCall<T> {
    const call = new PendingCall<T>();
    call.settle(result);
    return call;
  }

  /** True once the call has returned. */
  get settled(): boolean {
    return this.#result !== undefined;
  }

  /** The return value, once settled. */
  get result(): Result<T> | undefined {
    return this.#result;
  }

  /** Runs `listener` when the call returns (at once if it already has). */
  onSettled(listener: (result: Result<T>) => void): this {
    if (this.#result) listener(this.#result);
    else this.#listeners.push(listener);
    return this;
  }

  /** Returns from the call. A second settle is a programmer error. */
  settle(result: Result<T>): void {
    if (this.#result) throw new Error('PendingCall settled twice');
    this.#result = result;
    for (const l of this.#listeners.splice(0)) l(result);
  }

  /** A call that settles with `map(result)` when this one settles. */
  map<U>(map: (result: Result<T>) => Result<U>): PendingCall<U> {
    const next = new PendingCall<U>();
    this.onSettled((r) => next.settle(map(r)));
    return next;
  }
}
