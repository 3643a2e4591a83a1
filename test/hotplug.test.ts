// Hotplug in process: uevent parsing (captured bytes), the netlink socket on this kernel, and a supervisor on the sim driver whose twin adds and unbinds processors.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { createSimDriver } from '../actors/drivers/simDriver.js';
import { parseUevent, remoteprocUevent, type Uevent } from '../actors/drivers/uevent.js';
import { openUeventSocket } from '../actors/drivers/ueventSocket.js';
import { createSupervisor, type Supervisor } from '../supervisors/runtime/createSupervisor.js';
import { processorChanges } from '../supervisors/runtime/hotplug.js';
import { startDaemon } from '../supervisors/runtime/startDaemon.js';
import { until } from './wait.js';

const bytes = (s: string) => new TextEncoder().encode(s);

/** A remoteproc `add` as the kernel sends it (the test driver's platform device), NULs and all. */
const ADD =
  'add@/devices/platform/rproc-test.0/remoteproc/remoteproc1\0ACTION=add\0' +
  'DEVPATH=/devices/platform/rproc-test.0/remoteproc/remoteproc1\0SUBSYSTEM=remoteproc\0' +
  'MAJOR=241\0MINOR=1\0DEVNAME=remoteproc1\0SEQNUM=4242\0';

describe('parseUevent (captured bytes)', () => {
  it('reads a remoteproc add: action, devpath, subsystem, every pair', () => {
    const e = parseUevent(bytes(ADD)) as Uevent;
    expect(e.action).toBe('add');
    expect(e.devpath).toBe('/devices/platform/rproc-test.0/remoteproc/remoteproc1');
    expect(e.subsystem).toBe('remoteproc');
    expect(e.vars).toMatchObject({ DEVNAME: 'remoteproc1', SEQNUM: '4242', MAJOR: '241' });
    expect(remoteprocUevent(e)).toEqual({ action: 'add', device: 'remoteproc1' });
  });

  it('a message this kernel sent (captured from /sys/devices/virtual/net/lo/uevent) is no remoteproc event', () => {
    const lo =
      'change@/devices/virtual/net/lo\0ACTION=change\0DEVPATH=/devices/virtual/net/lo\0SUBSYSTEM=net\0' +
      'SYNTH_UUID=0\0INTERFACE=lo\0IFINDEX=1\0SEQNUM=2834\0';
    const e = parseUevent(bytes(lo));
    expect(e).toMatchObject({ action: 'change', subsystem: 'net', vars: { INTERFACE: 'lo' } });
    expect(remoteprocUevent(e)).toBeNull();
  });

  it('refuses what is not a kernel uevent, and skips pairs without "="', () => {
    expect(parseUevent(bytes(''))).toBeNull();
    expect(parseUevent(bytes('no header\0ACTION=add\0'))).toBeNull();
    expect(parseUevent(bytes('libudev\0\xfe\xed\xca\xfe'))).toBeNull();
    const e = parseUevent(bytes('remove@/devices/x/remoteproc/remoteproc0\0junk\0SUBSYSTEM=remoteproc\0'));
    expect(e?.vars).toEqual({ SUBSYSTEM: 'remoteproc' });
    expect(remoteprocUevent(e)).toEqual({ action: 'remove', device: 'remoteproc0' });
    // The platform device's unbind and an rpmsg child's add are not the processor's.
    expect(
      remoteprocUevent(parseUevent(bytes('unbind@/devices/platform/rproc\0SUBSYSTEM=platform\0'))),
    ).toBeNull();
    expect(
      remoteprocUevent(parseUevent(bytes('add@/devices/x/remoteproc0/virtio0\0SUBSYSTEM=remoteproc\0'))),
    ).toBeNull();
  });
});

describe('processorChanges', () => {
  it('a gone device is removed, a new one added, another name on the same number both', () => {
    const known = [
      { device: 'remoteproc0', name: 'm4' },
      { device: 'remoteproc1', name: 'dsp' },
    ];
    expect(
      processorChanges(known, [
        { device: 'remoteproc0', name: 'r5' },
        { device: 'remoteproc2', name: 'dsp' },
      ]),
    ).toEqual({
      removed: ['remoteproc0', 'remoteproc1'],
      added: [
        { device: 'remoteproc0', name: 'r5' },
        { device: 'remoteproc2', name: 'dsp' },
      ],
    });
    expect(processorChanges(known, known)).toEqual({ removed: [], added: [] });
  });
});

describe('the uevent socket on this kernel', () => {
  it('opens, binds to the kernel group and reads a real uevent (a synthetic change of lo)', async () => {
    const seen: Uevent[] = [];
    const s = openUeventSocket((e) => seen.push(e), { pollMs: 10 });
    if (!s.ok) {
      console.warn(
        `test/hotplug.test.ts: netlink unavailable here (${s.error.code}): only the open is checked`,
      );
      expect(['EPERM', 'EACCES', 'EAFNOSUPPORT', 'EPROTONOSUPPORT']).toContain(s.error.code);
      return;
    }
    try {
      try {
        writeFileSync('/sys/devices/virtual/net/lo/uevent', 'change');
      } catch (err) {
        console.warn(
          `test/hotplug.test.ts: cannot write lo's uevent (${(err as { code?: string }).code}): socket opened only`,
        );
        return;
      }
      await until(() => seen.some((e) => e.devpath === '/devices/virtual/net/lo'), 3000);
      const e = seen.find((x) => x.devpath === '/devices/virtual/net/lo');
      expect(e).toMatchObject({ action: 'change', subsystem: 'net' });
    } finally {
      s.value.close();
    }
  });
});

describe('a supervisor on the sim driver follows processors that come and go (rescan)', () => {
  let sup: Supervisor | null = null;
  afterEach(async () => {
    await sup?.close();
    sup = null;
  });

  it('sees an added processor, loses a lease on removal (processor-removed), re-resolves a name', async () => {
    const driver = createSimDriver({ processors: [{ name: 'm4', bootMs: 5, stopMs: 5 }] });
    const logs: string[] = [];
    sup = await createSupervisor({
      driver,
      pollMs: 10,
      hotplug: { rescanMs: 10 },
      log: (e) => logs.push(e.msg),
    });
    expect(sup.status().hotplug).toEqual({ source: 'rescan', waiting: false });
    // An acquire waits (probeTimeoutMs) for a processor that is not there yet.
    const waiting = sup.acquire('dsp', { client: 'later', probeTimeoutMs: 5000 });
    driver.twin.add({ name: 'dsp', bootMs: 5, stopMs: 5 });
    const lease = await waiting;
    expect(lease.processor).toEqual({ device: 'remoteproc1', name: 'dsp' });
    expect(sup.status().processors.map((p) => `${p.device}:${p.name}`)).toEqual([
      'remoteproc0:m4',
      'remoteproc1:dsp',
    ]);
    await until(() => driver.twin.inspect(1).state === 'running', 3000);
    const releases: Array<[number, boolean]> = [];
    driver.twin.onRelease((index, _pid, stops) => releases.push([index, stops]));
    expect(driver.twin.inspect(1).shutdownOnRelease).toBe(true);
    const lost: Array<string | undefined> = [];
    lease.on('lost', (d) => lost.push(d.reason));
    // Driver unbind: rproc_del shuts it down and removes it; the rescan finds it gone.
    driver.twin.unbind(1);
    await until(() => lost.length > 0, 3000);
    expect(lost).toEqual(['processor-removed']);
    expect(lease.state).toBe('lost');
    expect(sup.status().processors.map((p) => p.device)).toEqual(['remoteproc0']);
    // The driver let go of the removed processor's descriptor with shutdown-on-release cleared first.
    await until(() => releases.length > 0, 3000);
    expect(releases).toEqual([[1, false]]);
    expect(driver.twin.inspect(1).shutdownOnRelease).toBe(false);
    // The same name comes back on a new number: a lease by name works again.
    driver.twin.add({ name: 'dsp', bootMs: 5, stopMs: 5 });
    const again = await sup.acquire('dsp', { probeTimeoutMs: 5000 });
    expect(again.processor).toEqual({ device: 'remoteproc2', name: 'dsp' });
    await again.release();
    expect(logs).toContain('processor added');
    expect(logs).toContain('processor removed');
  });

  it('7.3, rmmod under a running leased processor: the lease is lost and nothing calls into the unloaded driver (no Oops)', async () => {
    const driver = createSimDriver({ processors: [{ name: 'm4', bootMs: 5, stopMs: 5 }], kernel: '7.3' });
    sup = await createSupervisor({ driver, pollMs: 10, hotplug: { rescanMs: 10 } });
    const lease = await sup.acquire('m4');
    const lost: Array<string | undefined> = [];
    lease.on('lost', (d) => lost.push(d.reason));
    expect(driver.twin.inspect(0).shutdownOnRelease).toBe(true);
    // rmmod at power 2 (the daemon's start and a sysfs start): the unload leaves it registered-running.
    await new Promise<void>((r) => driver.twin.sysfsWrite(0, 'state', 'start').onSettled(() => r()));
    await new Promise<void>((r) => driver.twin.unload().onSettled(() => r()));
    await until(() => lost.length > 0, 3000);
    expect(lost).toEqual(['processor-removed']);
    await sup.close();
    sup = null;
    // No stop of the last vote, no flagged close: the descriptor was closed with its flag cleared.
    expect(driver.twin.oopses()).toBe(0);
  });

  it('ENODEV after the probe timeout, and at once without one', async () => {
    sup = await createSupervisor({
      driver: createSimDriver({ processors: [{ name: 'm4' }] }),
      hotplug: { rescanMs: 10 },
    });
    await expect(sup.acquire('gpu')).rejects.toMatchObject({ code: 'ENODEV' });
    const t0 = Date.now();
    await expect(sup.acquire('gpu', { probeTimeoutMs: 100 })).rejects.toMatchObject({
      code: 'ENODEV',
      message: expect.stringMatching(/waited 100 ms/),
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
  });

  it('with no processor, says it waits for hotplug; without hotplug the source is none', async () => {
    sup = await createSupervisor({ driver: createSimDriver({ processors: [] }), hotplug: { rescanMs: 10 } });
    expect(sup.status().hotplug).toEqual({ source: 'rescan', waiting: true });
    await sup.close();
    sup = await createSupervisor({ driver: createSimDriver({ processors: [{ name: 'm4' }] }) });
    expect(sup.status().hotplug).toEqual({ source: 'none', waiting: false });
  });
});

describe('a daemon answers an acquire whose lease is lost before the processor ran', () => {
  it('a processor removed during its boot: the acquire gets ENODEV (lost, processor-removed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-hotplug-lost-'));
    const driver = createSimDriver({ processors: [{ name: 'm4', bootMs: 400, stopMs: 5 }] });
    const sup = await createSupervisor({ driver, pollMs: 10 });
    const daemon = await startDaemon({ supervisor: sup, socketPath: join(dir, 'd.sock') });
    const c = await DaemonClient.connect(join(dir, 'd.sock'));
    try {
      const reply = c.request({ op: 'acquire', processor: 'm4' });
      await until(() => sup.status().processors[0]?.leases.length === 1, 3000);
      // The daemon hears of the removal while the boot is under way.
      await sup.removeProcessor('remoteproc0');
      const r = await reply;
      expect(r.ok ? null : r.error).toEqual({
        code: 'ENODEV',
        message: 'ENODEV: lease lease-1 on m4 lost (processor-removed) before the processor ran',
      });
    } finally {
      c.close();
      await daemon.close();
      await sup.close();
    }
  });
});
