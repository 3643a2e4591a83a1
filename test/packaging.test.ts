// The shipped files under packaging/: systemd-analyze verify on the units, their settings, the udev rule and the tmpfiles snippet.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SERVICE = resolve('packaging/systemd/rproc-supervisor.service');
const SOCKET = resolve('packaging/systemd/rproc-supervisor.socket');
const UDEV = resolve('packaging/udev/60-rproc-supervisor.rules');
const TMPFILES = resolve('packaging/tmpfiles/rproc-supervisor.conf');

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const systemd = has('systemd-analyze');
// .ci/run installs Debian's systemd package when systemd-analyze is missing; elsewhere say why not.
if (!systemd) console.warn('packaging.test: systemd-analyze not installed: the verify tests are skipped');

/** `KEY=value` settings of a unit file's section, in order (comments left out). */
function settings(file: string): Array<[string, string]> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

describe('packaging/', () => {
  it.skipIf(!systemd)('should pass systemd-analyze verify, with no warning', () => {
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', SERVICE, SOCKET], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The check is real: a misspelt key is reported.
    const dir = mkdtempSync(join(tmpdir(), 'rproc-unit-'));
    const bad = join(dir, 'rproc-supervisor.service');
    writeFileSync(bad, readFileSync(SERVICE, 'utf8').replace('WatchdogSec=', 'WatchdogSecs='));
    writeFileSync(join(dir, 'rproc-supervisor.socket'), readFileSync(SOCKET, 'utf8'));
    const r2 = spawnSync('systemd-analyze', ['verify', '--man=no', bad], { encoding: 'utf8' });
    expect(r2.stderr).toMatch(/Unknown key 'WatchdogSecs'/);
  });

  it('should ship the service the issue lists: notify, watchdog, restart, fd store, runtime directory, V8-safe hardening', () => {
    const s = new Map(settings(SERVICE));
    expect(s.get('Type')).toBe('notify');
    expect(Number.parseInt(s.get('WatchdogSec') ?? '', 10)).toBeGreaterThan(0);
    expect(s.get('Restart')).toBe('on-failure');
    expect(Number(s.get('FileDescriptorStoreMax'))).toBeGreaterThan(0);
    expect(s.get('RuntimeDirectory')).toBe('rproc-supervisor');
    expect(s.get('ExecStart')).toMatch(/rproc-supervisor daemon --socket \/run\/rproc-supervisor\//);
    // V8 writes and runs JIT code; the daemon writes sysfs and opens /dev/remoteprocN.
    expect(s.has('MemoryDenyWriteExecute')).toBe(false);
    expect(s.has('ProtectKernelTunables')).toBe(false);
    expect(s.get('DeviceAllow')).toBe('char-remoteproc rw');
    const sock = new Map(settings(SOCKET));
    expect(sock.get('ListenStream')).toBe(s.get('ExecStart')?.match(/--socket (\S+)/)?.[1]);
    expect(sock.get('SocketGroup')).toBe('rproc');
  });

  it('should give /dev/remoteprocN to the group rproc in the udev rule', () => {
    const rules = readFileSync(UDEV, 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatch(/SUBSYSTEM=="remoteproc"/);
    expect(rules[0]).toMatch(/KERNEL=="remoteproc\[0-9\]\*"/);
    expect(rules[0]).toMatch(/GROUP="rproc"/);
    expect(rules[0]).toMatch(/MODE="0660"/);
  });

  it.skipIf(!has('systemd-tmpfiles'))(
    'should be a tmpfiles snippet systemd-tmpfiles accepts, for the sysfs attributes',
    () => {
      const text = readFileSync(TMPFILES, 'utf8');
      const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
      expect(lines.map((l) => l.split(/\s+/)[1])).toEqual(
        ['state', 'firmware', 'recovery', 'coredump'].map((a) => `/sys/class/remoteproc/remoteproc*/${a}`),
      );
      // Checked under an empty root, with a group this machine has (rproc exists only on a board).
      const dir = mkdtempSync(join(tmpdir(), 'rproc-tmpfiles-'));
      const conf = join(dir, 'r.conf');
      writeFileSync(conf, text.replaceAll(' rproc ', ' root '));
      const r = spawnSync('systemd-tmpfiles', ['--create', `--root=${dir}`, conf], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
  );
});
