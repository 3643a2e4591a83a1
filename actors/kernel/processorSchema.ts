// processorSchema: the JSON shape of a processor object, shared by `kernel run` documents, scenarios and the daemon.

import { z } from 'zod';
import { invalid, type Result } from '../../machines/errno.js';
import { COREDUMP_MODES } from '../../machines/rprocTypes.js';

const ms = z.number().int().nonnegative();

/**
 * A processor as JSON: `name` is required; every other field overrides the kernel twin's default
 * (see `RPROC_DEFAULTS`). Unknown fields are rejected, so a typo cannot silently fall back to a default.
 */
export const processorSchema = z.strictObject({
  name: z.string().min(1),
  firmware: z.string().min(1).optional(),
  autoBoot: z.boolean().optional(),
  initial: z.enum(['offline', 'detached']).optional(),
  recovery: z.enum(['enabled', 'disabled']).optional(),
  coredump: z.enum(COREDUMP_MODES).optional(),
  bootMs: ms.optional(),
  stopMs: ms.optional(),
  attachMs: ms.optional(),
  canStop: z.boolean().optional(),
  canDetach: z.boolean().optional(),
  attachOnRecovery: z.boolean().optional(),
  firmwareMissing: z.boolean().optional(),
  sysfsReadOnly: z.boolean().optional(),
});

/** A processor object as parsed from JSON. */
export type ProcessorJson = z.infer<typeof processorSchema>;

/**
 * Checks a list of processor objects (a `--processors` file): at least one, each a {@link processorSchema}.
 * A failure is EINVAL with op `processors` and one `issues` entry per problem (`[1].bootMs: …`).
 */
export function parseProcessors(input: unknown): Result<ProcessorJson[]> {
  const parsed = z.array(processorSchema).min(1).safeParse(input);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : invalid('processors', formatIssues(parsed.error));
}

/** Formats a zod issue path the way a user writes it: `ops[3].fd`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out || '(document)';
}

/** One line per zod issue: `path: message`, with "received undefined" said as "missing field". */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const message = issue.message.replace(
      /^Invalid input: expected (\S+), received undefined$/,
      'missing field (expected $1)',
    );
    return `${formatPath(issue.path)}: ${message}`;
  });
}
