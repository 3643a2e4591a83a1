import { describe, expect, it } from 'vitest';
import { KernelTwin } from '../actors/kernel/KernelTwin.js';
import { VirtualClock } from '../actors/VirtualClock.js';
import { RPROC_SET_SHUTDOWN_ON_RELEASE } from '../actors/kernel/cdevCommand.js';

describe('smoke', () => {
  it('should boot and release', () => {
    const clock = new VirtualClock();
    const twin = new KernelTwin({ processors: [{ name: 'm4' }], clock });
    const w = twin.sysfsWrite(0, 'state', 'start\n');
    expect(w.settled).toBe(false);
    expect(twin.sysfsRead(0, 'state')).toEqual({ ok: true, value: 'offline\n' });
    clock.advanceBy(100);
    expect(w.result).toEqual({ ok: true, value: 6 });
    expect(twin.sysfsRead(0, 'state')).toEqual({ ok: true, value: 'running\n' });
    twin.crash(0, 'watchdog');
    expect(twin.sysfsRead(0, 'state')).toEqual({ ok: true, value: 'crashed\n' });
    clock.advanceBy(20);
    expect(twin.sysfsRead(0, 'state')).toEqual({ ok: true, value: 'offline\n' });
    clock.advanceBy(100);
    expect(twin.sysfsRead(0, 'state')).toEqual({ ok: true, value: 'running\n' });
    const fd = twin.cdevOpen(1, 0);
    expect(fd).toEqual({ ok: true, value: 3 });
    expect(twin.cdevIoctl(1, 3, RPROC_SET_SHUTDOWN_ON_RELEASE, 1).ok).toBe(true);
    const e = twin.exit(1);
    clock.advanceBy(20);
    expect(e.settled).toBe(true);
    expect(twin.sysfsRead(0, 'state')).toEqual({ ok: true, value: 'offline\n' });
    expect(twin.inspect(0).power).toBe(0);
  });
});
