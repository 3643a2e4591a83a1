// coreEffects: the small helpers every rule of the supervisor core uses to record a wish or push a log effect.

import type { ProcessorCore, SupervisorEffect, SupervisorLogEvent, Want } from './coreTypes.js';

/** Has the executor decide later in this instant (one `defer` at a time), unless an operation is under way. */
export function schedule(s: ProcessorCore, fx: SupervisorEffect[]): void {
  if (s.op || s.scheduled) return;
  s.scheduled = true;
  fx.push({ type: 'defer' });
}

/** Records the wish; an idle executor acts on it later in this instant. */
export function ensure(s: ProcessorCore, fx: SupervisorEffect[], want: Want): void {
  s.desired = want;
  schedule(s, fx);
}

/** Pushes a log effect. */
export function log(
  fx: SupervisorEffect[],
  level: 'info' | 'warn',
  event: SupervisorLogEvent,
  data?: Record<string, string>,
  detail?: string,
) {
  fx.push({ type: 'log', level, event, ...(data ? { data } : {}), ...(detail ? { detail } : {}) });
}
