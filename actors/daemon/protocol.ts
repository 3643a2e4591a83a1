// The lease protocol: newline-delimited JSON frames, version 1 (docs/protocol.md).

import { z } from 'zod';
import { fail, invalid, type Result } from '../../machines/errno.js';
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
  z.strictObject({ ...base, op: z.literal('watch'), lease: z.string().min(1) }),
]);

/** One request. */
export type Request = z.infer<typeof requestSchema>;
/** An op of the protocol. */
export type Op = Request['op'];
/** A request id: a number, or a string of 1 to 200 characters. */
export type RequestId = number | string;

/**
 * A parsed frame, or why it is refused (the connection is then closed): errno data, EPROTO with op
 * `frame`, whose `detail` is the message the error reply carries (`bad JSON: …`, or the schema's
 * `issues` joined with `; `). `id` is the request's, when it could be read.
 */
export type ParsedFrame = Result<Request> & { id?: RequestId };

/** A request as a client sends it, before the `v` the encoder adds. */
export type ClientFrame = Request;

/** The error of a reply: an errno name (`ENODEV`, `EPERM`, `EPROTO`, …) and a message for people. */
export interface WireError {
  code: string;
  message: string;
  /** `boot`: the acquire was granted but the processor's boot failed (its kernel errno is `code`). */
  during?: 'boot';
}

/** One lease in a `status` reply: `since` in ms since the epoch, `pid` from SO_PEERCRED or null. */
export interface StatusLease {
  client: string;
  pid: number | null;
  since: number;
  lease: string;
}

/** The body of a `status` reply (docs/protocol.md, Requests). */
export interface StatusBody {
  strategy: string;
  processors: Array<{
    name: string;
    device: string;
    state: string;
    crashes: number;
    leases: StatusLease[];
  }>;
}

/** What a successful reply carries besides `id` and `ok`, per op. */
export interface ReplyFields {
  acquire: { lease: string; processor: { device: string; name: string } };
  release: Record<never, never>;
  status: { status: StatusBody };
  subscribe: Record<never, never>;
  ping: Record<never, never>;
  watch: { processor: { device: string; name: string } };
}

/** A failed reply. `id` is absent when the request's could not be read, or for a refused peer. */
export interface ErrorReply {
  id?: RequestId;
  ok: false;
  error: WireError;
}

/** The successful reply to `op`. */
export type OkReply<O extends Op = Op> = { [K in O]: { id: RequestId; ok: true } & ReplyFields[K] }[O];

/** The reply to a request of `op`: its {@link OkReply}, or an {@link ErrorReply}. Narrow on `ok`. */
export type Reply<O extends Op = Op> = OkReply<O> | ErrorReply;

/**
 * A `lease.lost` reason: `ttl-expired` (no ping within `ttlMs`), `daemon-gone` (the daemon is shutting
 * down; a client that sees EOF reports it too), `processor-stopped` (someone else stopped the processor),
 * `processor-removed` (the processor disappeared, hotplug).
 */
export type LeaseLostReason = 'ttl-expired' | 'daemon-gone' | 'processor-stopped' | 'processor-removed';

/** Every {@link LeaseLostReason}. */
export const LEASE_LOST_REASONS: readonly LeaseLostReason[] = [
  'ttl-expired',
  'daemon-gone',
  'processor-stopped',
  'processor-removed',
];

/**
 * A `lease.lost` reason as read from the wire, with version 1.0's names mapped to today's (`expired` ->
 * `ttl-expired`, `lost` -> `daemon-gone`); an unknown name is kept as it is.
 */
export function leaseLostReason(wire: string): LeaseLostReason | string {
  return wire === 'expired' ? 'ttl-expired' : wire === 'lost' ? 'daemon-gone' : wire;
}

/**
 * A pushed event (a frame with `event` and no `id`). Holders and watchers of a lease get `processor.crashed`,
 * `processor.recovered` and `lease.lost` with the `lease` (watchers also `lease.ended`); subscribers get `processor.state`,
 * `processor.crashed` and `processor.recovered` with the processor's `name`. `processor` is the device.
 */
export type PushedEvent =
  | { event: 'processor.crashed' | 'processor.recovered'; lease: string; processor: string }
  | { event: 'lease.lost'; lease: string; processor: string; reason: LeaseLostReason }
  /** To watchers only: the lease ended by its holder (`released`, or its connection `closed`). */
  | { event: 'lease.ended'; lease: string; processor: string; end: 'released' | 'closed' }
  | { event: 'processor.state'; processor: string; name: string; state: string }
  | { event: 'processor.crashed' | 'processor.recovered'; processor: string; name: string };

/** Every frame a server sends: a reply or a pushed event. */
export type ServerFrame = Reply | PushedEvent;

/** Parses one line. Errors name the problem: bad JSON, an unknown op, a missing or wrong field. */
export function parseFrame(line: string): ParsedFrame {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return fail('EPROTO', 'frame', `bad JSON: ${(err as Error).message}`);
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
      ...invalid('frame', formatIssues(parsed.error), 'EPROTO'),
      ...(maybeId !== undefined ? { id: maybeId } : {}),
    };
  }
  return { ok: true, value: parsed.data };
}

/** Encodes a frame: one JSON object and a newline, with the protocol version. */
export function frame(body: ServerFrame | ClientFrame): string {
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
