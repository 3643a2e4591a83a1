// The driver conformance suite: the same cases for every RprocDriver on every kernel twin (in-process or mounted).

import { afterEach, expect, it } from 'vitest';
import type { RprocDriver } from '../actors/drivers/RprocDriver.js';
import type { ProcessorSpec } from '../actors/kernel/KernelTwin.js';
import type { KernelProfile } from '../machines/profile.js';
import { until } from './wait.js';

/** A driver on a fresh twin, and how to let go of both. */
export interface DriverUnderTest {
  driver: RprocDriver;
  close(): Promise<void>;
}

/** Builds a driver on a fresh twin with these processors and this kernel profile. */
export type DriverFactory = (options: {
  processors: ProcessorSpec[];
  kernel: KernelProfile;
}) => Promise<DriverUnderTest>;

const PROCESSORS: ProcessorSpec[] = [
  { name: 'm4', firmware: 'm4.elf', bootMs: 20, stopMs: 5 },
  { name: 'dsp', bootMs: 5, stopMs: 5 },
];

/** Options of {@link driverSuite}. */
export interface DriverSuiteOptions {
  /**
   * The one profile the factory's kernel behaves as (a real kernel, test/labGuest/): cases written for
   * another generation are skipped, and say so. @default any profile (a twin)
   */
  realKernel?: KernelProfile;
}

/**
 * Registers the suite's `it` cases in the current `describe`. The same expectations hold for the sysfs
 * driver, the cdev driver and the sim driver, on the in-process twin, on the mounted one and on a real
 * kernel; the only difference they may show is the one `holdsDevice` announces (close stops what a
 * holder started).
 */
export function driverSuite(factory: DriverFactory, options: DriverSuiteOptions = {}): void {
  /** `it`, or a skip naming the reason when the real kernel is not of `profile`'s generation. */
  const on = (profile: KernelProfile) => {
    const real = options.realKernel;
    // 7.3 is the 5.19 generation plus the 2026 changes, none of which these cases touch.
    const same = real === undefined || real === profile || (profile === '5.19' && real === '7.3');
    if (same) return it;
    console.log(`driverSuite: cases for ${profile} skipped: the kernel under test behaves as ${real}`);
    return it.skip;
  };
  const open: DriverUnderTest[] = [];
  afterEach(async () => {
    for (const d of open.splice(0).reverse()) await d.close();
  });
  const setup = async (kernel: KernelProfile = '5.19') => {
    const d = await factory({ processors: PROCESSORS, kernel });
    open.push(d);
    return d.driver;
  };

  on('5.19')('should list the processors in device order and resolve them by device or name', async () => {
    const d = await setup();
    expect(await d.list()).toEqual([
      { device: 'remoteproc0', name: 'm4' },
      { device: 'remoteproc1', name: 'dsp' },
    ]);
    expect(await d.resolve('dsp')).toEqual({ ok: true, value: { device: 'remoteproc1', name: 'dsp' } });
    expect(await d.resolve('remoteproc0')).toEqual({
      ok: true,
      value: { device: 'remoteproc0', name: 'm4' },
    });
    expect(await d.resolve('gpu')).toMatchObject({ ok: false, error: { code: 'ENODEV' } });
  });

  on('5.19')('should read attributes as the kernel prints them, without the newline', async () => {
    const d = await setup();
    expect(await d.read('remoteproc0', 'name')).toEqual({ ok: true, value: 'm4' });
    expect(await d.read('remoteproc0', 'firmware')).toEqual({ ok: true, value: 'm4.elf' });
    expect(await d.read('remoteproc0', 'recovery')).toEqual({ ok: true, value: 'enabled' });
    expect(await d.state('remoteproc1')).toEqual({ ok: true, value: 'offline' });
    expect(await d.read('remoteproc9', 'state')).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
  });

  on('5.9')('should not find recovery and coredump on 5.9 (debugfs only then)', async () => {
    const d = await setup('5.9');
    expect(await d.read('remoteproc0', 'coredump')).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
    expect(await d.read('remoteproc0', 'recovery')).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
    expect(await d.read('remoteproc0', 'state')).toEqual({ ok: true, value: 'offline' });
  });

  on('5.19')(
    'should start and stop, and show that a successful stop need not stop anything (5.19 stacks starts)',
    async () => {
      const d = await setup();
      expect(await d.start('remoteproc0')).toEqual({ ok: true, value: 'running' });
      expect(await d.start('remoteproc0')).toEqual({ ok: true, value: 'running' });
      expect(await d.stop('remoteproc0')).toEqual({ ok: true, value: 'running' });
      expect(await d.stop('remoteproc0')).toEqual({ ok: true, value: 'offline' });
      expect(await d.state('remoteproc1')).toEqual({ ok: true, value: 'offline' });
    },
  );

  on('5.13')('should refuse a second start with EBUSY before 5.19', async () => {
    const d = await setup('5.13');
    expect(await d.start('remoteproc0')).toEqual({ ok: true, value: 'running' });
    expect(await d.start('remoteproc0')).toMatchObject({ ok: false, error: { code: 'EBUSY' } });
    expect(await d.stop('remoteproc0')).toEqual({ ok: true, value: 'offline' });
  });

  on('5.19')(
    'should return the kernel’s errno: EBUSY for firmware while running, EINVAL for a stop while offline',
    async () => {
      const d = await setup();
      await d.start('remoteproc0');
      expect(await d.setFirmware('remoteproc0', 'x.elf')).toMatchObject({
        ok: false,
        error: { code: 'EBUSY' },
      });
      expect(await d.stop('remoteproc0')).toEqual({ ok: true, value: 'offline' });
      expect(await d.stop('remoteproc0')).toMatchObject({ ok: false, error: { code: 'EINVAL' } });
    },
  );

  on('5.19')('should set the firmware while offline, and recovery at any time', async () => {
    const d = await setup();
    expect(await d.setFirmware('remoteproc1', 'other.elf')).toEqual({ ok: true, value: undefined });
    expect(await d.read('remoteproc1', 'firmware')).toEqual({ ok: true, value: 'other.elf' });
    expect(await d.setRecovery('remoteproc1', 'disabled')).toEqual({ ok: true, value: undefined });
    expect(await d.read('remoteproc1', 'recovery')).toEqual({ ok: true, value: 'disabled' });
  });

  on('5.19')('should report the state changes it polls', async () => {
    const d = await setup();
    const seen: string[] = [];
    const stop = d.watch('remoteproc1', (s) => seen.push(s), 2);
    await until(() => seen.length === 1);
    await d.start('remoteproc1');
    await until(() => seen.includes('running'));
    stop();
    expect(seen).toEqual(['offline', 'running']);
  });

  on('5.19')('should stop on close what it held (cdev, sim) and leave the rest running (sysfs)', async () => {
    const d = await setup();
    expect(await d.start('remoteproc1')).toEqual({ ok: true, value: 'running' });
    await d.close();
    const expected = d.holdsDevice ? 'offline' : 'running';
    // A FUSE release runs after close(2) has returned, so wait for it.
    await until(async () => {
      const s = await d.state('remoteproc1');
      return s.ok && s.value === expected;
    }, 2000);
    await new Promise((r) => setTimeout(r, 30));
    expect(await d.state('remoteproc1')).toEqual({ ok: true, value: expected });
  });
}
