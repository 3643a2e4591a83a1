// The compare --html page: deterministic, one SVG timeline per (scenario, strategy), escaped text, metrics.

import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../scenarios/htmlReport.js';
import { runScenario } from '../scenarios/runScenario.js';
import { parseScenario, type Scenario, type StrategyName } from '../scenarios/scenarioSchema.js';
import { STATE_COLORS } from '../scenarios/svgTimeline.js';

function parse(doc: unknown): Scenario {
  const parsed = parseScenario(doc);
  if (!parsed.ok) throw new Error(parsed.error.detail);
  return parsed.value;
}

/** One processor, one client; the monitor SIGKILLed at 3 s, the client at 6 s (as the built-in scenario). */
const monitorCrash = (name = 'monitor crash') =>
  parse({
    name,
    description: 'The monitor dies & the client <later> too.',
    horizonMs: 10_000,
    processors: [{ name: 'm4', firmware: 'fw.elf', recovery: 'enabled' }],
    clients: [{ id: 'audio', processor: 'm4', heartbeatMs: 500 }],
    strategies: ['sysfs-monitor', 'hybrid'],
    timeline: [
      { at: 0, acquire: 'audio' },
      { at: 3000, kill: 'monitor', signal: 'SIGKILL' },
      { at: 6000, kill: 'client:audio', signal: 'SIGKILL' },
    ],
  });

/** The firmware crashes at 2 s while the client holds it. */
const firmwareCrash = parse({
  name: 'firmware crash',
  horizonMs: 4000,
  processors: [{ name: 'm4' }],
  clients: [{ id: 'a', processor: 'm4', heartbeatMs: 200 }],
  strategies: ['hybrid'],
  timeline: [
    { at: 0, acquire: 'a' },
    { at: 2000, crash: 'm4' },
  ],
});

const input = (...scenarios: Scenario[]) => ({
  scenarios: scenarios.map((scenario) => ({
    scenario,
    runs: scenario.strategies.map((strategy: StrategyName) => runScenario(scenario, { strategy })),
  })),
});

const count = (html: string, needle: string) => html.split(needle).length - 1;

describe('renderHtmlReport', () => {
  it('should give the same bytes for the same input', () => {
    const a = renderHtmlReport(input(monitorCrash(), firmwareCrash));
    const b = renderHtmlReport(input(monitorCrash(), firmwareCrash));
    expect(a).toBe(b);
    expect(a.startsWith('<!doctype html>')).toBe(true);
  });

  it('should be self-contained: no script, no external URL', () => {
    const html = renderHtmlReport(input(monitorCrash()));
    expect(html).not.toMatch(/<script|https?:|src=/i);
  });

  it('should draw one SVG per scenario and strategy', () => {
    const html = renderHtmlReport(input(monitorCrash(), firmwareCrash));
    expect(count(html, '<svg')).toBe(3);
    expect(count(html, '</svg>')).toBe(3);
  });

  it('should escape scenario names and descriptions', () => {
    const html = renderHtmlReport(input(monitorCrash('<script>x</script>')));
    expect(html).not.toContain('<script>x</script>');
    expect(html).toContain('&#60;script&#62;x&#60;/script&#62;');
    expect(html).not.toContain('<later>');
    expect(html).toContain('dies &#38; the client');
  });

  it('should draw a crashed-coloured segment in the state band when the firmware crashes', () => {
    const crashed = new RegExp(`<rect [^>]*fill="${STATE_COLORS.crashed}"`);
    expect(renderHtmlReport(input(firmwareCrash))).toMatch(crashed);
    expect(renderHtmlReport(input(monitorCrash()))).not.toMatch(crashed);
  });

  it('should mark the kills and the crash notice', () => {
    const html = renderHtmlReport(input(monitorCrash(), firmwareCrash));
    expect(html).toContain('SIGKILL monitor');
    expect(html).toContain('SIGKILL client:audio');
    expect(html).toContain('crash m4');
    expect(count(html, 'class="notice"')).toBe(1);
  });

  it('should print "never" for a processor that never stops, and crash notices as n/of', () => {
    const s = monitorCrash();
    const runs = input(s).scenarios[0]?.runs ?? [];
    expect(runs.find((r) => r.strategy === 'sysfs-monitor')?.metrics.stopLatencyMs).toBeNull();
    const html = renderHtmlReport(input(s));
    const row = html.split('\n').find((l) => l.startsWith('<tr><td>sysfs-monitor</td>'));
    expect(row).toContain('>never</td>');
    expect(renderHtmlReport(input(firmwareCrash))).toMatch(/<td[^>]*>1\/1<\/td>/);
  });
});
