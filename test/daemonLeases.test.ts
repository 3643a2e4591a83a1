// DaemonLeases: a watching connection's set holds live leases only, however many it has watched.

import { describe, expect, it } from 'vitest';
import type { PushedEvent } from '../actors/daemon/protocol.js';
import type { Lease } from '../supervisors/runtime/createSupervisor.js';
import { DaemonLeases, watcher } from '../supervisors/runtime/daemonLeases.js';

const lease = (id: string) => ({ id, processor: { device: 'remoteproc0', name: 'm4' } }) as unknown as Lease;

describe('DaemonLeases', () => {
  it('should forget an ended lease in its watchers, so a watcher cannot grow without bound', () => {
    const all = new DaemonLeases();
    const got: PushedEvent[] = [];
    const w = watcher((e) => got.push(e));
    for (let i = 0; i < 1000; i++) {
      all.add(lease(`l${i}`), 1000, () => {});
      expect(all.watch(`l${i}`, 1000, w).ok).toBe(true);
      all.delete(`l${i}`);
    }
    expect(w.watching.size).toBe(0);
    all.add(lease('live'), 1000, () => {});
    all.watch('live', 1000, w);
    expect([...w.watching]).toEqual(['live']);
    all.shutdown();
    expect(w.watching.size).toBe(0);
    expect(got).toEqual([
      { event: 'lease.lost', lease: 'live', processor: 'remoteproc0', reason: 'daemon-gone' },
    ]);
  });

  it('should refuse a watcher of another uid (EPERM) and an unknown lease (ENOENT)', () => {
    const all = new DaemonLeases();
    const w = watcher(() => {});
    all.add(lease('a'), 1000, () => {});
    expect(all.watch('a', 1001, w)).toMatchObject({ ok: false, error: { code: 'EPERM' } });
    expect(all.watch('b', 1000, w)).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
    expect(w.watching.size).toBe(0);
  });
});
