// powered: when a processor counts as powered or running — one definition for supervisors, metrics and explore.

/** Kernel states in which the processor holds power: running, attached, crashed (not stopped), suspended. */
export const POWERED_STATES: ReadonlySet<string> = new Set(['running', 'attached', 'crashed', 'suspended']);

/** True for a `state` string in {@link POWERED_STATES}. */
export function isPoweredState(state: string): boolean {
  return POWERED_STATES.has(state);
}

/**
 * Powered as design.md's measures define it: booting, running, attached, crashed or recovering. `step`
 * is what the holder of `rproc->lock` is doing (`booting`, `recovering.stopping`, …), which `state`
 * alone does not show (a booting processor still reads `offline`).
 */
export function isPowered(state: string, step: string): boolean {
  return (
    POWERED_STATES.has(state) || step === 'booting' || step === 'attaching' || step.startsWith('recovering')
  );
}

/** Running for its clients: `running` or `attached`. */
export function isRunningState(state: string): boolean {
  return state === 'running' || state === 'attached';
}
