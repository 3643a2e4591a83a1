// processorsFile: the `--processors FILE` of `daemon` and `twin` — a JSON array of processor objects.

import { readFileSync } from 'node:fs';
import { type ProcessorJson, parseProcessors } from '../actors/kernel/processorSchema.js';
import type { Result, RprocError } from '../machines/errno.js';
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
