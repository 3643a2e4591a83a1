// supervisorSettings: per-processor supervision settings (policy, firmware, timings, crash limit) as JSON, checked with zod.

import { z } from 'zod';
import { formatIssues } from '../actors/kernel/processorSchema.js';
import {
  CRASH_ACTIONS,
  type CrashLimit,
  firmwareNameProblem,
  PROCESSOR_POLICIES,
  type ProcessorPolicy,
  type ProcessorSettingsJson,
} from '../machines/corePolicy.js';
import { fail, invalid, ok, type Result } from '../machines/errno.js';

const ms = z.number().int().nonnegative();

const firmwareName = z.string().superRefine((name, ctx) => {
  const problem = firmwareNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** One processor's settings as JSON (docs/config.md); every field optional. */
export const processorSettingsSchema = z.strictObject({
  policy: z.enum(PROCESSOR_POLICIES).optional(),
  firmware: firmwareName.optional(),
  offGraceMs: ms.optional(),
  stopAckTimeoutMs: ms.max(2147483647).optional(),
  bootTimeoutMs: ms.positive().optional(),
  crashLimit: z
    .strictObject({
      intensity: z.number().int().nonnegative(),
      periodMs: ms.positive().max(2147483647),
      action: z.enum(CRASH_ACTIONS),
    })
    .optional(),
}) satisfies z.ZodType<ProcessorSettingsJson>;

export type { ProcessorSettingsJson };

/** The `daemon --config FILE` document: defaults for every processor, and per processor (by name or device). */
export const supervisionConfigSchema = z.strictObject({
  defaults: processorSettingsSchema.optional(),
  processors: z.record(z.string().min(1), processorSettingsSchema).optional(),
});

/** A supervision config document as parsed. */
export type SupervisionConfig = z.infer<typeof supervisionConfigSchema>;

/** One processor's settings with the defaults applied. */
export interface ProcessorSettings {
  policy: ProcessorPolicy;
  firmware?: string;
  offGraceMs: number;
  stopAckTimeoutMs: number;
  bootTimeoutMs: number;
  crashLimit?: CrashLimit;
}

/** The defaults: `shared`, no grace, no wait for stop acknowledgements, 30 s to boot, no crash limit. */
export const SETTINGS_DEFAULTS: ProcessorSettings = {
  policy: 'shared',
  offGraceMs: 0,
  stopAckTimeoutMs: 0,
  bootTimeoutMs: 30000,
};

/**
 * Checks a config document. A failure is EINVAL with op `config` and one issue per problem, named by
 * its JSON path (`processors.m4.policy: …`).
 */
export function parseSupervisionConfig(input: unknown): Result<SupervisionConfig> {
  const parsed = supervisionConfigSchema.safeParse(input);
  return parsed.success ? ok(parsed.data) : invalid('config', formatIssues(parsed.error));
}

/**
 * Parses a `--policy NAME=POLICY` flag value.
 *
 * @example parsePolicyFlag('m4=attach') // { ok: true, value: { name: 'm4', policy: 'attach' } }
 */
export function parsePolicyFlag(text: string): Result<{ name: string; policy: ProcessorPolicy }> {
  const at = text.indexOf('=');
  const name = at > 0 ? text.slice(0, at) : '';
  const policy = at > 0 ? text.slice(at + 1) : '';
  if (!name || !(PROCESSOR_POLICIES as readonly string[]).includes(policy))
    return fail(
      'EINVAL',
      'policy',
      `"${text}": expected NAME=POLICY, POLICY one of ${PROCESSOR_POLICIES.join(', ')}`,
    );
  return ok({ name, policy: policy as ProcessorPolicy });
}

/**
 * The settings of processor `ref` (its device `remoteprocN` and its name): the defaults, then the
 * document's `defaults`, then its entry by device, then by name.
 */
export function settingsFor(
  config: SupervisionConfig | undefined,
  ref: { device: string; name: string },
): ProcessorSettings {
  const layers = [config?.defaults, config?.processors?.[ref.device], config?.processors?.[ref.name]];
  const out: ProcessorSettings = { ...SETTINGS_DEFAULTS };
  for (const layer of layers)
    for (const [k, v] of Object.entries(layer ?? {}))
      if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/** Unknown processor names in a config (neither a device nor a name of `refs`), as issues. */
export function unknownProcessors(
  config: SupervisionConfig,
  refs: ReadonlyArray<{ device: string; name: string }>,
): string[] {
  return Object.keys(config.processors ?? {})
    .filter((k) => !refs.some((r) => r.device === k || r.name === k))
    .map(
      (k) =>
        `processors.${k}: no such processor (there are: ${refs.map((r) => r.name).join(', ') || 'none'})`,
    );
}
