// labVm: boots a lab kernel under QEMU (TCG) with the host's / as the guest's root, runs a job, reads results.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail, ok, type Result } from '../machines/errno.js';
import { LAB_DIR, type LabKernel } from './labCache.js';
import type { LabCommand, LabCommandResult, LabDocResult, LabJob, LabJobDocument } from './protocol.js';

/** The guest runs the compiled runner (dist/, built by `npm run build`), also when this module is loaded from source. */
const RUNNER = join(LAB_DIR, '..', 'dist', 'lab', 'guest', 'runner.js');

/** What one VM run gave: each document's results (in job order) and the run's timings. */
export interface VmRun {
  results: LabDocResult[];
  /** Real milliseconds from QEMU's start to its exit. */
  ms: number;
  /** Real milliseconds from QEMU's start to the guest's init running. */
  bootMs?: number;
  /** The guest console and the runner's log, for a failure's diagnosis. */
  console: string;
  /** Set when the VM ended before every document had run (a timeout, a kernel Oops): why. */
  incomplete?: string;
  /** With a command: how it ended (absent when the VM ended first), its output, and its `{out}/report.json`. */
  command?: { result?: LabCommandResult; output: string; report?: string };
}

/**
 * The default time scale: real durations are 5× the document's, so that what the runner does between
 * two operations (a few ms to a few tens of ms under TCG on a shared machine) stays far from every
 * transition (docs/lab.md, "Time").
 */
export const DEFAULT_TIME_SCALE = 5;

/** Options of {@link runVm}. */
export interface VmOptions {
  /** @default {@link DEFAULT_TIME_SCALE} */
  timeScale?: number;
  /** Give up after this many real milliseconds. @default 20 minutes */
  timeoutMs?: number;
  /** Keep the job directory (for debugging). */
  keep?: boolean;
  /** A program to run in the guest after the documents (protocol.ts `LabCommand`). */
  command?: LabCommand;
}

/**
 * The QEMU command line. TCG, not KVM: this machine kind's /dev/kvm is a nested software one on which
 * `-cpu host` aborts and other CPU models are ~1000× slower (docs/lab.md). One CPU: without ACPI the
 * guest sees one anyway.
 */
export function qemuArgs(kernel: LabKernel, jobDir: string): string[] {
  const append = [
    'root=labroot rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose ro',
    'console=ttyS0 loglevel=4 tsc=reliable oops=panic panic=-1',
    `init=${join(LAB_DIR, 'guest/init.sh')} firmware_class.path=/run/lab-fw`,
    `labrunner=${RUNNER} labnode=${process.execPath}`,
  ].join(' ');
  return [
    '-accel',
    'tcg',
    '-cpu',
    'max',
    '-m',
    '1G',
    '-nographic',
    '-no-reboot',
    '-kernel',
    kernel.bzImage,
    '-append',
    append,
    '-fsdev',
    'local,id=root,path=/,security_model=none,readonly=on,multidevs=remap',
    '-device',
    'virtio-9p-pci,fsdev=root,mount_tag=labroot',
    '-fsdev',
    `local,id=out,path=${jobDir},security_model=none`,
    '-device',
    'virtio-9p-pci,fsdev=out,mount_tag=labout',
  ];
}

/** Boots `kernel`, runs `documents` in the guest, and returns their results once the VM has exited. */
export async function runVm(
  kernel: LabKernel,
  documents: LabJobDocument[],
  options: VmOptions = {},
): Promise<Result<VmRun>> {
  const jobDir = mkdtempSync(join(tmpdir(), 'rproc-lab-'));
  const job: LabJob = {
    module: kernel.module,
    firmwareDir: '/run/lab-fw',
    timeScale: options.timeScale ?? DEFAULT_TIME_SCALE,
    documents,
    ...(options.command ? { command: options.command } : {}),
  };
  writeFileSync(join(jobDir, 'job.json'), JSON.stringify(job));
  const started = performance.now();
  const child = spawn('qemu-system-x86_64', qemuArgs(kernel, jobDir), { stdio: ['ignore', 'pipe', 'pipe'] });
  let console = '';
  let upMs: number | undefined;
  child.stdout.on('data', (d) => {
    console = (console + d).slice(-200_000);
    if (upMs === undefined && console.includes('lab-guest: up'))
      upMs = Math.round(performance.now() - started);
  });
  child.stderr.on('data', (d) => {
    console = (console + d).slice(-200_000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20 * 60_000);
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(-1));
    child.on('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  const ms = Math.round(performance.now() - started);
  const resultsFile = join(jobDir, 'results.jsonl');
  const results = existsSync(resultsFile)
    ? readFileSync(resultsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LabDocResult)
    : [];
  const runnerLog = existsSync(join(jobDir, 'runner.log'))
    ? readFileSync(join(jobDir, 'runner.log'), 'utf8')
    : '';
  const read = (f: string) => (existsSync(join(jobDir, f)) ? readFileSync(join(jobDir, f), 'utf8') : '');
  const command = options.command
    ? {
        output: read('command.log'),
        ...(read('report.json') ? { report: read('report.json') } : {}),
        ...(read('command.json') ? { result: JSON.parse(read('command.json')) as LabCommandResult } : {}),
      }
    : undefined;
  if (!options.keep) rmSync(jobDir, { recursive: true, force: true });
  const run: VmRun = { results, ms, console: `${console}\n${runnerLog}` };
  if (upMs !== undefined) run.bootMs = upMs;
  if (command) run.command = command;
  if (code === -1)
    return fail('ENOENT', 'lab run', 'qemu-system-x86_64 did not start (apt-get install qemu-system-x86)');
  if (results.length < documents.length) {
    const why = /Kernel panic[^\n]*|Oops[^\n]*|BUG[^\n]*/.exec(console)?.[0] ?? `QEMU exited with ${code}`;
    run.incomplete = `the VM ended after ${results.length} of ${documents.length} documents: ${why}`;
  }
  return ok(run);
}
