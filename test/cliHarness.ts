// Runs the command line in-process with captured streams and in-memory files.

import { readFileSync } from 'node:fs';
import type { CliIo } from '../cli/io.js';
import { loadCommands, main } from '../cli/main.js';

// Every command imported up front, so that a synchronous command's output can be read as soon as it returns.
await loadCommands();

/**
 * Runs `rproc-supervisor argv…`; `files` answer reads before the disk does. `stdout` and `stderr` are
 * read when asked, so after `await code` they hold what an asynchronous command wrote as well.
 */
export function runCli(argv: string[], files: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    readFile: (p) => (p in files ? (files[p] as string) : readFileSync(p, 'utf8')),
  };
  const code = main(argv, io);
  return {
    code,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}
