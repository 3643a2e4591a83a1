// restartIntensity: OTP's restart intensity — more than `intensity` restarts within `periodMs` means give up.

/** OTP supervisor flags for restarts (defaults: 1 restart per 5000 ms). */
export interface RestartIntensity {
  intensity: number;
  periodMs: number;
}

/**
 * Records a restart at `now` and says whether it is allowed. `history` holds earlier restart times;
 * the returned history keeps only those inside the period, as OTP's `add_restart` does.
 *
 * @example
 * shouldRestart([], 0, { intensity: 1, periodMs: 5000 })      // { restart: true, history: [0] }
 * shouldRestart([0], 100, { intensity: 1, periodMs: 5000 })   // { restart: false, … }: 2 in 5 s
 */
export function shouldRestart(
  history: readonly number[],
  now: number,
  { intensity, periodMs }: RestartIntensity,
): { restart: boolean; history: number[] } {
  const recent = [...history.filter((t) => now - t < periodMs), now];
  return { restart: recent.length <= intensity, history: recent };
}
