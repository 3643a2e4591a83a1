// The twin's plumbing: virtual clock, descriptor tables, and the calls that block in virtual time.

import { describe, expect, it } from 'vitest';
import { RPROC_SET_SHUTDOWN_ON_RELEASE } from '../actors/kernel/cdevCommand.js';
import { FdTable } from '../actors/kernel/FdTable.js';
import { KernelTwin } from '../actors/kernel/KernelTwin.js';
import { VirtualClock } from '../actors/VirtualClock.js';

describe('VirtualClock', () => {
  it('should run timers in due order, and same-instant timers in the order they were set', () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.setTimeout(() => seen.push('b@10'), 10);
    clock.setTimeout(() => seen.push('a@5'), 5);
    clock.setTimeout(() => seen.push('c@10'), 10);
    expect(clock.nextDue()).toBe(5);
    clock.advanceBy(10);
    expect(seen).toEqual(['a@5', 'b@10', 'c@10']);
    expect(clock.now()).toBe(10);
  });

  it('should run a timer set by a timer when it falls inside the same advance', () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => seen.push(clock.now()), 5), 5);
    clock.advanceBy(20);
    expect(seen).toEqual([10]);
  });

  it('should refuse to go back in time and forget cleared timers', () => {
    const clock = new VirtualClock(100);
    const id = clock.setTimeout(() => {
      throw new Error('cleared timer ran');
    }, 1);
    clock.clearTimeout(id);
    clock.advanceBy(5);
    expect(() => clock.advanceTo(50)).toThrow(/back in time/);
  });
});

describe('FdTable', () => {
  it('should give the lowest free descriptor from 3 and reuse closed ones', () => {
    const t = new FdTable();
    expect(t.open(1, 0, true)).toEqual({ ok: true, value: 3 });
    expect(t.open(1, 0, true)).toEqual({ ok: true, value: 4 });
    t.close(1, 3);
    expect(t.open(1, 0, true)).toEqual({ ok: true, value: 3 });
  });

  it('should share descriptions across fork and report the last close only', () => {
    const t = new FdTable();
    t.open(1, 0, true);
    expect(t.fork(1, 2).ok).toBe(true);
    expect(t.close(1, 3)).toEqual({ ok: true, value: null });
    const last = t.close(2, 3);
    expect(last.ok && last.value?.refs).toBe(0);
  });

  it('should close everything on exit and refuse a dead pid with ESRCH', () => {
    const t = new FdTable();
    t.open(1, 0, true);
    t.open(1, 1, true);
    const released = t.exit(1);
    expect(released.ok && released.value.map((o) => o.rproc)).toEqual([0, 1]);
    expect(t.open(1, 0, true)).toMatchObject({ ok: false, error: { code: 'ESRCH' } });
    expect(t.get(2, 9)).toMatchObject({ ok: false, error: { code: 'EBADF' } });
  });
});

describe('KernelTwin', () => {
  // A lock-free store is seen by the next reader at once, even when it is made from inside the twin's
  // own step (a start's reply listener that clears the flag and closes, as a supervisor letting go
  // does): the close must not read the flag still set and shut the processor down.
  it('should let a flag cleared from inside a reply be seen by a close in the same step', () => {
    const clock = new VirtualClock();
    const twin = new KernelTwin({ processors: [{ name: 'm4', bootMs: 10, stopMs: 5 }], clock });
    twin.cdevOpen(10, 0);
    twin.cdevIoctl(10, 3, RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
    let flagInListener: unknown;
    twin.cdevWrite(10, 3, 'start').onSettled(() => {
      twin.cdevIoctl(10, 3, RPROC_SET_SHUTDOWN_ON_RELEASE, 0);
      flagInListener = twin.processor(0).context.shutdownOnRelease;
      twin.close(10, 3);
    });
    clock.advanceBy(10);
    clock.advanceBy(50);
    expect(flagInListener).toBe(false);
    expect(twin.sysfsRead(0, 'state')).toEqual({ ok: true, value: 'running\n' });
    expect(twin.processor(0).context).toMatchObject({ power: 1, shutdownOnRelease: false });
    twin.stop();
  });

  it('should return from a start only after the boot, and from a close only after the release', () => {
    const clock = new VirtualClock();
    const twin = new KernelTwin({ processors: [{ name: 'm4', bootMs: 300, stopMs: 50 }], clock });
    const fd = twin.cdevOpen(10, 0);
    expect(fd).toEqual({ ok: true, value: 3 });
    twin.cdevIoctl(10, 3, RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
    const start = twin.cdevWrite(10, 3, 'start');
    clock.advanceBy(299);
    expect(start.settled).toBe(false);
    clock.advanceBy(1);
    expect(start.result).toEqual({ ok: true, value: 5 });
    const close = twin.close(10, 3);
    expect(close.settled).toBe(false);
    expect(twin.sysfsRead(0, 'state')).toEqual({ ok: true, value: 'running\n' });
    clock.advanceBy(50);
    expect(close.settled).toBe(true);
    expect(twin.sysfsRead(0, 'state')).toEqual({ ok: true, value: 'offline\n' });
    twin.stop();
  });

  it('should name processors by name or remoteprocN', () => {
    const twin = new KernelTwin({ processors: [{ name: 'm4' }, { name: 'dsp' }] });
    expect(twin.resolve('dsp')?.index).toBe(1);
    expect(twin.resolve('remoteproc0')?.name).toBe('m4');
    expect(twin.resolve('remoteproc2')).toBeUndefined();
    expect(twin.resolve('gpu')).toBeUndefined();
    twin.stop();
  });

  it('should tell subscribers about every change of a processor', () => {
    const clock = new VirtualClock();
    const twin = new KernelTwin({ processors: [{ name: 'm4' }], clock });
    const states: string[] = [];
    twin.subscribe((_i, ctx) => states.push(ctx.state));
    twin.sysfsWrite(0, 'state', 'start');
    clock.advanceBy(100);
    expect(states.at(-1)).toBe('running');
    twin.stop();
  });
});
