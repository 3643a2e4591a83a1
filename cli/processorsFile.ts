// processorsFile: the `--processors FILE` of `daemon` and `twin` — a JSON array of processor objects.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatIssues, type ProcessorJson, processorSchema } from '../actors/kernel/processorSchema.js';
import { errnoOf } from './io.js';

/** Reads a `--processors` file: a JSON array of processor objects; errors name the JSON path. */
export function readProcessorsFile(
  file: string,
): { ok: true; value: ProcessorJson[] } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? `invalid JSON: ${err.message}` : `cannot read: ${errnoOf(err)}`;
    return { ok: false, message: `--processors ${file}: ${why}` };
  }
  const parsed = z.array(processorSchema).min(1).safeParse(json);
  if (!parsed.success)
    return { ok: false, message: `--processors ${file}:\n  ${formatIssues(parsed.error).join('\n  ')}` };
  return { ok: true, value: parsed.data };
}
