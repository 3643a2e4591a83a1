// The RprocDriver implementations: sysfs on a temporary directory, cdev pieces, sim.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCdevDriver } from '../actors/drivers/cdevDriver.js';
import { errnoName, ioctlInt } from '../actors/drivers/ioctl.js';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import { createSysfsDriver } from '../actors/drivers/sysfsDriver.js';

/** A directory laid out like /sys/class/remoteproc. */
function sysfsTree(procs: Array<{ device: string; name: string; state?: string }>): string {
  const root = mkdtempSync(join(tmpdir(), 'rproc-sysfs-'));
  for (const p of procs) {
    mkdirSync(join(root, p.device));
    writeFileSync(join(root, p.device, 'state'), `${p.state ?? 'offline'}\n`);
    writeFileSync(join(root, p.device, 'name'), `${p.name}\n`);
    writeFileSync(join(root, p.device, 'firmware'), 'fw.elf\n');
    writeFileSync(join(root, p.device, 'recovery'), 'enabled\n');
    writeFileSync(join(root, p.device, 'coredump'), 'disabled\n');
  }
  return root;
}

describe('sysfs driver on a directory laid out like /sys/class/remoteproc', () => {
  it('should list processors in device order and resolve them by device or name', async () => {
    const root = sysfsTree([
      { device: 'remoteproc10', name: 'dsp' },
      { device: 'remoteproc2', name: 'm4' },
    ]);
    const d = createSysfsDriver({ root });
    expect(await d.list()).toEqual([
      { device: 'remoteproc2', name: 'm4' },
      { device: 'remoteproc10', name: 'dsp' },
    ]);
    expect(await d.resolve('dsp')).toEqual({ ok: true, value: { device: 'remoteproc10', name: 'dsp' } });
    expect(await d.resolve('gpu')).toMatchObject({ ok: false, error: { code: 'ENODEV' } });
  });

  it('should write commands as one bare word and confirm them by re-reading state', async () => {
    const root = sysfsTree([{ device: 'remoteproc0', name: 'm4' }]);
    const d = createSysfsDriver({ root });
    // A plain file keeps what was written, so the re-read shows what the driver wrote: no newline.
    expect(await d.start('remoteproc0')).toEqual({ ok: true, value: 'invalid' });
    expect(readFileSync(join(root, 'remoteproc0', 'state'), 'utf8')).toBe('start');
    await d.setFirmware('remoteproc0', 'other.elf');
    expect(readFileSync(join(root, 'remoteproc0', 'firmware'), 'utf8')).toBe('other.elf');
  });

  it('should never create an attribute that is not there', async () => {
    const root = sysfsTree([{ device: 'remoteproc0', name: 'm4' }]);
    const d = createSysfsDriver({ root });
    expect(await d.setRecovery('remoteproc1', 'recover')).toMatchObject({
      ok: false,
      error: { code: 'ENOENT' },
    });
    expect(() => readFileSync(join(root, 'remoteproc1', 'recovery'))).toThrow();
  });

  it('should map Node errors to errno data with the path', async () => {
    const d = createSysfsDriver({ root: sysfsTree([]) });
    const r = await d.state('remoteproc9');
    expect(r).toMatchObject({ ok: false, error: { code: 'ENOENT', op: 'sysfs.read' } });
    expect(r.ok ? '' : r.error.detail).toMatch(/remoteproc9\/state$/);
  });

  it('should report state changes it polls', async () => {
    const root = sysfsTree([{ device: 'remoteproc0', name: 'm4' }]);
    const d = createSysfsDriver({ root });
    const seen: string[] = [];
    const stop = d.watch('remoteproc0', (s) => seen.push(s), 5);
    await new Promise((r) => setTimeout(r, 30));
    writeFileSync(join(root, 'remoteproc0', 'state'), 'running\n');
    await new Promise((r) => setTimeout(r, 40));
    stop();
    expect(seen).toEqual(['offline', 'running']);
  });
});

// The sysfs driver on the kernel twin (and on the mounted twin) runs the shared suite: test/driverSuite.ts.

describe('cdev driver pieces', () => {
  it('should call ioctl through koffi and return errno data (ENOTTY on a regular file)', async () => {
    const h = await open(join(mkdtempSync(join(tmpdir(), 'ioctl-')), 'f'), 'w');
    expect(ioctlInt(h.fd, 0x4004b701, 1)).toMatchObject({
      ok: false,
      error: { code: 'ENOTTY', op: 'ioctl' },
    });
    await h.close();
    expect(errnoName(22)).toBe('EINVAL');
    expect(errnoName(9999)).toBe('EIO');
  });

  it('should refuse to hold something that is not a remoteproc device', async () => {
    const root = sysfsTree([{ device: 'remoteproc0', name: 'm4' }]);
    const dev = mkdtempSync(join(tmpdir(), 'rproc-dev-'));
    writeFileSync(join(dev, 'remoteproc0'), '');
    const d = createCdevDriver({ sysfsRoot: root, devRoot: dev });
    expect(await d.start('remoteproc0')).toMatchObject({ ok: false, error: { code: 'ENOTTY' } });
    expect(
      await createCdevDriver({ sysfsRoot: root, devRoot: join(dev, 'none') }).start('remoteproc0'),
    ).toMatchObject({
      ok: false,
      error: { code: 'ENOENT', op: 'cdev.open' },
    });
    await d.close();
  });

  it('should open descriptors close-on-exec, so no child inherits them', async () => {
    const h = await open(join(mkdtempSync(join(tmpdir(), 'cloexec-')), 'f'), 'w');
    const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${h.fd}`, 'utf8'))?.[1] ?? '0';
    expect(Number.parseInt(flags, 8) & 0o2000000).toBe(0o2000000);
    const child = spawnSync('sh', ['-c', `test -e /proc/$$/fd/${h.fd} && echo inherited || echo not`], {
      encoding: 'utf8',
    });
    expect(child.stdout.trim()).toBe('not');
    await h.close();
  });
});

describe('sim driver', () => {
  it('should boot in real time and let the twin’s release stop what it held when it closes (fail-safe)', async () => {
    const d = createSimDriver({ processors: [{ name: 'm4', bootMs: 5, stopMs: 1 }] });
    expect(d.holdsDevice).toBe(true);
    expect(await d.start('m4')).toEqual({ ok: true, value: 'running' });
    expect(d.twin.inspect(0).shutdownOnRelease).toBe(true);
    await d.close();
    expect(await d.state('remoteproc0')).toEqual({ ok: true, value: 'offline' });
    expect(await d.resolve('dsp')).toMatchObject({ ok: false, error: { code: 'ENODEV' } });
    d.twin.stop();
  });
});
