// One timeline loop and one wrongful-stop rule: recordReplay runs runScenario's loop; the rule reads live and from a trace alike.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordReplay } from '../inspector/recordReplay.js';
import { layoutStatechart } from '../inspector/statechart.js';
import { rprocMachine } from '../machines/rprocMachine.js';
import { runScenario } from '../scenarios/runScenario.js';
import { parseScenario, type Scenario } from '../scenarios/scenarioSchema.js';
import { stepOf } from '../scenarios/startRun.js';
import { observeStop, type StopWatch, startWatch } from '../scenarios/wrongfulStop.js';

const builtins: Scenario[] = readdirSync('scenarios/builtin')
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => {
    const p = parseScenario(JSON.parse(readFileSync(join('scenarios/builtin', f), 'utf8')));
    if (!p.ok) throw new Error(`${f}: ${p.error.detail}`);
    return p.value;
  });

describe('the wrongful-stop rule', () => {
  const run = (watch: StopWatch, ...seen: Array<[string, string, boolean]>) => {
    let w = watch;
    let wrongful = 0;
    for (const [state, step, wanted] of seen) {
      const r = observeStop(w, { state, step }, () => wanted);
      if (r.wrongful) wrongful++;
      w = r.watch;
    }
    return wrongful;
  };

  it('should count a stop that began while a live client wanted the processor', () => {
    expect(run(startWatch('running'), ['running', 'stopping', true], ['offline', 'idle', false])).toBe(1);
    expect(run(startWatch('attached'), ['attached', 'stopping', true], ['offline', 'idle', true])).toBe(1);
  });

  it('should not count a stop nobody wanted when it began, even if a client comes while it runs', () => {
    expect(run(startWatch('running'), ['running', 'stopping', false], ['offline', 'idle', true])).toBe(0);
  });

  it('should not count a crash, a recovery, or a stop from anything but running', () => {
    expect(run(startWatch('running'), ['crashed', 'idle', true], ['offline', 'idle', true])).toBe(0);
    expect(
      run(
        startWatch('crashed'),
        ['crashed', 'recovering.stopping', true],
        ['offline', 'recovering.booting', true],
      ),
    ).toBe(0);
    expect(run(startWatch('offline'), ['offline', 'stopping', true], ['offline', 'idle', true])).toBe(0);
  });

  it('should ask whether a client wants the processor only when a stop begins (where explore folds in its excuse)', () => {
    const asked: string[] = [];
    let w = startWatch('running');
    for (const [state, step] of [
      ['running', 'idle'],
      ['running', 'stopping'],
      ['running', 'stopping'],
      ['offline', 'idle'],
    ] as const) {
      w = observeStop(w, { state, step }, () => {
        asked.push(`${state}/${step}`);
        return false; // excused: the stop is no wrongful one
      }).watch;
    }
    expect(asked).toEqual(['running/stopping']);
  });

  it('should give the metric’s count when applied live to every kernel change of the built-in runs', () => {
    for (const scenario of builtins) {
      for (const strategy of scenario.strategies) {
        let live = 0;
        const run = runScenario(scenario, {
          strategy,
          onStart: (world) => {
            const watches = world.twin.processors.map((p) => startWatch(p.context.state));
            world.twin.subscribe((i, ctx) => {
              const name = world.twin.processor(i).name;
              const r = observeStop(
                watches[i] as StopWatch,
                { state: ctx.state, step: stepOf(world, i) },
                () => (world.wanting.get(name)?.size ?? 0) > 0,
              );
              if (r.wrongful) live++;
              watches[i] = r.watch;
            });
          },
        });
        expect(live, `${scenario.name} · ${strategy}`).toBe(run.metrics.wrongfulStops);
      }
    }
  });
});

describe('recordReplay', () => {
  it('should run runScenario’s loop: the same metrics and trace, plus the kernel releases it watches', async () => {
    const chart = await layoutStatechart(rprocMachine);
    for (const scenario of builtins) {
      const data = recordReplay(scenario, scenario.strategies, chart);
      for (const rec of data.runs) {
        const run = runScenario(scenario, { strategy: rec.strategy });
        const label = `${scenario.name} · ${rec.strategy}`;
        expect(rec.metrics, label).toEqual(run.metrics);
        expect(
          rec.trace.filter((e) => e.type !== 'kernel.release'),
          label,
        ).toEqual(run.trace);
      }
    }
  });
});
