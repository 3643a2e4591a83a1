// exitCodes: every exit status the `rproc-supervisor` command uses, with its sysexits.h meaning (docs/cli.md).

/**
 * The exit statuses of every command. Commands return these names, never bare numbers, so that the
 * table here and the one in docs/cli.md are the whole list.
 *
 * | name | status | meaning |
 * |---|---|---|
 * | `ok` | 0 | success (a signal that stops a long-running command cleanly included) |
 * | `failed` | 1 | the command ran and failed (an expectation, a write, a server that could not start) |
 * | `usage` | 2 | bad usage or bad input (a flag, a malformed or unreadable file); nothing was run |
 * | `unavailable` | 69 | sysexits EX_UNAVAILABLE: the daemon cannot be reached, or FUSE is missing |
 * | `software` | 70 | sysexits EX_SOFTWARE: `daemon`: a processor passed its `crashLimit` with action `exit` |
 * | `noPermission` | 77 | sysexits EX_NOPERM: not allowed (mounting the twin without root) |
 * | `notFound` | 127 | `hold`: CMD could not be run (the shell's "command not found") |
 *
 * `hold` otherwise exits with CMD's status, or {@link signalExit} when a signal ended CMD.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unavailable: 69,
  software: 70,
  noPermission: 77,
  notFound: 127,
} as const;

/** One exit status of {@link EXIT}. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The shell's status for a command ended by signal number `signal`: 128 + n. */
export function signalExit(signal: number): number {
  return 128 + signal;
}
