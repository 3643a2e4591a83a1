// CliIo: where a command reads and writes, injectable so tests run commands in-process.

import { readFileSync } from 'node:fs';

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

/** Exit codes: 0 success, 1 the command failed at run time, 2 bad usage or bad input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Reads `path` with `read` (e.g. {@link CliIo.readFile}) and parses it as JSON; a failure says why:
 * `cannot read: ENOENT`, or `invalid JSON: …`.
 */
export function readJson(
  read: (path: string) => string,
  path: string,
): { ok: true; json: unknown } | { ok: false; why: string } {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    return { ok: false, why: `cannot read: ${errnoOf(err)}` };
  }
  try {
    return { ok: true, json: JSON.parse(text) };
  } catch (err) {
    return { ok: false, why: `invalid JSON: ${(err as Error).message}` };
  }
}

/** The errno name of a Node error, or its message. */
export function errnoOf(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}
