#!/usr/bin/env node
// Entry of the `rproc-supervisor` command: runs the compiled CLI (built by `npm ci` / `npm run build`).
import { main } from '../dist/cli/main.js';

process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.exitCode = main(process.argv.slice(2));
