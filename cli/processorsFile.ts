// processorsFile: the `--processors FILE` of `daemon` and `twin` — a JSON array of processor objects.

import { readFileSync } from 'node:fs';
import { type ProcessorJson, parseProcessors } from '../actors/kernel/processorSchema.js';
import type { Result, RprocError } from '../machines/errno.js';
import {
  parsePolicyFlag,
  parseSupervisionConfig,
  type SupervisionConfig,
} from '../supervisors/supervisorSettings.js';
import { readJson } from './io.js';

/**
 * Reads a `--processors` file: a JSON array of processor objects. A failure is the errno data of
 * {@link readJson} (the file cannot be read, or is not JSON) or of {@link parseProcessors} (`issues`
 * name the JSON path).
 */
export function readProcessorsFile(file: string): Result<ProcessorJson[]> {
  const read = readJson((f) => readFileSync(f, 'utf8'), file);
  return read.ok ? parseProcessors(read.value) : read;
}

/** The usage message of a bad `--processors` file: `--processors FILE: why`, or its issues one per line. */
export function processorsFileMessage(file: string, error: RprocError): string {
  return error.issues
    ? `--processors ${file}:\n  ${error.issues.join('\n  ')}`
    : `--processors ${file}: ${error.detail}`;
}

/**
 * The supervision settings of `daemon`: the `--config FILE` document (docs/config.md), then each
 * `--policy NAME=POLICY` over it, in order. A failure is a usage message (the file's issues one per line).
 */
export function readSupervisionConfig(
  file: string | undefined,
  policies: readonly string[],
): { ok: true; value: SupervisionConfig } | { ok: false; message: string } {
  let config: SupervisionConfig = {};
  if (file !== undefined) {
    const read = readJson((f) => readFileSync(f, 'utf8'), file);
    const parsed = read.ok ? parseSupervisionConfig(read.value) : read;
    if (!parsed.ok) {
      const { issues, detail } = parsed.error;
      return {
        ok: false,
        message: issues ? `--config ${file}:\n  ${issues.join('\n  ')}` : `--config ${file}: ${detail}`,
      };
    }
    config = parsed.value;
  }
  for (const text of policies) {
    const flag = parsePolicyFlag(text);
    if (!flag.ok) return { ok: false, message: `--policy ${flag.error.detail}` };
    const { name, policy } = flag.value;
    config = {
      ...config,
      processors: { ...config.processors, [name]: { ...config.processors?.[name], policy } },
    };
  }
  return { ok: true, value: config };
}
