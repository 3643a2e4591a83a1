// Driving promise-based code on a VirtualClock: advance timer by timer, letting promises settle between.

import type { VirtualClock } from '../actors/VirtualClock.js';

/** Lets every promise chain that can settle now settle (one macrotask turn; no timer is real here). */
export const settle = () => new Promise<void>((r) => setImmediate(r));

/** Advances `clock` by `ms`, one due timer at a time, settling promises after each. */
export async function advance(clock: VirtualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  await settle();
  for (let due = clock.nextDue(); due !== undefined && due <= end; due = clock.nextDue()) {
    clock.advanceTo(due);
    await settle();
  }
  clock.advanceTo(end);
  await settle();
}

/**
 * Awaits `p` while virtual time runs (an `acquire` resolves only once the processor runs): advances
 * `clock` by `stepMs` at a time, at most `maxMs` in all, then awaits it.
 */
export async function grant<T>(clock: VirtualClock, p: Promise<T>, stepMs = 5, maxMs = 60_000): Promise<T> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await settle();
  for (let t = 0; !settled && t < maxMs; t += stepMs) await advance(clock, stepMs);
  return p;
}
