// crashPoint: a test-only hook that SIGKILLs this process at a named step ($RPROC_SUPERVISOR_CRASH_AT), for the crash-point sweep.

/** The steps a daemon can be killed at (docs/systemd.md, "Crash points"). */
export const CRASH_STEPS = ['acquire', 'boot', 'release', 'stop', 'restart'] as const;

/** One crash step. */
export type CrashStep = (typeof CRASH_STEPS)[number];

/** Read once: the one place the variable is read. Test-only: never set it on a board. */
const crashAt = process.env.RPROC_SUPERVISOR_CRASH_AT;

/**
 * Kills this process with SIGKILL when `$RPROC_SUPERVISOR_CRASH_AT` names `step` (test-only: the sweep
 * of test/crashPoints.test.ts). Without the variable, nothing.
 */
export function crashPoint(step: CrashStep): void {
  if (crashAt === step) process.kill(process.pid, 'SIGKILL');
}
