// `rproc-supervisor kernel run`: runs a JSON document of operations against the kernel twin.

import { type KernelDocument, type KernelOp, parseKernelDocument } from '../actors/kernel/kernelDocument.js';
import {
  type OpResult,
  type ProcessorFinal,
  resultJson,
  runKernelDocument,
} from '../actors/kernel/runKernelDocument.js';
import { DEFAULT_PROFILE, KERNEL_PROFILES, type KernelProfile, kernelFlag } from '../machines/profile.js';
import { commandArgs } from './commandArgs.js';
import { EXIT } from './exitCodes.js';
import { type CliIo, problemLines, readJson } from './io.js';

export const KERNEL_RUN_HELP = `Usage: rproc-supervisor kernel run [--kernel ${KERNEL_PROFILES.join('|')}|RELEASE] [--json] FILE|-

Runs the operations of a JSON document (FILE, or standard input for -) against the kernel twin, in
virtual time, and prints one result per operation. The format is in docs/kernel-run.md.

Options:
  --kernel PROFILE  kernel profile, overriding the document's "kernel" (${KERNEL_PROFILES.join(', ')}; default ${DEFAULT_PROFILE}),
                    or a release string (6.1.192, 6.12.117-amd64, what uname -r prints) mapped to
                    the profile it behaves as (docs/abi.md, "Release strings")
  --json            one JSON object per line: {"i":0,"op":"sysfs.write","ok":true}
  -h, --help        show this help

Exit status: 0 when the document ran (an errno result is an answer, not a failure); 2 for bad usage, an
unreadable file, bad JSON or a malformed document (nothing runs then).
`;

const show = (v: string | number | undefined) => (v === undefined ? '' : JSON.stringify(v));

function describeOp(o: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(o)) if (k !== 'op') parts.push(`${k}=${JSON.stringify(v)}`);
  return parts.join(' ');
}

function table(results: OpResult[], ops: Record<string, unknown>[]): string {
  const rows = results.map((r) => [
    String(r.i),
    String(r.t),
    r.op,
    describeOp(ops[r.i] ?? {}),
    r.ok ? 'ok' : (r.errno ?? ''),
    r.ok ? show(r.value) : (r.detail ?? ''),
  ]);
  const head = ['i', 't(ms)', 'op', 'args', 'result', 'value / detail'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c < 2 ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/**
 * Reads and checks the document `file` (or standard input for `-`) for `command`; a problem is printed
 * (`cannot read: ENOENT`, `malformed document, nothing was run:` and one line per problem) and gives
 * exit code 2.
 */
export function loadKernelDocument(
  command: string,
  file: string,
  kernel: KernelProfile | undefined,
  io: CliIo,
): { doc: KernelDocument; profile: KernelProfile } | number {
  const read = readJson(io.readFile, file);
  if (!read.ok) {
    io.stderr(`rproc-supervisor ${command}: ${file}: ${read.error.detail}\n`);
    return EXIT.usage;
  }
  const checked = parseKernelDocument(read.value, kernel);
  if (!checked.ok) {
    io.stderr(
      `rproc-supervisor ${command}: ${file}: malformed document, nothing was run:\n${problemLines(
        checked.error,
      )
        .map((l) => `  ${l}\n`)
        .join('')}`,
    );
    return EXIT.usage;
  }
  return checked.value;
}

/**
 * The text `kernel run` prints without `--json` (and `lab run`, from the real kernel's results): a
 * header, one table row per result, and each processor's final state. `end` says when the run ended.
 */
export function renderRun(
  header: string,
  results: OpResult[],
  ops: readonly KernelOp[],
  end: string,
  finals: ProcessorFinal[],
): string {
  const procs = finals.map((p) => `${p.device} "${p.name}"`).join(', ');
  const lines = finals.map(
    (p) =>
      `  ${p.device} ${p.name}: ${p.state}, power ${p.power}, shutdown-on-release ${p.shutdownOnRelease}, crashes ${p.crashes}\n`,
  );
  return `${header} · ${procs}\n\n${table(results, ops as unknown as Record<string, unknown>[])}\n\nat ${end}:\n${lines.join('')}`;
}

/** Runs `kernel run` with `args` (after the words `kernel run`). Returns the exit code. */
export function kernelRun(args: string[], io: CliIo): number {
  const parsed = commandArgs(
    'kernel run',
    KERNEL_RUN_HELP,
    io,
    args,
    { kernel: { type: 'string' }, json: { type: 'boolean' } },
    true,
  );
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { kernel?: string; json?: boolean };
  const { positionals } = parsed;
  if (positionals.length !== 1) {
    io.stderr(
      `rproc-supervisor kernel run: expected one FILE (or - for standard input)\n\n${KERNEL_RUN_HELP}`,
    );
    return EXIT.usage;
  }
  const flag = kernelFlag(values.kernel);
  if (!flag.ok) {
    io.stderr(`rproc-supervisor kernel run: ${flag.error.detail}\n`);
    return EXIT.usage;
  }
  const kernel = values.kernel === undefined ? undefined : flag.value;
  const loaded = loadKernelDocument('kernel run', positionals[0] as string, kernel, io);
  if (typeof loaded === 'number') return loaded;
  const { doc, profile } = loaded;
  const run = runKernelDocument(doc, {
    profile,
    onResult: values.json ? (r) => io.stdout(`${resultJson(r)}\n`) : undefined,
  });
  if (!values.json) {
    const finals = run.twin.processors.map((p): ProcessorFinal => {
      const c = p.context;
      return {
        device: p.device,
        name: p.name,
        state: c.state,
        power: c.power,
        shutdownOnRelease: c.shutdownOnRelease ? 1 : 0,
        crashes: c.crashCount,
      };
    });
    io.stdout(renderRun(`kernel ${profile}`, run.results, doc.ops, `${run.clock.now()} ms`, finals));
  }
  run.twin.stop();
  return EXIT.ok;
}
