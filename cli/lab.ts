// `rproc-supervisor lab`: build real kernels with the fake remoteproc driver, run kernel-run documents on them in QEMU, diff against the twin.

import { join } from 'node:path';
import type { KernelDocument } from '../actors/kernel/kernelDocument.js';
import { resultJson } from '../actors/kernel/runKernelDocument.js';
import {
  builtKernels,
  DEFAULT_LAB_KERNELS,
  defaultCacheDir,
  findKernel,
  type LabKernel,
} from '../lab/labCache.js';
import { diffLines, labLines, type NamedDocument, runAll, twinLines } from '../lab/labRun.js';
import { BUILD_TOOLS, missingTools, RUN_TOOLS, resolveSource, setupKernel } from '../lab/labSetup.js';
import { DEFAULT_TIME_SCALE } from '../lab/labVm.js';
import { parseKernel } from '../machines/profile.js';
import { commandArgs } from './commandArgs.js';
import { type CliIo, EXIT } from './io.js';
import { loadKernelDocument, renderRun } from './kernelRun.js';

export const LAB_HELP = `Usage: rproc-supervisor lab <subcommand> [options]

The real kernel in the loop: Debian's kernel sources built with the fake remoteproc driver (lab/driver),
booted in QEMU with this machine's / as the guest's root. docs/lab.md says what is real and what is not.

Subcommands:
  setup [--kernel V …] [--cache DIR] [--json]
      fetch linux-source (apt-get download, pinned), build a minimal kernel and the driver, cache them
      under DIR/<version> (default $XDG_CACHE_HOME/rproc-supervisor/lab); a cached build is reused.
      Default kernels: ${DEFAULT_LAB_KERNELS.join(', ')}.
  run [--kernel V] [--cache DIR] [--time-scale K] [--json] FILE|-
      run a kernel-run document (docs/kernel-run.md) on the real kernel V (default 6.1.192) and print
      what 'kernel run' prints; the twin is not involved.
  diff [--kernel V …] [--cache DIR] [--time-scale K] [--json] FILE…
      run each document on the twin (the profile V behaves as) and on each real kernel V (default:
      every kernel set up); print every line that differs.

Options:
  --kernel V   an upstream version Debian's archive serves as linux-source-X.Y (6.1.187, 6.1.192,
               6.12.117, …); repeat for several
  --cache DIR  the cache directory
  --json       setup: one JSON line per kernel; run: the 'kernel run --json' lines; diff: one JSON
               line per differing operation and a summary line
  --time-scale K  run and diff: real durations are K × the document's (bootMs, stopMs, attachMs,
               advance), default ${DEFAULT_TIME_SCALE}, so the runner's own latency stays far from transitions
  -h, --help   show this help

Exit status: 0 done (diff: no difference); 1 the lab failed (a build, QEMU, a document that did not
run to its end; diff: any difference); 2 bad usage or input (an unknown kernel, a malformed document,
a kernel not set up).
`;

/** `lab diff` skips a document whose `advance`s take more real time than this (a lab limit). */
export const LAB_MAX_REAL_MS = 60_000;

/** The real time a document's `advance`s take. */
function realMs(doc: KernelDocument): number {
  return doc.ops.reduce((ms, o) => ms + (o.op === 'advance' ? o.ms : 0), 0);
}

const OPTIONS = {
  kernel: { type: 'string', multiple: true },
  cache: { type: 'string' },
  json: { type: 'boolean' },
  'time-scale': { type: 'string' },
} as const;

interface LabValues {
  kernel?: string[];
  cache?: string;
  json?: boolean;
  'time-scale'?: string;
}

/** `--time-scale K` (a positive integer), or the default; undefined when malformed. */
function timeScale(values: LabValues): number | undefined {
  const raw = values['time-scale'];
  if (raw === undefined) return DEFAULT_TIME_SCALE;
  const k = Number(raw);
  return Number.isInteger(k) && k >= 1 && k <= 100 ? k : undefined;
}

function fail(io: CliIo, sub: string, message: string, code: number = EXIT.failed): number {
  io.stderr(`rproc-supervisor lab ${sub}: ${message}\n`);
  return code;
}

async function setup(values: LabValues, io: CliIo): Promise<number> {
  const cache = values.cache ?? defaultCacheDir();
  const missing = missingTools({ ...BUILD_TOOLS, ...RUN_TOOLS });
  if (missing.length) {
    return fail(io, 'setup', `ENOENT: missing ${missing.join(', ')} (apt-get install them)`, EXIT.usage);
  }
  for (const version of values.kernel ?? DEFAULT_LAB_KERNELS) {
    const source = resolveSource(version);
    if (!source.ok) return fail(io, 'setup', `${source.error.code}: ${source.error.detail}`, EXIT.usage);
    const started = performance.now();
    const log = join(cache, source.value.version, 'setup.log');
    const r = await setupKernel(source.value, {
      cache,
      log,
      onStep: (step) => io.stderr(`lab setup ${source.value.version}: ${step}\n`),
    });
    if (!r.ok) return fail(io, 'setup', `${r.error.code}: ${r.error.detail}`);
    const s = Math.round((performance.now() - started) / 100) / 10;
    const { kernel, built } = r.value;
    if (values.json) {
      io.stdout(
        `${JSON.stringify({ version: source.value.version, debVersion: kernel.manifest.debVersion, release: kernel.manifest.release, dir: kernel.dir, built, s })}\n`,
      );
    } else {
      io.stdout(
        `${source.value.version} (${source.value.package} ${kernel.manifest.debVersion}): ${built ? `built in ${s} s` : 'cached'} → ${kernel.dir}\n`,
      );
    }
  }
  return EXIT.ok;
}

function kernelsFor(values: LabValues, io: CliIo, sub: string, fallback: string[]): LabKernel[] | number {
  const cache = values.cache ?? defaultCacheDir();
  const versions = values.kernel ?? fallback;
  if (versions.length === 0) {
    return fail(
      io,
      sub,
      `ENOENT: no kernel set up in ${cache} (run: rproc-supervisor lab setup)`,
      EXIT.usage,
    );
  }
  const out: LabKernel[] = [];
  for (const v of versions) {
    const k = findKernel(cache, v);
    if (!k) {
      return fail(
        io,
        sub,
        `ENOENT: kernel ${v} is not set up in ${cache} with the current driver (run: rproc-supervisor lab setup --kernel ${v})`,
        EXIT.usage,
      );
    }
    out.push(k);
  }
  const tools = missingTools(RUN_TOOLS);
  if (tools.length) return fail(io, sub, `ENOENT: missing ${tools.join(', ')}`, EXIT.usage);
  return out;
}

async function run(values: LabValues, positionals: string[], io: CliIo): Promise<number> {
  if (positionals.length !== 1 || (values.kernel?.length ?? 0) > 1) {
    return fail(io, 'run', `expected one FILE (or -) and at most one --kernel\n\n${LAB_HELP}`, EXIT.usage);
  }
  const kernels = kernelsFor(values, io, 'run', ['6.1.192']);
  if (typeof kernels === 'number') return kernels;
  const kernel = kernels[0] as LabKernel;
  const file = positionals[0] as string;
  const loaded = loadKernelDocument('lab run', file, parseKernel(kernel.manifest.version), io);
  if (typeof loaded === 'number') return loaded;
  const scale = timeScale(values);
  if (scale === undefined)
    return fail(io, 'run', `--time-scale ${values['time-scale']}: expected an integer 1–100`, EXIT.usage);
  const { results } = await runAll(kernel, [{ name: file, doc: loaded.doc }], undefined, {
    timeScale: scale,
  });
  const r = results.get(file);
  if (r === undefined || typeof r === 'string') return fail(io, 'run', `EIO: ${r ?? 'no result'}`);
  if (values.json) {
    for (const line of r.results) io.stdout(`${resultJson(line)}\n`);
  } else {
    const end = `${Math.max(0, ...r.results.map((x) => x.t))} ms (real time)`;
    io.stdout(renderRun(`kernel ${r.release}`, r.results, loaded.doc.ops, end, r.final));
  }
  return EXIT.ok;
}

async function diff(values: LabValues, positionals: string[], io: CliIo): Promise<number> {
  if (positionals.length === 0) return fail(io, 'diff', `expected FILE…\n\n${LAB_HELP}`, EXIT.usage);
  const cache = values.cache ?? defaultCacheDir();
  const kernels = kernelsFor(values, io, 'diff', builtKernels(cache));
  if (typeof kernels === 'number') return kernels;
  const docs: NamedDocument[] = [];
  for (const file of positionals) {
    const loaded = loadKernelDocument('lab diff', file, '5.19', io);
    if (typeof loaded === 'number') return loaded;
    docs.push({ name: file, doc: loaded.doc });
  }
  const scale = timeScale(values);
  if (scale === undefined)
    return fail(io, 'diff', `--time-scale ${values['time-scale']}: expected an integer 1–100`, EXIT.usage);
  const slow = docs.filter((d) => realMs(d.doc) * scale > LAB_MAX_REAL_MS);
  for (const d of slow) {
    const why = `lab limit: needs ${Math.round((realMs(d.doc) * scale) / 1000)} s of real time (advance × ${scale}), over ${LAB_MAX_REAL_MS / 1000} s`;
    io.stdout(
      values.json ? `${JSON.stringify({ file: d.name, skipped: why })}\n` : `${d.name}: skipped: ${why}\n`,
    );
  }
  docs.splice(0, docs.length, ...docs.filter((d) => !slow.includes(d)));
  let differing = 0;
  let ties = 0;
  let oopses = 0;
  let failedDocs = 0;
  let ops = 0;
  for (const kernel of kernels) {
    const v = kernel.manifest.version;
    const profile = parseKernel(v) ?? '5.19';
    const started = performance.now();
    const { results } = await runAll(
      kernel,
      docs,
      (done, total, vm) =>
        io.stderr(
          `lab diff ${v}: ${done}/${total} documents${vm.ok ? ` (VM ${vm.value.ms} ms, init after ${vm.value.bootMs ?? '?'} ms)` : ''}\n`,
        ),
      { timeScale: scale },
    );
    let kernelDiffs = 0;
    for (const d of docs) {
      const r = results.get(d.name);
      const twin = twinLines(d.doc, profile);
      ops += twin.lines.length;
      const oopsAt = twin.lines.findIndex((l) => l.includes('"oops":true'));
      if (typeof r === 'string' && oopsAt >= 0 && /\bOops\b|BUG: unable to handle/.test(r)) {
        // The twin predicts the Oops hazard (docs/abi.md) and the kernel had it: the VM ended there.
        oopses++;
        const why = `kernel Oops at op ${oopsAt}, as the twin predicts (lab limit: the VM ended, nothing after it ran)`;
        io.stdout(
          values.json
            ? `${JSON.stringify({ file: d.name, kernel: v, profile, oops: oopsAt })}\n`
            : `${d.name}: ${v}: ${why}\n`,
        );
        continue;
      }
      if (r === undefined || typeof r === 'string') {
        failedDocs++;
        const why = (r ?? 'no result').split('\n')[0];
        io.stdout(
          values.json
            ? `${JSON.stringify({ file: d.name, kernel: v, error: why })}\n`
            : `${d.name}: ${v}: did not run: ${why}\n`,
        );
        continue;
      }
      for (const x of diffLines(twin.lines, labLines(r))) {
        const tie = twin.ties.has(x.i);
        if (tie) ties++;
        else kernelDiffs++;
        const label = tie ? ' (lab limit: a read at the instant a transition completes)' : '';
        io.stdout(
          values.json
            ? `${JSON.stringify({ file: d.name, kernel: v, profile, i: x.i, twin: x.twin ?? null, lab: x.lab ?? null, tie })}\n`
            : `${d.name}: ${v} (twin ${profile}) op ${x.i}${label}:\n  twin ${x.twin ?? '(none)'}\n  lab  ${x.lab ?? '(none)'}\n`,
        );
      }
    }
    differing += kernelDiffs;
    const s = Math.round((performance.now() - started) / 100) / 10;
    io.stderr(`lab diff ${v}: ${docs.length} documents, ${kernelDiffs} differing operations, ${s} s\n`);
  }
  const summary = {
    documents: docs.length,
    kernels: kernels.map((k) => k.manifest.version),
    operations: ops,
    differing,
    failed: failedDocs,
    skipped: slow.length,
    ties,
    oopses,
  };
  io.stdout(
    values.json
      ? `${JSON.stringify(summary)}\n`
      : `${summary.documents} documents × ${summary.kernels.length} kernels, ${ops} operations compared: ${differing} differ, ${failedDocs} did not run, ${slow.length} skipped, ${ties} at a tie (lab limit)${oopses ? `, ${oopses} kernel Oops as predicted` : ''}\n`,
  );
  return differing || failedDocs ? EXIT.failed : EXIT.ok;
}

/** Runs `lab` with `args` (after the word `lab`). Returns the exit code. */
export async function labCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    (sub === undefined ? io.stderr : io.stdout)(LAB_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub !== 'setup' && sub !== 'run' && sub !== 'diff') {
    return fail(io, sub, `unknown subcommand\n\n${LAB_HELP}`, EXIT.usage);
  }
  const parsed = commandArgs(`lab ${sub}`, LAB_HELP, io, rest, OPTIONS, sub !== 'setup');
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as LabValues;
  if (sub === 'setup') return setup(values, io);
  if (sub === 'run') return run(values, parsed.positionals, io);
  return diff(values, parsed.positionals, io);
}
