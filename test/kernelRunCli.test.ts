// `rproc-supervisor kernel run`: the public JSON format, its validation, output and exit codes.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bin } from './bin.js';
import { runCli } from './cliHarness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const example = join(root, 'examples', 'kernel-run.json');

const run = runCli;

const doc = (ops: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ processors: [{ name: 'm4' }], ops, ...extra });

describe('kernel run', () => {
  it('should print one JSON line per operation in the documented shape', () => {
    const r = run(['kernel', 'run', '--json', 'd.json'], {
      'd.json': doc([
        { op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'start' },
        { op: 'sysfs.read', rproc: 'm4', attr: 'state' },
        { op: 'cdev.open', rproc: 'm4', pid: 100, fd: 'a' },
        { op: 'cdev.write', fd: 'a', value: 'start' },
        { op: 'power', rproc: 'remoteproc0' },
      ]),
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      '{"i":0,"op":"sysfs.write","ok":true}',
      '{"i":1,"op":"sysfs.read","ok":true,"value":"running\\n"}',
      '{"i":2,"op":"cdev.open","ok":true}',
      '{"i":3,"op":"cdev.write","ok":true}',
      '{"i":4,"op":"power","ok":true,"value":2}',
    ]);
  });

  it('should let --kernel override the document, with exit 0 for errno results', () => {
    const text = doc(
      [
        { op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'start' },
        { op: 'sysfs.write', rproc: 'm4', attr: 'state', value: 'start' },
      ],
      { kernel: '5.19' },
    );
    const r = run(['kernel', 'run', '--kernel', '5.13', '--json', 'd.json'], { 'd.json': text });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')[1]).toBe('{"i":1,"op":"sysfs.write","ok":false,"errno":"EBUSY"}');
  });

  it('should print a readable table with virtual times and the final state', () => {
    const r = run(['kernel', 'run', example]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kernel 5\.19 · remoteproc0 "m4"/);
    expect(r.stdout).toMatch(/\n\s+5\s+100\s+cdev\.write\s+fd="a" value="start"\s+ok/);
    expect(r.stdout).toMatch(/remoteproc0 m4: offline, power 0/);
  });

  it.each([
    ['bad JSON', '{"ops": [', /invalid JSON/],
    ['an unknown op', doc([{ op: 'sysfs.poke', rproc: 'm4' }]), /ops\[0\]\.op: Invalid discriminator value/],
    ['a missing field', doc([{ op: 'sysfs.read', rproc: 'm4' }]), /ops\[0\]\.attr: /],
    [
      'an unknown processor',
      doc([{ op: 'power', rproc: 'gpu' }]),
      /ops\[0\]\.rproc: unknown processor "gpu"/,
    ],
    [
      'a processor index out of range',
      doc([{ op: 'power', rproc: 'remoteproc1' }]),
      /ops\[0\]\.rproc: unknown processor/,
    ],
    ['an fd used before any open', doc([{ op: 'cdev.close', fd: 'z' }]), /ops\[0\]\.fd: unknown fd "z"/],
    [
      'an unknown ioctl name',
      doc([
        { op: 'cdev.open', rproc: 'm4', pid: 1, fd: 'a' },
        { op: 'cdev.ioctl', fd: 'a', request: 'RPROC_FOO' },
      ]),
      /ops\[1\]\.request: unknown ioctl "RPROC_FOO"/,
    ],
    [
      'an unknown processor field',
      JSON.stringify({ processors: [{ name: 'm4', bootms: 5 }], ops: [] }),
      /processors\[0\]: Unrecognized key: "bootms"/,
    ],
    ['a bad kernel', doc([], { kernel: '6.1' }), /kernel: /],
  ])('should reject %s before running anything, with exit 2', (_what, text, message) => {
    const r = run(['kernel', 'run', '--json', 'd.json'], { 'd.json': text });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('should exit 2 with the errno name for an unreadable file, and for a bad --kernel', () => {
    const missing = run(['kernel', 'run', '/nonexistent/doc.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read: ENOENT/);
    const bad = run(['kernel', 'run', '--kernel', '4.19', example]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kernel 4\.19: expected one of 5\.9, 5\.13, 5\.19/);
  });

  it('should answer --help on every command and exit 2 on an unknown one', () => {
    expect(run(['--help']).stdout).toMatch(/Commands:/);
    expect(run(['kernel', '--help']).stdout).toMatch(/run/);
    expect(run(['kernel', 'run', '--help']).stdout).toMatch(/--kernel/);
    expect(run(['frobnicate']).code).toBe(2);
    expect(run(['kernel', 'run', '--bogus', example]).code).toBe(2);
  });
});

describe('the rproc-supervisor bin', () => {
  it('should run the bundled example from the file bin names, reading - as standard input', () => {
    const out = execFileSync(process.execPath, [bin, 'kernel', 'run', '--json', '-'], {
      input: readFileSync(example),
      encoding: 'utf8',
    });
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(JSON.parse(readFileSync(example, 'utf8')).ops.length);
    expect(lines[4]).toEqual({ i: 4, op: 'cdev.write', ok: false, errno: 'EINVAL' });
  });

  it('should exit 2 through the real process on a malformed document', () => {
    const r = spawnSync(process.execPath, [bin, 'kernel', 'run', '-'], {
      input: '{"processors":[]}',
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/processors: /);
  });
});
