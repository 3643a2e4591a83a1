#!/usr/bin/env node
// Entry of the `rproc-supervisor` command: runs the compiled CLI (built by `npm ci` / `npm run build`).
import { main } from '../dist/cli/main.js';

process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Long-running commands (daemon, hold, status --watch, twin) resolve when they are done; nothing else keeps us.
if (['daemon', 'hold', 'status', 'twin'].includes(process.argv[2] ?? '')) process.exit(code);
