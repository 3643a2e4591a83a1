// Runs `rproc-supervisor twin --mount` as its own process, as a user would, for tests that need real processes around it.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessorSpec } from '../actors/kernel/KernelTwin.js';
import { bin } from './bin.js';

/** A twin process and what it printed with `--json`. */
export interface TwinProcess {
  child: ChildProcess;
  /** The temporary directory holding the mount point (`dir/mnt`) and the processors file. */
  dir: string;
  mount: string;
  sysfsRoot: string;
  devRoot: string;
  /** The inspector's URL, with `--inspect`. */
  inspector: string | null;
  stderr(): string;
  /** SIGTERM, wait for the exit code, remove the directory. */
  stop(): Promise<number | null>;
}

/** Spawns the twin on a fresh directory and resolves once it has printed that it is mounted. */
export async function spawnTwin(
  processors: ProcessorSpec[],
  options: { kernel?: string; extraArgs?: string[]; mount?: string } = {},
): Promise<TwinProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'rproc-twinproc-'));
  await writeFile(join(dir, 'p.json'), JSON.stringify(processors));
  const mount = options.mount ?? join(dir, 'mnt');
  const child = spawn(
    process.execPath,
    [
      bin,
      'twin',
      '--mount',
      mount,
      '--processors',
      join(dir, 'p.json'),
      '--kernel',
      options.kernel ?? '5.19',
      '--json',
      ...(options.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`twin exited ${code} before mounting: ${err}`)));
  });
  const info = JSON.parse(line) as {
    mount: string;
    sysfsRoot: string;
    devRoot: string;
    inspector: string | null;
  };
  const exited = new Promise<number | null>((r) => {
    if (child.exitCode !== null) r(child.exitCode);
    else child.once('exit', (code) => r(code));
  });
  return {
    child,
    dir,
    mount: info.mount,
    sysfsRoot: info.sysfsRoot,
    devRoot: info.devRoot,
    inspector: info.inspector,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      return code;
    },
  };
}

/** The daemon's flags for the cdev driver on a mounted twin `t`. */
export function cdevDriverArgs(t: Pick<TwinProcess, 'devRoot' | 'sysfsRoot'>): string[] {
  return ['--driver', 'cdev', '--dev-root', t.devRoot, '--sysfs-root', t.sysfsRoot];
}
