// scenarioBuilder: write scenarios in TypeScript, checked by the same schema as the JSON files.

import type { ProcessorJson } from '../actors/kernel/processorSchema.js';
import type { Signal } from '../actors/os/SimOs.js';
import type { KernelProfile } from '../machines/profile.js';
import type { CrashType } from '../machines/rprocTypes.js';
import {
  type ExpectBound,
  type MetricName,
  parseScenario,
  type Scenario,
  type ScenarioJson,
  type StrategyName,
  type TimelineEvent,
} from './scenarioSchema.js';

type Doc = Omit<ScenarioJson, 'timeline'> & { timeline: TimelineEvent[] };

/**
 * A fluent builder for a scenario. `at(ms)` sets the time of the events that follow it. `build()`
 * validates the result exactly as a JSON file is validated and throws with every problem's path.
 *
 * @example
 * const s = scenario('monitor dies')
 *   .processor({ name: 'm4' })
 *   .client('audio', 'm4')
 *   .at(0).acquire('audio')
 *   .at(3000).kill('monitor')
 *   .horizon(10_000)
 *   .build();
 * expect(runScenario(s, { strategy: 'hybrid' }).metrics.orphanMs).toBe(0);
 */
export class ScenarioBuilder {
  #doc: Doc;
  #at = 0;

  constructor(name: string) {
    this.#doc = { name, horizonMs: 10_000, processors: [], clients: [], timeline: [] };
  }

  /** Text shown with the scenario. */
  describe(text: string): this {
    this.#doc.description = text;
    return this;
  }

  /** The kernel profile. @default '5.19' */
  kernel(profile: KernelProfile): this {
    this.#doc.kernel = profile;
    return this;
  }

  /** How long the run lasts. @default 10000 */
  horizon(ms: number): this {
    this.#doc.horizonMs = ms;
    return this;
  }

  /** Adds a processor, as in `kernel run` documents. */
  processor(p: ProcessorJson): this {
    this.#doc.processors.push(p);
    return this;
  }

  /** Adds a client of `processor`. */
  client(id: string, processor: string, options: { heartbeatMs?: number | null } = {}): this {
    this.#doc.clients.push({ id, processor, ...options });
    return this;
  }

  /** Monitor settings (restart, reconcile, graceMs, ttlMs, reconnectMs, pollMs). */
  monitor(m: NonNullable<ScenarioJson['monitor']>): this {
    this.#doc.monitor = m;
    return this;
  }

  /** Which strategies to run. @default all five */
  strategies(...names: StrategyName[]): this {
    this.#doc.strategies = names;
    return this;
  }

  /** Sets the time, in ms, of the events added next. */
  at(ms: number): this {
    this.#at = ms;
    return this;
  }

  acquire(client: string): this {
    return this.#event({ at: this.#at, acquire: client });
  }

  release(client: string): this {
    return this.#event({ at: this.#at, release: client });
  }

  /** Signals `client:<id>`, `script:<id>`, `child:<id>` or `monitor`. @default SIGKILL */
  kill(target: string, signal: Signal = 'SIGKILL'): this {
    return this.#event({ at: this.#at, kill: target, signal });
  }

  crash(processor: string, reason: CrashType = 'watchdog'): this {
    return this.#event({ at: this.#at, crash: processor, reason });
  }

  /** The client forks and execs a helper that inherits its descriptors opened without O_CLOEXEC. */
  fork(client: string): this {
    return this.#event({ at: this.#at, fork: client });
  }

  /** Expected metrics for `strategy`: a number (exact), null, or `{ min, max }`. */
  expect(strategy: StrategyName, bounds: Partial<Record<MetricName, ExpectBound>>): this {
    this.#doc.expect = { ...this.#doc.expect, [strategy]: { ...this.#doc.expect?.[strategy], ...bounds } };
    return this;
  }

  /** The scenario as JSON, as a file would hold it. */
  toJSON(): ScenarioJson {
    return structuredClone(this.#doc);
  }

  /** Validates and returns the scenario. Throws an Error listing each problem with its path. */
  build(): Scenario {
    const parsed = parseScenario(this.toJSON());
    if (!parsed.ok)
      throw new Error(`invalid scenario "${this.#doc.name}":\n  ${(parsed.error.issues ?? []).join('\n  ')}`);
    return parsed.value;
  }

  #event(e: TimelineEvent): this {
    this.#doc.timeline.push(e);
    return this;
  }
}

/** Starts a {@link ScenarioBuilder}. */
export function scenario(name: string): ScenarioBuilder {
  return new ScenarioBuilder(name);
}
