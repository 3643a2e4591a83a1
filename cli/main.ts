// The `rproc-supervisor` command: dispatches to its subcommands, each loaded when it is first run.

import { EXIT } from './exitCodes.js';
import { type CliIo, processIo } from './io.js';
import { packageVersion } from './packageRoot.js';

export const MAIN_HELP = `Usage: rproc-supervisor <command> [options]

Supervision of Linux remote processors (remoteproc), and a twin of the kernel's interfaces.

Commands:
  compare [FILE…]     run fault scenarios against the six strategies and compare the outcomes
  explore             check invariants over every interleaving of faults; shortest counterexamples
  daemon              serve leases on a Unix socket (hybrid: the kernel stops processors if it dies)
  hold P -- CMD       hold a lease on processor P while CMD runs
  status              what the daemon holds
  crash P             inject a crash into P (a sim daemon, or a mounted twin's socket), for tests
  inspect [SCENARIO]  replay a scenario in the local web inspector (127.0.0.1)
  kernel run FILE|-   run a JSON document of sysfs/cdev operations against the kernel twin
  twin --mount DIR    mount the kernel twin as files (FUSE): class/remoteproc/* and dev/remoteprocN
  lab setup|run|diff  real kernels in QEMU with a fake remoteproc driver: run documents, diff the twin

Run 'rproc-supervisor <command> --help' for a command's options; 'rproc-supervisor --version' for the version.
`;

/** One subcommand: its arguments (after the command's name) in, its exit status out. */
export type Command = (args: string[], io: CliIo) => number | Promise<number>;

/**
 * Each command's module, imported on first use: a daemon, a `hold` or a `status` loads neither the
 * scenarios, `explore` nor the inspector (ws, elkjs, @statelyai/inspect), which it never runs
 * (docs/benchmarks.md, "Memory").
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  compare: async () => {
    const [{ compare }, { renderHtmlReport }] = await Promise.all([
      import('./compare.js'),
      import('../scenarios/htmlReport.js'),
    ]);
    return (args, io) => compare(args, io, renderHtmlReport);
  },
  explore: async () => (await import('./explore.js')).exploreCommand,
  daemon: async () => (await import('./daemon.js')).daemonCommand,
  hold: async () => (await import('./hold.js')).holdCommand,
  status: async () => (await import('./status.js')).statusCommand,
  crash: async () => (await import('./crash.js')).crashCommand,
  inspect: async () => (await import('./inspect.js')).inspectCommand,
  twin: async () => (await import('./twin.js')).twinCommand,
  lab: async () => (await import('./lab.js')).labCommand,
  kernel: async () => {
    const { KERNEL_RUN_HELP, kernelRun } = await import('./kernelRun.js');
    const help = `Usage: rproc-supervisor kernel <subcommand>

Subcommands:
  run   run a JSON document of operations against the kernel twin

${KERNEL_RUN_HELP}`;
    return (rest, io) => {
      const [sub, ...args] = rest;
      if (sub === 'run') return kernelRun(args, io);
      if (sub === '-h' || sub === '--help') {
        io.stdout(help);
        return EXIT.ok;
      }
      io.stderr(
        `rproc-supervisor kernel: ${sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`}\n\n${help}`,
      );
      return EXIT.usage;
    };
  },
};

/** The commands already imported, run at once (synchronously for a synchronous command). */
const loaded = new Map<string, Command>();

/**
 * Imports the modules of `names` (default: every command), so that {@link main} then runs them without
 * a turn of the event loop: what an in-process caller that reads a synchronous command's output at
 * once (a test) does first.
 */
export async function loadCommands(names: readonly string[] = Object.keys(COMMANDS)): Promise<void> {
  for (const name of names) {
    const load = COMMANDS[name];
    if (load && !loaded.has(name)) loaded.set(name, await load());
  }
}

/** `rproc-supervisor X.Y.Z`, the line `--version` prints. */
export function versionLine(): string {
  return `rproc-supervisor ${packageVersion()}\n`;
}

/**
 * Runs the command line `argv` (without `node` and the script). Returns the exit code: synchronously
 * for a synchronous command already loaded ({@link loadCommands}), else as a promise.
 */
export function main(argv: string[], io: CliIo = processIo): number | Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(MAIN_HELP);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === '-V') {
    if (rest.length > 1 || (rest.length === 1 && rest[0] !== '--json')) {
      io.stderr(`rproc-supervisor: --version takes only --json\n`);
      return EXIT.usage;
    }
    io.stdout(
      rest[0] === '--json'
        ? `${JSON.stringify({ name: 'rproc-supervisor', version: packageVersion() })}\n`
        : versionLine(),
    );
    return EXIT.ok;
  }
  const ready = loaded.get(command);
  if (ready) return ready(rest, io);
  const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!load) {
    io.stderr(`rproc-supervisor: unknown command "${command}"\n\n${MAIN_HELP}`);
    return EXIT.usage;
  }
  return load().then((run) => {
    loaded.set(command, run);
    return run(rest, io);
  });
}
