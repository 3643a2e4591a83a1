// wrongfulStop: the one rule for a wrongful stop — used over a finished trace (metrics) and live (explore).

import { isRunningState } from '../machines/powered.js';

/** What the rule remembers of one processor between two observations of it. */
export interface StopWatch {
  /** Kernel state (`running`, `offline`, …). */
  state: string;
  /** What the holder of `rproc->lock` is doing: `idle`, `stopping`, `recovering.stopping`, … */
  step: string;
  /** A live client wanted the processor when the stop under way began. */
  stopWanted: boolean;
}

/** The watch of a processor never seen stopping: `state` and `step` as first observed. */
export function startWatch(state: string, step = 'idle'): StopWatch {
  return { state, step, stopWanted: false };
}

/**
 * One observation of a processor: its `next` state and lock step, after `prev`. A stop is wrongful when
 * it takes the processor from running (or attached) to offline by a stop (lock step `stopping`: not a
 * crash) and a live client wanted the processor when that stop began. `wanted` says whether one does
 * now; it is called only when this observation begins a stop (the step turns `stopping`), so that a
 * caller may fold a strategy's excuse into it (explore excuses hybrid's documented fail-safe stop). A
 * client that comes while a stop is under way finds it stopping, which no supervisor can undo: that is
 * unavailability, not a wrongful stop.
 *
 * @returns `wrongful`, and the watch to pass as `prev` with the next observation.
 *
 * @example
 * let w = startWatch('running');
 * ({ watch: w } = observeStop(w, { state: 'running', step: 'stopping' }, () => true));
 * observeStop(w, { state: 'offline', step: 'idle' }, () => false).wrongful; // true
 */
export function observeStop(
  prev: StopWatch,
  next: { state: string; step: string },
  wanted: () => boolean,
): { wrongful: boolean; watch: StopWatch } {
  const begins = next.step === 'stopping' && prev.step !== 'stopping';
  const stopWanted = begins ? wanted() : prev.stopWanted;
  const wrongful =
    isRunningState(prev.state) && next.state === 'offline' && prev.step === 'stopping' && stopWanted;
  return { wrongful, watch: { state: next.state, step: next.step, stopWanted } };
}
