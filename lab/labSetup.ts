// labSetup: `lab setup` — find a kernel version in Debian's archive, build it with the fake driver, cache it.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Result } from '../machines/errno.js';
import { fail, ok } from '../machines/errno.js';
import {
  cacheKey,
  driverHash,
  findKernel,
  fragmentHash,
  LAB_DIR,
  type LabKernel,
  type LabManifest,
  versionDir,
} from './labCache.js';

/** A kernel version as Debian's archive serves it. */
export interface DebianSource {
  /** `6.1.187` */
  version: string;
  /** `linux-source-6.1` */
  package: string;
  /** `6.1.187-1`: the exact version apt-get is pinned to. */
  debVersion: string;
}

/** The programs a build needs, and the Debian package of each. */
export const BUILD_TOOLS: Record<string, string> = {
  make: 'build-essential',
  gcc: 'build-essential',
  bc: 'bc',
  bison: 'bison',
  flex: 'flex',
  'dpkg-deb': 'dpkg',
  xz: 'xz-utils',
  'apt-get': 'apt',
};

/** The programs a run needs (`insmod`/`rmmod` run inside the guest, from the host's root). */
export const RUN_TOOLS: Record<string, string> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  insmod: 'kmod',
};

/** The programs of `tools` missing from PATH, with their packages. */
export function missingTools(tools: Record<string, string>): string[] {
  return Object.entries(tools)
    .filter(([cmd]) => {
      try {
        execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
        return false;
      } catch {
        return true;
      }
    })
    .map(([cmd, pkg]) => `${cmd} (${pkg})`);
}

/**
 * Finds `version` (`6.1.192`, or a full Debian version `6.1.192-3`) in `apt-cache madison` output of
 * `linux-source-<major>.<minor>`: the highest Debian revision of that upstream version.
 */
export function pickDebVersion(version: string, madison: string): string | undefined {
  const versions = madison
    .split('\n')
    .map((l) => l.split('|')[1]?.trim())
    .filter((v): v is string => !!v);
  if (versions.includes(version)) return version;
  const matching = versions.filter((v) => v.startsWith(`${version}-`));
  return matching.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))[0];
}

/** Resolves `version` against the archive with `apt-cache madison`. */
export function resolveSource(version: string): Result<DebianSource> {
  const m = /^(\d+)\.(\d+)\.\d+(?:-\S+)?$/.exec(version);
  if (!m) return fail('EINVAL', 'lab setup', `"${version}" is not a kernel version like 6.1.192`);
  const pkg = `linux-source-${m[1]}.${m[2]}`;
  let madison = '';
  try {
    madison = execFileSync('apt-cache', ['madison', pkg], { encoding: 'utf8' });
  } catch {
    return fail(
      'ENOENT',
      'lab setup',
      `apt-cache madison ${pkg} failed (is this Debian? run apt-get update)`,
    );
  }
  const debVersion = pickDebVersion(version, madison);
  if (!debVersion) {
    const served = madison
      .split('\n')
      .map((l) => l.split('|')[1]?.trim())
      .filter(Boolean);
    return fail(
      'ENOENT',
      'lab setup',
      `${pkg} ${version} is not in the archive (served: ${served.join(', ') || 'none; run apt-get update'})`,
    );
  }
  return ok({ version: version.replace(/-.*$/, ''), package: pkg, debVersion });
}

/** Options of {@link setupKernel}. */
export interface SetupOptions {
  cache: string;
  /** Called with each build step as it starts (`fetch`, `extract`, `configure`, `build`, `module`). */
  onStep?: (step: string) => void;
  /** Where the build's own output goes (a log file). */
  log: string;
}

function runBuild(args: string[], options: SetupOptions): Promise<Result<string>> {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(LAB_DIR, 'build.sh'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let tail = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      writeFileSync(options.log, text, { flag: 'a' });
      tail = (tail + text).slice(-2000);
      for (const line of text.split('\n')) {
        const step = /^lab-step: (.*)$/.exec(line);
        if (step?.[1]) options.onStep?.(step[1]);
      }
    });
    child.on('close', (code) =>
      resolve(
        code === 0
          ? ok(out.trim())
          : fail('EIO', 'lab setup', `build.sh ${args[0]} exited with ${code}; see ${options.log}:\n${tail}`),
      ),
    );
  });
}

/**
 * Builds `source` (kernel and fake driver) unless the cache has it. Returns the kernel and whether it
 * was built now. Each step is done once: the .deb, the extracted tree and the build tree stay in the
 * version's directory, so a changed driver rebuilds only the module.
 */
export async function setupKernel(
  source: DebianSource,
  options: SetupOptions,
): Promise<Result<{ kernel: LabKernel; built: boolean }>> {
  const cached = findKernel(options.cache, source.version);
  if (cached && cached.manifest.debVersion === source.debVersion) return ok({ kernel: cached, built: false });
  const dir = versionDir(options.cache, source.version);
  mkdirSync(dir, { recursive: true });
  const kernel = await runBuild(['kernel', source.package, source.debVersion, dir], options);
  if (!kernel.ok) return kernel;
  const key = cacheKey(source.debVersion);
  const out = join(dir, key);
  const tmp = `${out}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const module = await runBuild(['module', dir, join(LAB_DIR, 'driver'), tmp], options);
  if (!module.ok) return module;
  const manifest: LabManifest = {
    version: source.version,
    package: source.package,
    debVersion: source.debVersion,
    key,
    release: execFileSync('cat', [join(tmp, 'kernelrelease')], { encoding: 'utf8' }).trim(),
    fragmentHash: fragmentHash(),
    driverHash: driverHash(),
    builtAt: new Date().toISOString(),
  };
  writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (existsSync(out)) rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  const found = findKernel(options.cache, source.version);
  return found ? ok({ kernel: found, built: true }) : fail('EIO', 'lab setup', `no artifacts in ${out}`);
}
