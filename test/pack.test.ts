// The package as npm ships it: npm pack, a production install of the tarball into an empty project, the command and the import.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const npm = (args: string[], cwd: string) =>
  spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });

describe('npm pack', () => {
  it('should install into an empty project without devDependencies, run compare --check and import rproc-supervisor/node', () => {
    const root = resolve('.');
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const out = mkdtempSync(join(tmpdir(), 'rproc-pack-'));
    // dist/ is built by the test script (pretest): no second build here.
    const packed = npm(['pack', '--ignore-scripts', '--pack-destination', out], root);
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = join(out, `rproc-supervisor-${version}.tgz`);
    expect(existsSync(tarball)).toBe(true);

    const app = join(out, 'app');
    spawnSync('mkdir', ['-p', app]);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true }),
    );
    // A production install: the registry (or npm's cache) for the dependencies, none of the devDependencies.
    const installed = npm(['install', '--omit=dev', '--prefer-offline', tarball], app);
    expect(installed.status, installed.stderr).toBe(0);
    const modules = readdirSync(join(app, 'node_modules'));
    for (const dev of ['vitest', 'typescript', '@biomejs', 'fast-check', 'playwright-core'])
      expect(modules).not.toContain(dev);
    const pkg = join(app, 'node_modules', 'rproc-supervisor');
    for (const f of [
      'LICENSE',
      'packaging/systemd/rproc-supervisor.service',
      'docs/deploy.md',
      'dist/cli/main.js',
    ])
      expect(existsSync(join(pkg, f)), f).toBe(true);

    const npx = (args: string[]) =>
      spawnSync('npx', ['--no-install', 'rproc-supervisor', ...args], {
        cwd: app,
        encoding: 'utf8',
        timeout: 60_000,
      });
    const check = npx(['compare', '--check']);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stderr).toMatch(/expect: all \d+ runs of \d+ scenarios hold/);
    expect(npx(['--version']).stdout).toBe(`rproc-supervisor ${version}\n`);

    const imported = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('rproc-supervisor/node'); console.log(typeof m.createSupervisor, typeof m.startDaemon, typeof m.DaemonClient);",
      ],
      { cwd: app, encoding: 'utf8' },
    );
    expect(imported.stderr).toBe('');
    expect(imported.stdout.trim()).toBe('function function function');
  }, 180_000);
});
