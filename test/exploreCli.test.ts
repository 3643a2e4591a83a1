// `rproc-supervisor explore`: report, --json, --out, bad arguments.

import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cliHarness.js';

const run = runCli;

describe('explore command', () => {
  it('should report each invariant with the shortest counterexample as moves', () => {
    const r = run(['explore', '--strategy', 'sysfs-direct', '--depth', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^sysfs-direct \(kernel 5\.19, 2 client\(s\), 1 processor\(s\), depth 3\): \d+ states/,
    );
    expect(r.stdout).toContain('no-orphan         VIOLATED');
    expect(r.stdout).toContain('acquire c0 → SIGKILL client:c0 → step');
  });

  it('should print JSON results and write counterexamples that parse as scenarios', () => {
    const dir = mkdtempSync(join(tmpdir(), 'explore-'));
    const r = run(['explore', '--strategy', 'cdev,sysfs-direct', '--depth', '3', '--json', '--out', dir]);
    const out = JSON.parse(r.stdout);
    expect(out.map((x: { system: { strategy: string } }) => x.system.strategy)).toEqual([
      'cdev',
      'sysfs-direct',
    ]);
    const files = readdirSync(dir).sort();
    expect(files).toContain('sysfs-direct-no-orphan.json');
    const check = run(['compare', '--check', ...files.map((f) => join(dir, f))]);
    expect(check.code).toBe(0);
  });

  it('should refuse bad arguments with exit 2', () => {
    expect(run(['explore', '--depth', '0']).stderr).toMatch(/--depth 0: expected a positive integer/);
    expect(run(['explore', '--strategy', 'systemd']).code).toBe(2);
    expect(run(['explore', '--kernel', '6.1']).code).toBe(2);
    expect(run(['explore', '--help']).stdout).toMatch(/no-orphan/);
  });
});
