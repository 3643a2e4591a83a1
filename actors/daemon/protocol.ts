// The lease protocol: newline-delimited JSON frames, version 1 (docs/protocol.md).

import { z } from 'zod';
import { fail, invalid, type Result, type RprocError } from '../../machines/errno.js';
import { CRASH_TYPES } from '../../machines/rprocTypes.js';
import { formatIssues, processorSchema } from '../kernel/processorSchema.js';

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
  /** Resumes a lease of the daemon's previous incarnation with its acquire's `resume` token (docs/systemd.md). */
  z.strictObject({
    ...base,
    op: z.literal('resume'),
    token: z.string().min(1).max(200),
    client: z.string().min(1).max(200).optional(),
    ttlMs: z.number().int().positive().nullable().optional(),
  }),
  z.strictObject({
    ...base,
    op: z.literal('status'),
    /** Only this processor (`remoteprocN` or its name). */
    processor: z.string().min(1).max(255).optional(),
    /** Paging: the processors after this device, in the daemon's order (a reply's `next`). */
    after: z.string().min(1).max(255).optional(),
    /** Paging: at most this many processors (capped by the daemon's own bound). */
    limit: z.number().int().positive().optional(),
  }),
  z.strictObject({ ...base, op: z.literal('subscribe') }),
  z.strictObject({ ...base, op: z.literal('ping') }),
  z.strictObject({ ...base, op: z.literal('watch'), lease: z.string().min(1) }),
  /** Acknowledges an announced stop (`processor.stopping`) of a processor (`remoteprocN` or its name). */
  z.strictObject({ ...base, op: z.literal('ack'), processor: z.string().min(1).max(255) }),
  z.strictObject({
    ...base,
    op: z.literal('crash'),
    processor: z.string().min(1).max(200),
    reason: z.enum([...CRASH_TYPES, 'unknown']).optional(),
  }),
  /** A mounted twin's socket only (hotplug tests): registers a processor, the fields of a processors file's object. */
  z.strictObject({ ...base, op: z.literal('add-processor'), ...processorSchema.shape }),
  /** A mounted twin's socket only (hotplug tests): unbinds processor `processor` (rproc_del). */
  z.strictObject({ ...base, op: z.literal('remove-processor'), processor: z.string().min(1).max(200) }),
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
  /** `boot`: the acquire was admitted but the processor's boot failed (or timed out); absent for a refusal. */
  during?: 'boot';
}

/**
 * The wire form of errno data: its code, and a message `CODE: detail` (`CODE: fallback` without a
 * detail), e.g. `ENODEV: no processor "dsp"`.
 */
export function wireError(error: Pick<RprocError, 'code' | 'detail'>, fallback: string): WireError {
  return { code: error.code, message: `${error.code}: ${error.detail ?? fallback}` };
}

/** One lease in a `status` reply: `since` in ms since the epoch, `pid` from SO_PEERCRED or null. */
export interface StatusLease {
  client: string;
  pid: number | null;
  since: number;
  lease: string;
  /** false: granted without a kernel reference of the daemon's (shared policy, the kernel refused a second start). */
  reference?: boolean;
}

/** The body of a `status` reply (docs/protocol.md, Requests). */
export interface StatusBody {
  strategy: string;
  processors: Array<{
    name: string;
    device: string;
    state: string;
    crashes: number;
    /** The processor's policy (docs/config.md): shared, exclusive, attach or observe. */
    policy?: string;
    /** Past its crash limit (docs/config.md, `crashLimit`): acquire is refused (EIO). */
    failed?: boolean;
    leases: StatusLease[];
    /** A mounted twin's status only: the processor's power count (`rproc->power`). */
    power?: number;
    /** Leases held but not listed, past the daemon's bound on leases per processor in one reply. */
    leasesOmitted?: number;
  }>;
  /** Present when more processors follow: send `status` again with `after` set to it. */
  next?: string;
  /**
   * A daemon's (1.2): where it hears of processors that come and go, and whether it waits for one (a
   * real driver, no processor yet).
   */
  hotplug?: { source: 'netlink' | 'rescan' | 'none'; waiting: boolean };
}

/** What a successful reply carries besides `id` and `ok`, per op. */
export interface ReplyFields {
  /** `resume`: a token for the `resume` op after a daemon restart, from a daemon with an fd store. */
  acquire: { lease: string; processor: { device: string; name: string }; resume?: string };
  resume: { lease: string; processor: { device: string; name: string }; resume?: string };
  release: Record<never, never>;
  status: { status: StatusBody };
  subscribe: Record<never, never>;
  ping: Record<never, never>;
  watch: { processor: { device: string; name: string } };
  crash: { processor: { device: string; name: string } };
  'add-processor': { processor: { device: string; name: string } };
  'remove-processor': { processor: { device: string; name: string } };
  /** `pending`: an announced stop of the processor waited for this connection's acknowledgement. */
  ack: { pending: boolean };
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
 * `processor-removed` (the processor disappeared, hotplug), `processor-failed` (it passed its crash limit).
 */
export type LeaseLostReason =
  | 'ttl-expired'
  | 'daemon-gone'
  | 'processor-stopped'
  | 'processor-removed'
  | 'processor-failed';

/** Every {@link LeaseLostReason}. */
export const LEASE_LOST_REASONS: readonly LeaseLostReason[] = [
  'ttl-expired',
  'daemon-gone',
  'processor-stopped',
  'processor-removed',
  'processor-failed',
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
  | { event: 'processor.crashed' | 'processor.recovered'; processor: string; name: string }
  /** A subscriber that fell behind is dropped, not buffered: it gets this, and no more events. */
  | { event: 'subscription.dropped'; reason: 'slow-reader' }
  /**
   * A stop is announced (two-phase stop): to a holder with its `lease`, to a subscriber with the
   * processor's `name`; `deadlineMs` (ms since the epoch) is when it goes ahead at the latest.
   */
  | {
      event: 'processor.stopping';
      lease?: string;
      name?: string;
      processor: string;
      reason: 'last-release' | 'shutdown' | 'escalation';
      deadlineMs: number;
    }
  /** The processor passed its crash limit: to a holder with its `lease`, to a subscriber with `name`. */
  | {
      event: 'processor.failed';
      lease?: string;
      name?: string;
      processor: string;
      reason: 'crash-limit';
      action: 'disable-recovery' | 'stop' | 'exit';
    };

/** Every frame a server sends: a reply or a pushed event. */
export type ServerFrame = Reply | PushedEvent;

/** The longest client label, in characters. */
export const MAX_CLIENT_LABEL = 64;

/** A control, format or line/paragraph separator character: not printable text. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * Why `label` is not a client label — printable text of 1 to {@link MAX_CLIENT_LABEL} characters, no
 * control, format (bidi) or separator character — or null when it is one. The daemon refuses such an
 * `acquire` with EINVAL and this message.
 */
export function clientLabelError(label: string): string | null {
  const n = [...label].length;
  if (n === 0 || n > MAX_CLIENT_LABEL)
    return `client: expected 1 to ${MAX_CLIENT_LABEL} characters, got ${n}`;
  if (UNPRINTABLE.test(label))
    return 'client: expected printable text (a control or format character is in it)';
  return null;
}

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
 * seen (without buffering the rest of it). Linear in the bytes pushed, however they are chunked (a
 * peer trickling a frame byte by byte costs no rescans). After {@link LineSplitter.stop} — a refused
 * frame — no further line of this stream is given out, not even the rest of the same chunk.
 */
export class LineSplitter {
  #parts: string[] = [];
  #bytes = 0;
  #stopped = false;
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: () => void,
  ) {}

  /** Bytes of a line begun and not yet ended (0 when the stream is between frames). */
  get partial(): number {
    return this.#bytes;
  }

  /** Gives out no more lines. */
  stop(): void {
    this.#stopped = true;
    this.#parts = [];
    this.#bytes = 0;
  }

  push(chunk: string): void {
    let from = 0;
    while (!this.#stopped) {
      const nl = chunk.indexOf('\n', from);
      if (nl < 0) break;
      const piece = chunk.slice(from, nl);
      from = nl + 1;
      const bytes = this.#bytes + Buffer.byteLength(piece);
      const line = this.#parts.length ? this.#parts.join('') + piece : piece;
      this.#parts = [];
      this.#bytes = 0;
      if (bytes > MAX_FRAME) {
        this.stop();
        this.onTooLong();
        return;
      }
      if (line.trim()) this.onLine(line);
    }
    if (this.#stopped || from >= chunk.length) return;
    const rest = from === 0 ? chunk : chunk.slice(from);
    this.#parts.push(rest);
    this.#bytes += Buffer.byteLength(rest);
    if (this.#bytes > MAX_FRAME) {
      this.stop();
      this.onTooLong();
    }
  }
}
