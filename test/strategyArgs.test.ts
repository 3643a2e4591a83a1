// Strategy lists on the command line: one parser for compare, explore and inspect, both spellings.

import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { STRATEGY_OPTIONS, strategyList } from '../cli/commandArgs.js';
import { runCli } from './cliHarness.js';

/** What the parser makes of `args`, parsed as the commands parse them. */
function list(args: string[]) {
  const { values } = parseArgs({ args, options: STRATEGY_OPTIONS });
  return strategyList(values);
}

const scenario = JSON.stringify({
  name: 's',
  horizonMs: 2000,
  processors: [{ name: 'm4' }],
  clients: [{ id: 'a', processor: 'm4' }],
  timeline: [{ at: 0, acquire: 'a' }],
});

describe('strategy lists', () => {
  it('should accept --strategy repeated, --strategies as its alias, and commas in either', () => {
    expect(list(['--strategy', 'cdev', '--strategy', 'hybrid'])).toEqual({
      ok: true,
      value: ['cdev', 'hybrid'],
    });
    expect(list(['--strategies', 'cdev,hybrid'])).toEqual({ ok: true, value: ['cdev', 'hybrid'] });
    expect(list(['--strategy', ' cdev , hybrid'])).toEqual({ ok: true, value: ['cdev', 'hybrid'] });
    expect(list(['--strategies', 'cdev', '--strategies', 'hybrid'])).toEqual({
      ok: true,
      value: ['cdev', 'hybrid'],
    });
    // --strategy's values first, then --strategies'; each name once.
    expect(list(['--strategies', 'hybrid', '--strategy', 'cdev,hybrid'])).toEqual({
      ok: true,
      value: ['cdev', 'hybrid'],
    });
    expect(list([])).toEqual({ ok: true, value: undefined });
  });

  it('should refuse an unknown or empty name with one message naming the option as spelled', () => {
    const known = 'known: sysfs-direct, parent-script, sysfs-monitor, cdev, hybrid, hybrid-fdstore';
    expect(list(['--strategy', 'cdev,systemd'])).toEqual({
      ok: false,
      error: { code: 'EINVAL', op: '--strategy', detail: `--strategy: unknown systemd; ${known}` },
    });
    const alias = list(['--strategies', 'systemd']);
    expect(!alias.ok && alias.error.detail).toBe(`--strategies: unknown systemd; ${known}`);
    const empty = list(['--strategy', 'hybrid', '--strategy', ' , ']);
    expect(!empty.ok && empty.error.detail).toBe(`--strategy: unknown (empty); ${known}`);
  });

  it('should take both spellings in compare, explore and inspect', async () => {
    const files = { 's.json': scenario };
    const strategiesOf = (stdout: string) => JSON.parse(stdout).map((x: { strategy: string }) => x.strategy);
    const a = runCli(['compare', '--json', '--strategy', 'hybrid', '--strategy', 'cdev', 's.json'], files);
    expect(a.code).toBe(0);
    expect(strategiesOf(a.stdout)).toEqual(['cdev', 'hybrid']); // the scenario's order
    const b = runCli(
      ['compare', '--json', '--strategies', 'cdev', '--strategies', 'hybrid', 's.json'],
      files,
    );
    expect(strategiesOf(b.stdout)).toEqual(['cdev', 'hybrid']);

    const e = runCli(['explore', '--json', '--depth', '1', '--strategies', 'cdev, sysfs-direct']);
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout).map((x: { system: { strategy: string } }) => x.system.strategy)).toEqual([
      'cdev',
      'sysfs-direct',
    ]);
    const dup = runCli(['explore', '--json', '--depth', '1', '--strategy', 'cdev', '--strategy', 'cdev']);
    expect(JSON.parse(dup.stdout)).toHaveLength(1);
    const none = runCli(['explore', '--strategy', ',']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^rproc-supervisor explore: --strategy: unknown \(empty\); known: /);

    const i = runCli(['inspect', 'monitor-crash-no-restart', '--strategies', 'hybrid,bogus']);
    expect(await i.code).toBe(2);
    expect(i.stderr).toMatch(/^rproc-supervisor inspect: --strategies: unknown bogus; known: sysfs-direct/);
    const c = runCli(['compare', '--strategy', 'systemd', 's.json'], files);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/^rproc-supervisor compare: --strategy: unknown systemd; known: /);
  });
});
