// The driver conformance suite against the in-process twin and against the mounted twin (FUSE).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createCdevDriver } from '../actors/drivers/cdevDriver.js';
import type { RprocDriver } from '../actors/drivers/RprocDriver.js';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import { createSysfsDriver } from '../actors/drivers/sysfsDriver.js';
import { mountTwin } from '../actors/fuse/mountTwin.js';
import { KernelTwin } from '../actors/kernel/KernelTwin.js';
import { VirtualClock } from '../actors/VirtualClock.js';
import { type DriverFactory, driverSuite } from './driverSuite.js';
import { twinFiles } from './twinFiles.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { spawnTwin } from './twinProcess.js';

warnIfSkipped('test/twinDrivers.test.ts');

describe('sysfs driver on the in-process twin (virtual time)', () => {
  driverSuite(async ({ processors, kernel }) => {
    const clock = new VirtualClock();
    const twin = new KernelTwin({ processors, profile: kernel, clock });
    const root = '/sys/class/remoteproc';
    const driver = createSysfsDriver({ root, files: twinFiles(twin, clock, root) });
    return { driver, close: async () => twin.stop() };
  });
});

describe('sim driver: the in-process twin held like the cdev (real time)', () => {
  driverSuite(async ({ processors, kernel }) => {
    const driver = createSimDriver({ processors, kernel });
    return {
      driver,
      close: async () => {
        await driver.close();
        driver.twin.stop();
      },
    };
  });
});

/** A driver on a twin mounted in a fresh temporary directory. */
const onMount =
  (make: (m: { sysfsRoot: string; devRoot: string }) => RprocDriver): DriverFactory =>
  async ({ processors, kernel }) => {
    const dir = await mkdtemp(join(tmpdir(), 'rproc-mnt-'));
    const m = await mountTwin({ dir, processors, kernel });
    const driver = make(m);
    return {
      driver,
      close: async () => {
        await driver.close();
        await m.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };

describe.skipIf(cannotMount)('sysfs driver on the mounted twin', () => {
  driverSuite(onMount((m) => createSysfsDriver({ root: m.sysfsRoot })));
});

// The cdev driver's ioctl is a synchronous system call: against a server in its own process it would
// wait on the event loop that has to answer it. So this twin runs as a process of its own.
describe.skipIf(cannotMount)('cdev driver on the mounted twin (twin in its own process)', () => {
  driverSuite(async ({ processors, kernel }) => {
    const t = await spawnTwin(processors, { kernel });
    const driver = createCdevDriver({ sysfsRoot: t.sysfsRoot, devRoot: t.devRoot });
    return {
      driver,
      close: async () => {
        await driver.close();
        await t.stop();
      },
    };
  });
});
