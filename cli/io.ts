// CliIo: where a command reads and writes, injectable so tests run commands in-process.

import { readFileSync } from 'node:fs';
import { fail, ok, type Result, type RprocError, toErrno } from '../machines/errno.js';

/** Streams and file access of one command run. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads a whole file, or standard input for `-`. Throws Node's error (with `code`) on failure. */
  readFile(path: string): string;
  /** Standard error is a terminal: progress bars are drawn there. */
  isTTY?: boolean;
}

/** The process's own streams. */
export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
  isTTY: process.stderr.isTTY === true,
};

/** The exit statuses (cli/exitCodes.ts), re-exported where `rproc-supervisor/node` has always offered them. */
export { EXIT } from './exitCodes.js';

/**
 * Reads `path` with `read` (e.g. {@link CliIo.readFile}) and parses it as JSON. A failure is errno data
 * whose `detail` says why: `cannot read: ENOENT` (`code` the read's errno; EIO for one outside the ABI's
 * list, the detail still naming it), or `invalid JSON: …` (`code` EINVAL).
 */
export function readJson(read: (path: string) => string, path: string): Result<unknown> {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    const why = errnoOf(err);
    return fail(toErrno(why), 'read', `cannot read: ${why}`);
  }
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (err) {
    return fail('EINVAL', 'read', `invalid JSON: ${(err as Error).message}`);
  }
}

/**
 * The lines a command prints for bad input: its per-field `issues`, or else its `detail` (see
 * {@link RprocError}).
 */
export function problemLines(error: RprocError): string[] {
  return error.issues ?? [error.detail ?? error.code];
}

/** The errno name of a Node error, or its message. */
export function errnoOf(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}
