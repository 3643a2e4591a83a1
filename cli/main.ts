// The `rproc-supervisor` command: dispatches to its subcommands.

import { renderHtmlReport } from '../scenarios/htmlReport.js';
import { compare } from './compare.js';
import { crashCommand } from './crash.js';
import { daemonCommand } from './daemon.js';
import { EXIT } from './exitCodes.js';
import { exploreCommand } from './explore.js';
import { holdCommand } from './hold.js';
import { inspectCommand } from './inspect.js';
import { type CliIo, processIo } from './io.js';
import { KERNEL_RUN_HELP, kernelRun } from './kernelRun.js';
import { labCommand } from './lab.js';
import { statusCommand } from './status.js';
import { twinCommand } from './twin.js';

export const MAIN_HELP = `Usage: rproc-supervisor <command> [options]

Supervision of Linux remote processors (remoteproc), and a twin of the kernel's interfaces.

Commands:
  compare [FILE…]     run fault scenarios against the five strategies and compare the outcomes
  explore             check invariants over every interleaving of faults; shortest counterexamples
  daemon              serve leases on a Unix socket (hybrid: the kernel stops processors if it dies)
  hold P -- CMD       hold a lease on processor P while CMD runs
  status              what the daemon holds
  crash P             inject a crash into P (a sim daemon, or a mounted twin's socket), for tests
  inspect [SCENARIO]  replay a scenario in the local web inspector (127.0.0.1)
  kernel run FILE|-   run a JSON document of sysfs/cdev operations against the kernel twin
  twin --mount DIR    mount the kernel twin as files (FUSE): class/remoteproc/* and dev/remoteprocN
  lab setup|run|diff  real kernels in QEMU with a fake remoteproc driver: run documents, diff the twin

Run 'rproc-supervisor <command> --help' for a command's options.
`;

const KERNEL_HELP = `Usage: rproc-supervisor kernel <subcommand>

Subcommands:
  run   run a JSON document of operations against the kernel twin

${KERNEL_RUN_HELP}`;

/** Runs the command line `argv` (without `node` and the script). Returns the exit code. */
export function main(argv: string[], io: CliIo = processIo): number | Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(MAIN_HELP);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === 'compare') return compare(rest, io, renderHtmlReport);
  if (command === 'explore') return exploreCommand(rest, io);
  if (command === 'daemon') return daemonCommand(rest, io);
  if (command === 'hold') return holdCommand(rest, io);
  if (command === 'status') return statusCommand(rest, io);
  if (command === 'crash') return crashCommand(rest, io);
  if (command === 'inspect') return inspectCommand(rest, io);
  if (command === 'twin') return twinCommand(rest, io);
  if (command === 'lab') return labCommand(rest, io);
  if (command === 'kernel') {
    const [sub, ...args] = rest;
    if (sub === 'run') return kernelRun(args, io);
    if (sub === '-h' || sub === '--help') {
      io.stdout(KERNEL_HELP);
      return EXIT.ok;
    }
    io.stderr(
      `rproc-supervisor kernel: ${sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`}\n\n${KERNEL_HELP}`,
    );
    return EXIT.usage;
  }
  io.stderr(`rproc-supervisor: unknown command "${command}"\n\n${MAIN_HELP}`);
  return EXIT.usage;
}
