// scenarioSchema: the public JSON format of fault scenarios (docs/scenarios.md), validated with zod.

import { z } from 'zod';
import { formatIssues, processorSchema } from '../actors/kernel/processorSchema.js';
import { SIGNALS } from '../actors/os/SimOs.js';
import type { MonitorConfig } from '../actors/World.js';
import { PROCESSOR_POLICIES } from '../machines/corePolicy.js';
import { invalid, type RprocError } from '../machines/errno.js';
import {
  DEFAULT_PROFILE,
  type KERNEL_PROFILES,
  KERNEL_VALUES,
  type KernelProfile,
  parseKernel,
} from '../machines/profile.js';
import { CRASH_TYPES } from '../machines/rprocTypes.js';
import { STRATEGY_NAMES, type StrategyName } from '../supervisors/sim/Strategy.js';
import { processorSettingsSchema } from '../supervisors/supervisorSettings.js';
import { METRIC_NAMES } from './metricCells.js';

export type { StrategyName } from '../supervisors/sim/Strategy.js';
/** The metrics of a run, and one metric's name: defined with their table cells (metricCells.ts). */
export { METRIC_NAMES, type MetricName } from './metricCells.js';
export { STRATEGY_NAMES };

const ms = z.number().int().nonnegative();

const clientSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  processor: z.string().min(1),
  /** Pings to the monitor; a frozen client sends none. null: no heartbeat. */
  heartbeatMs: ms.positive().nullable().optional(),
  /** The firmware its lease asks for (the monitor strategies; a name under /lib/firmware). */
  firmware: z.string().min(1).max(255).optional(),
});

const monitorSchema = z.strictObject({
  restart: z
    .union([
      z.literal(false),
      z.strictObject({
        delayMs: ms,
        intensity: z.number().int().positive().optional(),
        periodMs: ms.positive().optional(),
      }),
    ])
    .optional(),
  reconcile: z.enum(['adopt', 'stop-unknown']).optional(),
  graceMs: ms.optional(),
  ttlMs: ms.positive().nullable().optional(),
  reconnectMs: ms.optional(),
  pollMs: ms.positive().optional(),
  /** The policy of every processor (docs/config.md); absent: `exclusive`. */
  policy: z.enum(PROCESSOR_POLICIES).optional(),
  /** Per-processor settings by processor name, over `policy`. */
  processors: z.record(z.string().min(1), processorSettingsSchema).optional(),
});

const at = ms;
const eventSchema = z.union([
  z.strictObject({ at, acquire: z.string() }),
  z.strictObject({ at, release: z.string() }),
  z.strictObject({
    at,
    kill: z
      .string()
      .regex(/^(client:|script:|child:).+|^monitor$/, 'client:<id>, script:<id>, child:<id> or monitor'),
    signal: z.enum(SIGNALS).optional(),
  }),
  z.strictObject({ at, crash: z.string(), reason: z.enum([...CRASH_TYPES, 'unknown']).optional() }),
  z.strictObject({ at, fork: z.string() }),
  /** init starts the monitor now, if it is not running (a restart by hand, or by a supervisor of init). */
  z.strictObject({ at, start: z.literal('monitor') }),
  /** An operator writes `recovery` of a processor. */
  z.strictObject({ at, recovery: z.string(), value: z.enum(['enabled', 'disabled']) }),
  /** Someone else (a udev rule, another opener) writes `state` of a processor. */
  z.strictObject({ at, write: z.string(), value: z.enum(['start', 'stop', 'detach']) }),
]);

const bound = z.union([
  z.number(),
  z.null(),
  z.strictObject({ min: z.number().optional(), max: z.number().optional() }),
  z.strictObject({ notified: z.number().int(), of: z.number().int() }),
]);

/** A scenario document. */
export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  kernel: z
    .string()
    .refine((v) => parseKernel(v) !== undefined, {
      message: `expected ${KERNEL_VALUES}`,
    })
    .transform((v) => parseKernel(v) as KernelProfile)
    .optional(),
  horizonMs: ms.positive(),
  processors: z.array(processorSchema).min(1),
  clients: z.array(clientSchema),
  monitor: monitorSchema.optional(),
  strategies: z.array(z.enum(STRATEGY_NAMES)).min(1).optional(),
  timeline: z.array(eventSchema),
  expect: z.partialRecord(z.enum(STRATEGY_NAMES), z.partialRecord(z.enum(METRIC_NAMES), bound)).optional(),
});

/** A scenario as parsed (defaults not yet applied). */
export type ScenarioJson = z.infer<typeof scenarioSchema>;
/** One timeline event. */
export type TimelineEvent = z.infer<typeof eventSchema>;
/** An `expect` bound. */
export type ExpectBound = z.infer<typeof bound>;

export type { MonitorConfig };

/** A checked scenario with defaults applied. */
export interface Scenario extends Omit<ScenarioJson, 'monitor' | 'strategies' | 'kernel'> {
  kernel: (typeof KERNEL_PROFILES)[number];
  monitor: MonitorConfig;
  strategies: StrategyName[];
}

/** Defaults of the `monitor` object. */
export const MONITOR_DEFAULTS: MonitorConfig = {
  restart: false,
  reconcile: 'adopt',
  graceMs: 2000,
  ttlMs: null,
  reconnectMs: 300,
  pollMs: 250,
};

/**
 * The bounds of a scenario (docs/scenarios.md, Bounds): what a run may cost is finite and small, so a
 * hostile or mistaken file makes `compare`, `inspect` and `explore` fail with EINVAL, not run without end.
 */
export const SCENARIO_BOUNDS = Object.freeze({
  /** Virtual time simulated, in ms (one hour). */
  horizonMs: 3_600_000,
  processors: 64,
  clients: 256,
  /** Timeline events. */
  events: 10_000,
  /** Firings of one periodic timer (a poll, a heartbeat, a reconnect) within the horizon. */
  periodicSteps: 100_000,
});

/** The bound checks of {@link SCENARIO_BOUNDS} on a schema-valid scenario: one issue per bound passed. */
function boundIssues(s: ScenarioJson): string[] {
  const b = SCENARIO_BOUNDS;
  const errors: string[] = [];
  const most = (path: string, n: number, max: number, what: string) => {
    if (n > max) errors.push(`${path}: ${n} ${what}; at most ${max}`);
  };
  most('horizonMs', s.horizonMs, b.horizonMs, 'ms');
  most('processors', s.processors.length, b.processors, 'processors');
  most('clients', s.clients.length, b.clients, 'clients');
  most('timeline', s.timeline.length, b.events, 'events');
  const periodic = (path: string, everyMs: number) => {
    if (everyMs <= 0) errors.push(`${path}: 0 makes a timer that fires without end; expected at least 1`);
    else if (s.horizonMs / everyMs > b.periodicSteps)
      errors.push(
        `${path}: ${everyMs} ms over horizonMs ${s.horizonMs} fires ${Math.ceil(s.horizonMs / everyMs)} times; at most ${b.periodicSteps} (raise it or shorten horizonMs)`,
      );
  };
  periodic('monitor.pollMs', s.monitor?.pollMs ?? MONITOR_DEFAULTS.pollMs);
  periodic('monitor.reconnectMs', s.monitor?.reconnectMs ?? MONITOR_DEFAULTS.reconnectMs);
  s.clients.forEach((c, i) => {
    if (c.heartbeatMs) periodic(`clients[${i}].heartbeatMs`, c.heartbeatMs);
  });
  return errors;
}

/**
 * What {@link parseScenario} returns: a `Result` (machines/errno.ts). A failure is EINVAL with op
 * `scenario` and one issue per problem in `error.issues`.
 */
export type ScenarioResult = { ok: true; value: Scenario } | { ok: false; error: RprocError };

function malformed(issues: string[]): ScenarioResult {
  return invalid('scenario', issues);
}

/**
 * Parses and checks a scenario. A malformed one fails with errno data (EINVAL, op `scenario`) whose
 * `issues` name the JSON path of each problem (`timeline[2].kill: …`).
 */
export function parseScenario(input: unknown): ScenarioResult {
  const parsed = scenarioSchema.safeParse(input);
  if (!parsed.success) return malformed(formatIssues(parsed.error));
  const s = parsed.data;
  const bounds = boundIssues(s);
  if (bounds.length) return malformed(bounds);
  const errors: string[] = [];
  const procs = new Set(s.processors.map((p) => p.name));
  const clients = new Set<string>();
  s.clients.forEach((c, i) => {
    if (clients.has(c.id)) errors.push(`clients[${i}].id: duplicate client "${c.id}"`);
    clients.add(c.id);
    if (!procs.has(c.processor)) errors.push(`clients[${i}].processor: unknown processor "${c.processor}"`);
  });
  s.timeline.forEach((e, i) => {
    const client = 'acquire' in e ? e.acquire : 'release' in e ? e.release : 'fork' in e ? e.fork : undefined;
    if (client !== undefined && !clients.has(client))
      errors.push(`timeline[${i}]: unknown client "${client}"`);
    if ('kill' in e && e.kill !== 'monitor') {
      const id = e.kill.slice(e.kill.indexOf(':') + 1);
      if (!clients.has(id)) errors.push(`timeline[${i}].kill: unknown client "${id}"`);
    }
    if ('crash' in e && !procs.has(e.crash))
      errors.push(`timeline[${i}].crash: unknown processor "${e.crash}"`);
    if ('write' in e && !procs.has(e.write))
      errors.push(`timeline[${i}].write: unknown processor "${e.write}"`);
    if ('recovery' in e && !procs.has(e.recovery)) {
      errors.push(`timeline[${i}].recovery: unknown processor "${e.recovery}"`);
    }
    if (e.at > s.horizonMs) errors.push(`timeline[${i}].at: ${e.at} is past horizonMs ${s.horizonMs}`);
  });
  for (const name of Object.keys(s.monitor?.processors ?? {}))
    if (!procs.has(name)) errors.push(`monitor.processors.${name}: unknown processor "${name}"`);
  if (errors.length) return malformed(errors);
  const m = s.monitor ?? {};
  const restart =
    m.restart === undefined || m.restart === false
      ? false
      : {
          delayMs: m.restart.delayMs,
          intensity: m.restart.intensity ?? 1,
          periodMs: m.restart.periodMs ?? 5000,
        };
  const monitor: MonitorConfig = {
    ...MONITOR_DEFAULTS,
    ...Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)),
    restart,
  };
  const { monitor: _m, strategies, kernel, ...rest } = s;
  return {
    ok: true,
    value: {
      ...rest,
      kernel: kernel ?? DEFAULT_PROFILE,
      monitor,
      strategies: strategies ?? [...STRATEGY_NAMES],
    },
  };
}
