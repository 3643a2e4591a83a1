// labCache: where the lab keeps each kernel's sources, build tree and artifacts, and what the cache key is.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's lab/ directory (shell, C and the config fragment live there, not in dist/). */
export const LAB_DIR = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../lab/' : './', import.meta.url),
);

/** The kernels `lab setup` builds when given no `--kernel`: both sides of the 2026 changes. */
export const DEFAULT_LAB_KERNELS = ['6.1.187', '6.1.192', '6.12.117'] as const;

/** `$XDG_CACHE_HOME/rproc-supervisor/lab`, or `~/.cache/rproc-supervisor/lab`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'rproc-supervisor', 'lab');
}

/** What a built kernel's `manifest.json` records. */
export interface LabManifest {
  version: string;
  package: string;
  debVersion: string;
  key: string;
  /** `make kernelrelease` of the build. */
  release: string;
  fragmentHash: string;
  driverHash: string;
  builtAt: string;
}

/** A kernel ready to boot: its artifacts directory and manifest. */
export interface LabKernel {
  dir: string;
  bzImage: string;
  module: string;
  manifest: LabManifest;
}

const sha = (parts: Array<string | Buffer>) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
};

/** The hash of the config fragment and of the build script (a change of either rebuilds the kernel). */
export function fragmentHash(): string {
  return sha([
    readFileSync(join(LAB_DIR, 'kernel/fragment.config')),
    readFileSync(join(LAB_DIR, 'build.sh')),
  ]);
}

/** The hash of the fake driver's sources. */
export function driverHash(): string {
  const dir = join(LAB_DIR, 'driver');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.c') || f === 'Kbuild')
    .sort();
  return sha(files.flatMap((f) => [f, readFileSync(join(dir, f))]));
}

/** The cache key of a build: the source package version, the config fragment and the driver source. */
export function cacheKey(debVersion: string): string {
  return sha([debVersion, fragmentHash(), driverHash()]);
}

/** The cache directory of one kernel version (`<cache>/<version>`). */
export function versionDir(cache: string, version: string): string {
  return join(cache, version);
}

/** The artifacts of `version` built from the current fragment and driver, if any. */
export function findKernel(cache: string, version: string): LabKernel | undefined {
  const dir = versionDir(cache, version);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return undefined;
  const frag = fragmentHash();
  const drv = driverHash();
  for (const entry of readdirSync(dir)) {
    const m = join(dir, entry, 'manifest.json');
    if (!existsSync(m)) continue;
    const manifest = JSON.parse(readFileSync(m, 'utf8')) as LabManifest;
    if (manifest.fragmentHash !== frag || manifest.driverHash !== drv) continue;
    if (manifest.key !== cacheKey(manifest.debVersion)) continue;
    return {
      dir: join(dir, entry),
      bzImage: join(dir, entry, 'bzImage'),
      module: join(dir, entry, 'rproc_fake.ko'),
      manifest,
    };
  }
  return undefined;
}

/** Every version with current artifacts in `cache`, in version order. */
export function builtKernels(cache: string): string[] {
  if (!existsSync(cache)) return [];
  return readdirSync(cache)
    .filter((v) => findKernel(cache, v) !== undefined)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}
