// The runtime on a real kernel (issue 15 point 6), inside the lab guest: the shared driver suite on the
// real /sys/class/remoteproc and /dev/remoteprocN, and the daemon (hybrid, cdev driver) with real
// processes SIGKILLed. test/lab.test.ts boots the VM and runs this file there (lab/protocol.ts LabCommand).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createCdevDriver } from '../../actors/drivers/cdevDriver.js';
import { createSysfsDriver } from '../../actors/drivers/sysfsDriver.js';
import { parseKernel, profileFeatures } from '../../machines/profile.js';
import { bin } from '../bin.js';
import { type DriverFactory, driverSuite } from '../driverSuite.js';
import { until } from '../wait.js';
import { bindFake, dmesg, fakeStatus, inGuest, loadFake, release, unbindFake, unloadFake } from './fake.js';

if (!inGuest) throw new Error('test/labGuest runs inside the lab guest only (test/lab.test.ts starts it)');
const realKernel = parseKernel(release());
if (!realKernel) throw new Error(`uname -r ${release()} maps to no kernel profile`);

/** A driver on the real kernel, the fake driver loaded with the suite's processors; close unloads it. */
const onRealKernel =
  (make: () => ReturnType<typeof createSysfsDriver>): DriverFactory =>
  async ({ processors }) => {
    loadFake(processors);
    const driver = make();
    return {
      driver,
      close: async () => {
        await driver.close();
        // Every descriptor is closed: the module can go (docs/abi.md, the Oops hazard).
        unloadFake();
      },
    };
  };

describe(`sysfs driver on the real kernel ${release()} (profile ${realKernel})`, () => {
  driverSuite(
    onRealKernel(() => createSysfsDriver({ root: '/sys/class/remoteproc' })),
    { realKernel },
  );
});

describe(`cdev driver on the real kernel ${release()} (the real ioctl through koffi)`, () => {
  driverSuite(
    onRealKernel(() => createCdevDriver({ sysfsRoot: '/sys/class/remoteproc', devRoot: '/dev' })),
    { realKernel },
  );
});

/** A process of the command line (bin/rproc-supervisor.js), its stderr collected. */
function cli(args: string[], detached = false): { child: ChildProcess; err: () => string } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], detached });
  let err = '';
  child.stderr?.on('data', (c) => {
    err += c;
  });
  return { child, err: () => err };
}

/** The whole JSON lines a process logged (`--log-json`) on stderr so far, parsed. */
function logged(p: { err: () => string }): Array<Record<string, unknown>> {
  const text = p.err();
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const SOCKET = join(process.env.TMPDIR ?? '/run', 'lab-daemon.sock');
const killed: ChildProcess[] = [];

/**
 * The daemon, hybrid on the cdev driver, once it logs `ready`; policy `m4=exclusive` unless `policies`
 * names others (`--policy` values).
 */
async function daemon(policies = ['m4=exclusive']) {
  // exclusive: the behaviour the first cases were written for (shared became the default with policies).
  const d = cli([
    'daemon',
    '--driver',
    'cdev',
    ...policies.flatMap((p) => ['--policy', p]),
    '--socket',
    SOCKET,
    '--poll-ms',
    '20',
    '--log-json',
  ]);
  killed.push(d.child);
  // The first Node start of a VM reads every module over 9p: minutes on a loaded host (6.1.192 at
  // load 20: over 60 s).
  await until(() => d.err().includes('"ready"'), 400_000, 50).catch((e) => {
    throw new Error(`daemon: ${e}; it said: ${d.err()}`);
  });
  return d;
}

/**
 * `hold NAME -- sleep 600` in its own process group, once fake processor `index` reads `state` with
 * `power` references (by default: running, any power).
 */
async function hold(name = 'm4', index = 0, state = 'running', power?: number) {
  const h = cli(['hold', name, '--socket', SOCKET, '--', 'sleep', '600'], true);
  killed.push(h.child);
  const reached = () => {
    const s = fakeStatus(index);
    return s.state === state && (power === undefined || s.power === power);
  };
  await until(reached, 400_000, 50).catch((e) => {
    throw new Error(`${e}: ${JSON.stringify(fakeStatus(index))}; hold said ${h.err()}`);
  });
  return h;
}

/** Kills what a case left (process groups of `hold`), and unloads the driver if it is loaded. */
async function cleanUp(): Promise<void> {
  for (const c of killed.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const gone = exited(c);
    try {
      process.kill(-(c.pid as number), 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
    await gone;
  }
  if (existsSync('/sys/module/rproc_fake')) {
    // An auto-booted processor keeps the kernel's reference: this wait ends by its timeout then.
    await until(() => fakeStatus(0).power === 0, 10_000, 20).catch(() => {});
    unloadFake();
  }
}
const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.once('exit', () => r()));

describe(`the daemon on the real kernel ${release()}`, () => {
  // Node starts in tens of seconds under TCG: one daemon serves the first three cases.
  let first: Awaited<ReturnType<typeof daemon>> | undefined;
  afterAll(cleanUp);
  const diagnose = (what: string, ...procs: Array<{ err: () => string } | undefined>) =>
    `${what}; status ${JSON.stringify(fakeStatus(0))}\n${procs.map((p) => p?.err() ?? '').join('\n---\n')}`;

  it('should say which profile it runs as, from uname -r', async () => {
    loadFake([{ name: 'm4', bootMs: 20, stopMs: 5 }]);
    first = await daemon();
    expect(logged(first)).toContainEqual(
      expect.objectContaining({ profile: realKernel, from: `uname -r ${release()}` }),
    );
  }, 600_000);

  it('should stop the processor when a hold client is SIGKILLed (wrapper and command)', async () => {
    const d = first ?? (await daemon());
    const h = await hold().catch((e) => {
      throw new Error(diagnose(`hold: ${e}`, d));
    });
    // The daemon's reference, and its descriptor with shutdown-on-release.
    expect(fakeStatus(0)).toMatchObject({ state: 'running', power: 1, flag: 1 });
    process.kill(-(h.child.pid as number), 'SIGKILL');
    await until(() => fakeStatus(0).state === 'offline', 30_000, 20).catch((e) => {
      throw new Error(diagnose(`offline after the SIGKILL: ${e}`, d, h));
    });
    expect(fakeStatus(0)).toMatchObject({ state: 'offline', power: 0 });
  }, 600_000);

  // The Oops hazard (docs/abi.md) with the daemon: its processor removed at power 2, then its lease
  // ends (its stop would be the stale descriptor's) and it is stopped (its close would be flagged).
  it('should stop and close safely when its processor was removed at power 2: no Oops', async () => {
    const d = first ?? (await daemon());
    const h = await hold().catch((e) => {
      throw new Error(diagnose(`hold: ${e}`, d));
    });
    writeFileSync('/sys/class/remoteproc/remoteproc0/state', 'start'); // another user's reference
    expect(fakeStatus(0)).toMatchObject({ state: 'running', power: 2, flag: 1 });
    unloadFake();
    process.kill(-(h.child.pid as number), 'SIGKILL');
    await exited(h.child);
    await until(() => /"msg":"stop"/.test(d.err()), 120_000, 50).catch((e) => {
      throw new Error(`the daemon's stop after the lease's end: ${e}\n${d.err()}`);
    });
    await new Promise((r) => setTimeout(r, 1000));
    d.child.kill('SIGTERM');
    await exited(d.child);
    expect(d.child.exitCode, d.err()).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(dmesg()).not.toMatch(/Oops|BUG:/);
  }, 600_000);

  it('should be stopped by the kernel’s release when the daemon is SIGKILLed', async () => {
    await cleanUp();
    loadFake([{ name: 'm4', bootMs: 20, stopMs: 5 }]);
    const d = await daemon();
    const h = await hold().catch((e) => {
      throw new Error(diagnose(`hold: ${e}`, d));
    });
    expect(fakeStatus(0)).toMatchObject({ state: 'running', power: 1, flag: 1 });
    d.child.kill('SIGKILL');
    await exited(d.child);
    // No process of ours wrote `stop`: the last close of the daemon's descriptor did (cdev release).
    await until(() => fakeStatus(0).state === 'offline', 30_000, 20).catch((e) => {
      throw new Error(diagnose(`offline after the daemon's SIGKILL: ${e}`, d, h));
    });
    expect(fakeStatus(0)).toMatchObject({ state: 'offline', power: 0 });
    await cleanUp();
    expect(dmesg()).not.toMatch(/Oops|BUG:/);
  }, 600_000);
});

// The Oops hazard made safe (docs/abi.md): a processor at power 2 whose driver module is unloaded still
// reads running on 7.3 kernels; the cdev driver must clear shutdown-on-release before it closes the
// descriptor it holds, and never write `stop` to it. If it did, this VM would end here (oops=panic).
describe(`the cdev driver when its processor's driver is unloaded at power 2 (${release()})`, () => {
  const start = (i: number) => writeFileSync(`/sys/class/remoteproc/remoteproc${i}/state`, 'start');
  beforeEach(cleanUp);

  it('should clear the flag and close on onRemoved (hotplug’s entry point): no Oops', async () => {
    const [dev = ''] = loadFake([{ name: 'm4', bootMs: 20, stopMs: 5 }]);
    const driver = createCdevDriver();
    expect(await driver.start(dev)).toEqual({ ok: true, value: 'running' });
    start(0); // another user's reference: power 2
    expect(fakeStatus(0)).toMatchObject({ state: 'running', power: 2, flag: 1 });
    unloadFake(); // rproc_del drops one reference; on 7.3 the removed rproc still says running
    await driver.onRemoved(dev);
    // Nothing is written to the old descriptor: a new open finds no device node.
    expect(await driver.stop(dev)).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
    await driver.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(dmesg()).not.toMatch(/Oops|BUG:/);
  }, 60_000);

  it('should find the removal itself before a stop and at close: no Oops', async () => {
    const [dev = ''] = loadFake([{ name: 'm4', bootMs: 20, stopMs: 5 }]);
    const driver = createCdevDriver();
    expect(await driver.start(dev)).toEqual({ ok: true, value: 'running' });
    start(0);
    unloadFake();
    expect(await driver.stop(dev)).toMatchObject({ ok: false, error: { code: 'ENODEV' } });
    await driver.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(dmesg()).not.toMatch(/Oops|BUG:/);
  }, 60_000);
});

// The ownership policies on a real kernel (issue 12 point 1, issue 15 point 6): `shared` (the default)
// leaves a processor the kernel auto-booted alone and drops only its own reference; `attach` attaches a
// core a bootloader started and detaches it again at the last release, never stopping it.
describe(`the ownership policies on the real kernel ${release()}`, () => {
  afterAll(cleanUp);

  it('should leave an auto-booted processor running under shared, and detach an attach core', async () => {
    await cleanUp();
    const devices = loadFake([
      { name: 'm4', autoBoot: true, bootMs: 20, stopMs: 5 },
      { name: 'dsp', initial: 'detached', canDetach: true, bootMs: 20, stopMs: 5 },
    ]);
    await until(() => fakeStatus(0).state === 'running', 10_000, 20);
    expect(fakeStatus(0)).toMatchObject({ state: 'running', power: 1 }); // the kernel's auto-boot reference
    expect(fakeStatus(1)).toMatchObject({ state: 'detached', power: 0 });
    const d = await daemon(['dsp=attach']);
    // shared adopts nothing and stops nothing at start.
    expect(fakeStatus(0)).toMatchObject({ state: 'running', power: 1 });
    expect(fakeStatus(1)).toMatchObject({ state: 'detached', power: 0 });

    // shared: the lease's reference is the daemon's own (a start on a running processor is accepted
    // since 5.19: power 2); its end drops that one, and the kernel's keeps the processor running.
    const h = await hold('m4', 0, 'running', 2);
    process.kill(-(h.child.pid as number), 'SIGKILL');
    await until(() => fakeStatus(0).power === 1, 30_000, 20).catch((e) => {
      throw new Error(`power back to 1: ${e}; ${JSON.stringify(fakeStatus(0))}\n${d.err()}`);
    });
    await new Promise((r) => setTimeout(r, 500)); // a poll or two: nothing else happens
    expect(fakeStatus(0)).toMatchObject({ state: 'running', power: 1 });

    // attach: the acquire attaches (power 1), the lease's end detaches (power 0), nothing stops it.
    const a = await hold('dsp', 1, 'attached');
    expect(fakeStatus(1)).toMatchObject({ state: 'attached', power: 1 });
    process.kill(-(a.child.pid as number), 'SIGKILL');
    await until(() => fakeStatus(1).state === 'detached', 30_000, 20).catch((e) => {
      throw new Error(`detached after the lease's end: ${e}; ${JSON.stringify(fakeStatus(1))}\n${d.err()}`);
    });
    expect(fakeStatus(1)).toMatchObject({ state: 'detached', power: 0 });
    expect(devices).toHaveLength(2);
    // (The daemon does write `stop` once: under shared that drops its own reference, 2 → 1.)
    expect(fakeStatus(0)).toMatchObject({ state: 'running', power: 1 });
  }, 900_000);
});

// Hotplug on a real kernel (issue 12 point 2, issue 15 point 6): an unbind through the driver core and a
// bind again, heard through the kernel's own uevents (NETLINK_KOBJECT_UEVENT, the daemon's default on
// /sys/class/remoteproc). The lease on the removed processor is lost with its reason, the cdev driver lets
// go of its descriptor safely, and the rebound processor is served again without a daemon restart.
describe(`hotplug on the real kernel ${release()}: unbind and bind, heard as uevents`, () => {
  afterAll(cleanUp);

  it('should lose the lease on a real unbind (processor-removed) and serve the processor again after bind', async () => {
    await cleanUp();
    const [before = ''] = loadFake([{ name: 'm4', bootMs: 20, stopMs: 5 }]);
    const d = await daemon();
    expect(logged(d).find((l) => l.msg === 'ready')).toMatchObject({ hotplug: 'netlink' });
    const h = await hold();
    expect(fakeStatus(0)).toMatchObject({ state: 'running', power: 1, flag: 1, bound: 1 });

    unbindFake(0);
    await until(() => /"msg":"processor removed"/.test(d.err()), 60_000, 20).catch((e) => {
      throw new Error(`the daemon's removal: ${e}\n${d.err()}`);
    });
    await until(() => h.err().includes('lease lost (processor-removed)'), 60_000, 20).catch((e) => {
      throw new Error(`hold told: ${e}; hold said ${h.err()}`);
    });
    await exited(h.child);
    expect(h.child.exitCode, h.err()).toBe(69);
    const removed = fakeStatus(0);
    expect(removed.bound).toBe(0);
    // rproc_del shut the processor down (the daemon held its only reference): nothing left running. It
    // then reads `deleted` where the kernel still has RPROC_DELETED (before the 2026 changes: 6.1.187).
    expect(removed).toMatchObject({
      state: profileFeatures(realKernel).deletedState ? 'deleted' : 'offline',
      power: 0,
    });

    bindFake(0);
    await until(() => /"msg":"processor added"/.test(d.err()), 60_000, 20).catch((e) => {
      throw new Error(`the daemon's add: ${e}\n${d.err()}`);
    });
    const added = logged(d).filter((l) => l.msg === 'processor added');
    expect(added.at(-1)).toMatchObject({ name: 'm4' });
    const h2 = await hold();
    expect(fakeStatus(0)).toMatchObject({ state: 'running', power: 1, flag: 1, bound: 1 });
    process.kill(-(h2.child.pid as number), 'SIGKILL');
    await until(() => fakeStatus(0).state === 'offline', 30_000, 20).catch((e) => {
      throw new Error(
        `offline after the second hold's SIGKILL: ${e}; ${JSON.stringify(fakeStatus(0))}\n${d.err()}`,
      );
    });
    console.log(
      `hotplug: ${before} unbound and bound again as ${added.at(-1)?.processor}; removal and add heard as uevents`,
    );
    d.child.kill('SIGTERM');
    await exited(d.child);
    expect(d.child.exitCode, d.err()).toBe(0);
    expect(dmesg()).not.toMatch(/Oops|BUG:/);
  }, 900_000);
});
