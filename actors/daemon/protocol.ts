// The lease protocol: newline-delimited JSON frames, version 1 (docs/protocol.md).

import { z } from 'zod';
import { formatIssues } from '../kernel/processorSchema.js';

/** Protocol version carried in every frame as `v`. */
export const PROTOCOL_VERSION = 1;
/** The largest frame, newline excluded. A longer one is an error and closes the connection. */
export const MAX_FRAME = 64 * 1024;

const id = z.union([z.number().int(), z.string().min(1).max(200)]);
const base = { v: z.literal(PROTOCOL_VERSION).optional(), id };

/** Requests a client may send. */
export const requestSchema = z.discriminatedUnion('op', [
  z.strictObject({
    ...base,
    op: z.literal('acquire'),
    processor: z.string().min(1),
    client: z.string().min(1).max(200).optional(),
    firmware: z.string().min(1).max(255).optional(),
    ttlMs: z.number().int().positive().nullable().optional(),
  }),
  z.strictObject({ ...base, op: z.literal('release'), lease: z.string().min(1) }),
  z.strictObject({ ...base, op: z.literal('status') }),
  z.strictObject({ ...base, op: z.literal('subscribe') }),
  z.strictObject({ ...base, op: z.literal('ping') }),
]);

/** One request. */
export type Request = z.infer<typeof requestSchema>;

/** A parsed frame, or the reason it is refused (the connection is then closed). */
export type ParsedFrame =
  | { ok: true; request: Request }
  | { ok: false; id?: number | string; message: string };

/** Parses one line. Errors name the problem: bad JSON, an unknown op, a missing or wrong field. */
export function parseFrame(line: string): ParsedFrame {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return { ok: false, message: `bad JSON: ${(err as Error).message}` };
  }
  const maybeId =
    json &&
    typeof json === 'object' &&
    'id' in json &&
    (typeof json.id === 'number' || typeof json.id === 'string')
      ? json.id
      : undefined;
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      ...(maybeId !== undefined ? { id: maybeId } : {}),
      message: formatIssues(parsed.error).join('; '),
    };
  }
  return { ok: true, request: parsed.data };
}

/** Encodes a frame: one JSON object and a newline, with the protocol version. */
export function frame(body: Record<string, unknown>): string {
  return `${JSON.stringify({ v: PROTOCOL_VERSION, ...body })}\n`;
}

/**
 * Splits a byte stream into lines, refusing any line over {@link MAX_FRAME} bytes as soon as it is
 * seen (without buffering the rest of it).
 */
export class LineSplitter {
  #buf = '';
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: () => void,
  ) {}

  push(chunk: string): void {
    this.#buf += chunk;
    for (;;) {
      const nl = this.#buf.indexOf('\n');
      if (nl < 0) break;
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      if (Buffer.byteLength(line) > MAX_FRAME) {
        this.onTooLong();
        return;
      }
      if (line.trim()) this.onLine(line);
    }
    if (Buffer.byteLength(this.#buf) > MAX_FRAME) this.onTooLong();
  }
}
