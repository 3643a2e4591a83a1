// processorsFile: the `--processors FILE` of `daemon` and `twin` — a JSON array of processor objects.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatIssues, type ProcessorJson, processorSchema } from '../actors/kernel/processorSchema.js';
import { readJson } from './io.js';

/** Reads a `--processors` file: a JSON array of processor objects; errors name the JSON path. */
export function readProcessorsFile(
  file: string,
): { ok: true; value: ProcessorJson[] } | { ok: false; message: string } {
  const read = readJson((f) => readFileSync(f, 'utf8'), file);
  if (!read.ok) return { ok: false, message: `--processors ${file}: ${read.why}` };
  const parsed = z.array(processorSchema).min(1).safeParse(read.json);
  if (!parsed.success)
    return { ok: false, message: `--processors ${file}:\n  ${formatIssues(parsed.error).join('\n  ')}` };
  return { ok: true, value: parsed.data };
}
