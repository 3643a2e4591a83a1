// Every strategy × every fault kind, on one small scenario each: the outcome each design predicts.

import { describe, expect, it } from 'vitest';
import type { Metrics } from '../scenarios/metrics.js';
import { runScenario } from '../scenarios/runScenario.js';
import { type ScenarioBuilder, scenario } from '../scenarios/scenarioBuilder.js';
import { STRATEGY_NAMES, type StrategyName } from '../scenarios/scenarioSchema.js';

/** One processor, one client acquiring at 0; the fault at 2000 ms; 6 s in all. */
const base = (name: string) =>
  scenario(name)
    .processor({ name: 'm4' })
    .client('a', 'm4', { heartbeatMs: 200 })
    .horizon(6000)
    .at(0)
    .acquire('a');

function run(b: ScenarioBuilder): Record<StrategyName, Metrics> {
  const s = b.build();
  return Object.fromEntries(
    STRATEGY_NAMES.map((n) => [n, runScenario(s, { strategy: n }).metrics]),
  ) as Record<StrategyName, Metrics>;
}

const STOP = 20; // default stopMs: a stop that starts at once leaves 20 ms powered with nobody wanting it

describe('strategies × faults', () => {
  it('should orphan only under sysfs-direct when a client is SIGKILLed', () => {
    const m = run(base('client SIGKILL').at(2000).kill('client:a'));
    expect(m['sysfs-direct']).toMatchObject({ orphanMs: 4000, stopLatencyMs: null, leakedRefs: 1 });
    for (const n of ['parent-script', 'sysfs-monitor', 'cdev', 'hybrid'] as const) {
      expect(m[n], n).toMatchObject({ orphanMs: STOP, stopLatencyMs: STOP, wrongfulStops: 0, leakedRefs: 0 });
    }
  });

  it('should stop under every strategy when a client is SIGTERMed (its cleanup runs)', () => {
    const m = run(base('client SIGTERM').at(2000).kill('client:a', 'SIGTERM'));
    for (const n of STRATEGY_NAMES) expect(m[n].orphanMs, n).toBe(STOP);
  });

  it('should stop under every strategy on a clean release', () => {
    const m = run(base('release').at(2000).release('a'));
    for (const n of STRATEGY_NAMES)
      expect(m[n], n).toMatchObject({ orphanMs: STOP, wrongfulStops: 0, leakedRefs: 0 });
  });

  it('should orphan under sysfs-monitor and stop fail-safe under hybrid when the monitor dies unrestarted', () => {
    const m = run(base('monitor SIGKILL').at(2000).kill('monitor').at(4000).kill('client:a'));
    expect(m['sysfs-monitor']).toMatchObject({ orphanMs: 2000, wrongfulStops: 0, stopLatencyMs: null });
    // The kernel's release stops it under the live client: unavailable, never orphaned.
    expect(m.hybrid).toMatchObject({ orphanMs: 0, wrongfulStops: 1 });
    expect(m.hybrid.unavailableMs).toBe(100 + (4000 - 2000 - STOP));
    // No monitor to kill: a no-op, then the client's death behaves as usual.
    expect(m.cdev.orphanMs).toBe(STOP);
    expect(m['sysfs-direct'].orphanMs).toBe(2000);
  });

  it('should re-start the processor for a re-registered client after the monitor restarts (hybrid)', () => {
    const m = run(
      base('monitor restart')
        .monitor({ restart: { delayMs: 500 }, reconnectMs: 100, graceMs: 1000 })
        .at(2000)
        .kill('monitor'),
    );
    expect(m['sysfs-monitor']).toMatchObject({ orphanMs: 0, wrongfulStops: 0, unavailableMs: 100 });
    expect(m.hybrid.wrongfulStops).toBe(1);
    expect(m.hybrid.unavailableMs).toBeGreaterThan(500);
    expect(m.hybrid.unavailableMs).toBeLessThan(1000);
    expect(m.hybrid.orphanMs).toBe(0);
  });

  it('should orphan under parent-script when the script is SIGKILLed and the client dies later', () => {
    const m = run(base('script SIGKILL').at(2000).kill('script:a').at(4000).kill('client:a'));
    expect(m['parent-script']).toMatchObject({ orphanMs: 2000, stopLatencyMs: null });
    for (const n of ['sysfs-monitor', 'cdev', 'hybrid'] as const) expect(m[n].orphanMs, n).toBe(STOP);
  });

  it('should tell the client of a short crash recovery only under hybrid (uevent), not by polling', () => {
    const m = run(base('crash').at(2010).crash('m4'));
    expect(m.hybrid.crashNotices).toEqual({ notified: 1, of: 1 });
    for (const n of ['sysfs-direct', 'parent-script', 'sysfs-monitor', 'cdev'] as const) {
      expect(m[n].crashNotices, n).toEqual({ notified: 0, of: 1 });
    }
    // Recovery: 20 ms crashed-and-stopping plus a 100 ms boot, on top of the first boot.
    for (const n of STRATEGY_NAMES) expect(m[n].unavailableMs, n).toBe(100 + STOP + 100);
  });

  it('should keep a frozen client served without TTL, and stop under it with TTL (monitors)', () => {
    const frozen = run(base('frozen').at(2000).kill('client:a', 'SIGSTOP'));
    for (const n of STRATEGY_NAMES) expect(frozen[n], n).toMatchObject({ orphanMs: 0, wrongfulStops: 0 });
    const ttl = run(base('frozen with TTL').monitor({ ttlMs: 1000 }).at(2000).kill('client:a', 'SIGSTOP'));
    for (const n of ['sysfs-monitor', 'hybrid'] as const) expect(ttl[n].wrongfulStops, n).toBe(1);
    for (const n of ['sysfs-direct', 'parent-script', 'cdev'] as const)
      expect(ttl[n].wrongfulStops, n).toBe(0);
  });

  it('should re-acquire after SIGCONT when the lease expired while frozen', () => {
    const m = run(
      base('thaw')
        .monitor({ ttlMs: 1000 })
        .at(2000)
        .kill('client:a', 'SIGSTOP')
        .at(4000)
        .kill('client:a', 'SIGCONT'),
    );
    // Stopped at ~3000 (expired), started again soon after 4000.
    for (const n of ['sysfs-monitor', 'hybrid'] as const) {
      expect(m[n].unavailableMs, n).toBeGreaterThan(900);
      expect(m[n].unavailableMs, n).toBeLessThan(1400);
    }
  });

  it('should keep the processor running through an inherited cdev descriptor only under cdev', () => {
    const m = run(base('fork').at(1000).fork('a').at(2000).kill('client:a'));
    expect(m.cdev).toMatchObject({ orphanMs: 4000, stopLatencyMs: null });
    for (const n of ['parent-script', 'sysfs-monitor', 'hybrid'] as const)
      expect(m[n].orphanMs, n).toBe(STOP);
  });

  it('should be deterministic: the same scenario gives the same trace', () => {
    const s = base('determinism').at(2000).crash('m4').at(3000).kill('monitor').build();
    for (const n of STRATEGY_NAMES) {
      expect(runScenario(s, { strategy: n }).trace).toEqual(runScenario(s, { strategy: n }).trace);
    }
  });
});
