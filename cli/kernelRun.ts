// `rproc-supervisor kernel run`: runs a JSON document of operations against the kernel twin.

import { parseKernelDocument } from '../actors/kernel/kernelDocument.js';
import { type OpResult, resultJson, runKernelDocument } from '../actors/kernel/runKernelDocument.js';
import { DEFAULT_PROFILE, isKernelProfile, KERNEL_PROFILES } from '../machines/profile.js';
import { commandArgs } from './commandArgs.js';
import { EXIT } from './exitCodes.js';
import { type CliIo, problemLines, readJson } from './io.js';

export const KERNEL_RUN_HELP = `Usage: rproc-supervisor kernel run [--kernel ${KERNEL_PROFILES.join('|')}] [--json] FILE|-

Runs the operations of a JSON document (FILE, or standard input for -) against the kernel twin, in
virtual time, and prints one result per operation. The format is in docs/kernel-run.md.

Options:
  --kernel PROFILE  kernel profile, overriding the document's "kernel" (${KERNEL_PROFILES.join(', ')}; default ${DEFAULT_PROFILE})
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
  const kernel = values.kernel;
  if (kernel !== undefined && !isKernelProfile(kernel)) {
    io.stderr(
      `rproc-supervisor kernel run: --kernel ${kernel}: expected one of ${KERNEL_PROFILES.join(', ')}\n`,
    );
    return EXIT.usage;
  }
  const file = positionals[0] as string;
  const read = readJson(io.readFile, file);
  if (!read.ok) {
    io.stderr(`rproc-supervisor kernel run: ${file}: ${read.error.detail}\n`);
    return EXIT.usage;
  }
  const checked = parseKernelDocument(read.value, kernel);
  if (!checked.ok) {
    io.stderr(
      `rproc-supervisor kernel run: ${file}: malformed document, nothing was run:\n${problemLines(
        checked.error,
      )
        .map((l) => `  ${l}\n`)
        .join('')}`,
    );
    return EXIT.usage;
  }
  const { doc, profile } = checked.value;
  const run = runKernelDocument(doc, {
    profile,
    onResult: values.json ? (r) => io.stdout(`${resultJson(r)}\n`) : undefined,
  });
  if (!values.json) {
    const procs = run.twin.processors.map((p) => `${p.device} "${p.name}"`).join(', ');
    io.stdout(
      `kernel ${profile} · ${procs}\n\n${table(run.results, doc.ops as Record<string, unknown>[])}\n\nat ${run.clock.now()} ms:\n`,
    );
    for (const p of run.twin.processors) {
      const c = p.context;
      io.stdout(
        `  ${p.device} ${p.name}: ${c.state}, power ${c.power}, shutdown-on-release ${c.shutdownOnRelease ? 1 : 0}, crashes ${c.crashCount}\n`,
      );
    }
  }
  run.twin.stop();
  return EXIT.ok;
}
