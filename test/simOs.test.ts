// actors/os: simulated processes — signals, frozen processes, connections, descriptors closed on death.

import { describe, expect, it } from 'vitest';
import { KernelTwin } from '../actors/kernel/KernelTwin.js';
import { SimOs } from '../actors/os/SimOs.js';
import { VirtualClock } from '../actors/VirtualClock.js';

function world() {
  const clock = new VirtualClock();
  const twin = new KernelTwin({ processors: [{ name: 'm4' }], clock });
  const events: string[] = [];
  const os = new SimOs(clock, twin, (e) => events.push(`${clock.now()} ${e.type} ${e.subject ?? ''}`));
  return { clock, twin, os, events };
}

describe('SimOs', () => {
  it('should defer a frozen process timers and messages until SIGCONT', () => {
    const { clock, os } = world();
    const ticks: number[] = [];
    const got: unknown[] = [];
    const p = os.spawn('client:a', {
      start: (self) => self.every(100, () => ticks.push(clock.now())),
      message: (_s, _c, m) => got.push(m),
    });
    const q = os.spawn('monitor', {});
    const conn = os.connect(q, p);
    clock.advanceBy(250);
    os.kill(p, 'SIGSTOP');
    conn.send(q, 'hello');
    clock.advanceBy(500);
    expect(ticks).toEqual([100, 200]);
    expect(got).toEqual([]);
    os.kill(p, 'SIGCONT');
    expect(got).toEqual(['hello']);
    expect(ticks).toEqual([100, 200, 750]);
  });

  it('should keep SIGTERM pending on a stopped process and run its cleanup when continued', () => {
    const { os } = world();
    const cleaned: string[] = [];
    const p = os.spawn('client:a', {
      terminate: (self) => {
        cleaned.push('cleanup');
        self.exit('SIGTERM');
      },
    });
    os.kill(p, 'SIGSTOP');
    os.kill(p, 'SIGTERM');
    expect(p.alive).toBe(true);
    os.kill(p, 'SIGCONT');
    expect(cleaned).toEqual(['cleanup']);
    expect(p.alive).toBe(false);
  });

  it('should run no cleanup on SIGKILL, but close its descriptors and give its peers EOF', () => {
    const { clock, os, twin } = world();
    let eof = 0;
    const cleaned: string[] = [];
    const p = os.spawn('client:a', { terminate: () => cleaned.push('cleanup') });
    const m = os.spawn('monitor', { eof: () => eof++ });
    os.connect(p, m);
    twin.cdevOpen(p.pid, 0);
    os.kill(p, 'SIGKILL');
    clock.advanceBy(0);
    expect(cleaned).toEqual([]);
    expect(eof).toBe(1);
    expect(twin.fds.descriptors(p.pid)).toEqual([]);
    expect(twin.fds.isDead(p.pid)).toBe(true);
  });

  it('should share descriptors with a fork+exec child except O_CLOEXEC ones', () => {
    const { os, twin } = world();
    const p = os.spawn('client:a', {});
    twin.cdevOpen(p.pid, 0);
    twin.cdevOpen(p.pid, 0, { cloexec: true });
    const child = os.forkExec(p, 'child:a', {});
    expect(twin.fds.descriptors(child.pid)).toEqual([3]);
  });
});
