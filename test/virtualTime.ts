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
