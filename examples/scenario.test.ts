// An example to copy into your own test suite: a fault scenario, written in TypeScript, as a vitest test.
// In your project: `npm install --save-dev rproc-supervisor vitest`, then keep the import below as it is.

import { runScenario, scenario } from 'rproc-supervisor';
import { describe, expect, it } from 'vitest';

describe('our audio DSP supervision', () => {
  // Our service "audio" holds the DSP; the supervisor daemon gets SIGKILLed and comes back a second later.
  const s = scenario('daemon restart while audio plays')
    .kernel('5.19')
    .processor({ name: 'adsp', bootMs: 250 })
    .client('audio', 'adsp', { heartbeatMs: 500 })
    .monitor({ restart: { delayMs: 1000 }, reconcile: 'adopt', graceMs: 2000, reconnectMs: 300 })
    .horizon(15_000)
    .at(0)
    .acquire('audio')
    .at(3000)
    .kill('monitor')
    .at(10_000)
    .kill('client:audio')
    .build();

  it('leaves the DSP running for nobody only while it stops, with the hybrid daemon', () => {
    const { metrics } = runScenario(s, { strategy: 'hybrid' });
    expect(metrics.orphanMs).toBeLessThanOrEqual(20); // the stop itself (stopMs, default 20)
    // The price of fail-safe: the kernel stops the DSP when the daemon dies, until audio re-registers.
    expect(metrics.wrongfulStops).toBe(1);
    expect(metrics.unavailableMs).toBeLessThan(2000);
  });

  it('keeps the DSP running across the restart with a sysfs monitor, and stops it when audio dies', () => {
    const { metrics, trace } = runScenario(s, { strategy: 'sysfs-monitor' });
    expect(metrics.wrongfulStops).toBe(0);
    expect(metrics.stopLatencyMs).toBeLessThan(100);
    expect(trace.some((e) => e.type === 'monitor.adopt')).toBe(true);
  });
});
