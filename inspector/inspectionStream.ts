// inspectionStream: the inspector's adapter — XState inspection events in, a versioned, bounded stream out.

import type { AnyActorRef, InspectionEvent } from 'xstate';

/** The version of {@link StreamEvent}; bumped on any incompatible change of its fields. */
export const STREAM_VERSION = 1;

/**
 * How many events a stream keeps: beyond it the oldest are dropped (and counted in `dropped`). 20,000
 * events are about 3 MB of JSON; the longest built-in scenario records under 2,000 per strategy.
 */
export const DEFAULT_STREAM_BOUND = 20_000;

/** What every stream event carries. */
interface StreamEventBase {
  /** {@link STREAM_VERSION}. */
  v: typeof STREAM_VERSION;
  /** 1, 2, 3 … in the order the stream saw them; gaps never occur, drops only remove the oldest. */
  seq: number;
  /** Milliseconds: virtual time in a replay, since the stream started in a live system. */
  t: number;
  /** The actor's XState `sessionId` (`x:0`, `x:1` …), unique within one process. */
  actor: string;
}

/** An actor was created (or, with `late`, first seen). Its parent's record always comes before it. */
export interface StreamActorEvent extends StreamEventBase {
  kind: 'actor';
  /** A readable name: the actor's id (`remoteproc0`), or what the `label` option says. */
  name: string;
  /** The machine's id (`rproc`, `lease`, `supervisor`), or null for other logic. */
  machine: string | null;
  /** The parent's `sessionId` (the actor that spawned or invoked it), or null for a root. */
  parent: string | null;
  /** Its XState `systemId`, when it was given one. */
  systemId?: string;
  /**
   * True when the actor was created before the stream was attached (`actor.system.inspect` on a
   * running system): the record comes with its first event or snapshot, and `t` is when it was seen.
   */
  late?: true;
}

/** An event was sent to an actor. */
export interface StreamEventEvent extends StreamEventBase {
  kind: 'event';
  /** The event, reduced to serialisable data (see {@link toData}). */
  event: { type: string; [key: string]: unknown };
  /** The sender's `sessionId`, or null when sent from outside any actor. */
  source: string | null;
}

/** An actor has a new snapshot. A snapshot equal to the same actor's previous one is not repeated. */
export interface StreamSnapshotEvent extends StreamEventBase {
  kind: 'snapshot';
  /** `active`, `done`, `error` or `stopped`. */
  status: string;
  /** The state value (`'idle'`, `{ recovering: 'stopping' }`), or null for non-machine logic. */
  value: unknown;
  /** The context's essentials, as the `context` option reduces them. */
  context: Record<string, unknown> | null;
  /** The type of the event that caused it. */
  cause: string;
}

/** One event of the stream: plain JSON, safe to send, store and replay. */
export type StreamEvent = StreamActorEvent | StreamEventEvent | StreamSnapshotEvent;

/** Options of {@link createInspectionStream}. */
export interface InspectionStreamOptions {
  /** The clock `t` is read from. @default ms since the stream was created (performance.now) */
  now?: () => number;
  /** Events kept; older ones are dropped first. @default {@link DEFAULT_STREAM_BOUND} */
  bound?: number;
  /** Bytes of JSON kept, too: older events are dropped first past it (the newest is always kept). @default no byte bound */
  maxBytes?: number;
  /** A readable name for an actor. @default its `id` */
  label?: (actor: AnyActorRef, machine: string | null) => string;
  /** The part of a machine's context worth showing. @default {@link toData} of the whole context */
  context?: (machine: string | null, context: unknown) => Record<string, unknown> | null;
  /** Also given every raw inspection event (e.g. `@statelyai/inspect`'s WebSocket inspector). @default none */
  forward?: (event: InspectionEvent) => void;
}

/** An actor the stream knows, as {@link InspectionStream.actors} lists it. */
export interface StreamActor {
  /** Its `sessionId`. */
  actor: string;
  name: string;
  machine: string | null;
  parent: string | null;
  systemId?: string;
  /** When its record was made (see {@link StreamActorEvent.late}). */
  t: number;
  /** Its last snapshot's status (`active` until one says otherwise). */
  status: string;
}

/** How many ended actors (done, error, stopped) {@link InspectionStream.actors} keeps, newest first. */
export const ENDED_ACTORS_KEPT = 200;

/** A running stream. */
export interface InspectionStream {
  /** Pass as XState's `inspect` option, or to `actor.system.inspect(…)`. */
  readonly observer: (event: InspectionEvent) => void;
  /** The kept events, oldest first (a copy). */
  events(): StreamEvent[];
  /** Events dropped because the bound was reached. */
  readonly dropped: number;
  /** The bound this stream keeps. */
  readonly bound: number;
  /** Calls `listener` with every new event; returns an unsubscribe. */
  subscribe(listener: (event: StreamEvent) => void): () => void;
  /**
   * The actors the stream knows, in the order their records were made: every active one, and the
   * newest {@link ENDED_ACTORS_KEPT} ended ones. What a page joining late needs for the actor tree
   * when the records themselves have left the ring.
   */
  actors(): StreamActor[];
  /**
   * Records `ref`, an actor created before the stream was attached, and its current snapshot (with
   * `cause` ''), unless the stream knows it already: a quiet actor is then shown before it acts.
   */
  seen(ref: AnyActorRef): void;
}

const MAX_DEPTH = 4;
const MAX_ITEMS = 32;
const MAX_STRING = 500;

/**
 * `value` as plain JSON data: depth at most 4, arrays and objects cut to 32 entries, strings to 500
 * characters, actor refs as `{ actor: sessionId }`, functions and symbols left out. Never throws.
 */
export function toData(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if ('sessionId' in value && typeof value.sessionId === 'string' && 'send' in value)
    return { actor: value.sessionId };
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((x) => toData(x, depth + 1) ?? null);
  if (value instanceof Error) return { error: value.message };
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, v] of Object.entries(value)) {
    if (n++ >= MAX_ITEMS) break;
    const d = toData(v, depth + 1);
    if (d !== undefined) out[k] = d;
  }
  return out;
}

const machineId = (ref: AnyActorRef): string | null => {
  const logic = (ref as { logic?: { id?: unknown; config?: unknown } }).logic;
  return logic && typeof logic.id === 'string' && logic.config ? logic.id : null;
};

/** The actor that spawned or invoked `ref` (XState keeps it as `_parent`), if any. */
const parentOf = (ref: AnyActorRef): AnyActorRef | undefined => (ref as { _parent?: AnyActorRef })._parent;

/** `ref`'s `systemId`: given as an option, set on the ref only after its `@xstate.actor` event. */
const systemIdOf = (ref: AnyActorRef): string | undefined => {
  const r = ref as { options?: { systemId?: unknown }; systemId?: unknown };
  const id = r.options?.systemId ?? r.systemId;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Turns XState inspection events into {@link StreamEvent}s in a ring buffer of `bound` events.
 * `@xstate.actor`, `@xstate.event` and `@xstate.snapshot` are kept (the three `@statelyai/inspect`
 * forwards); `@xstate.microstep` and `@xstate.action` are left out. The observer never throws: an
 * event it cannot read is skipped.
 *
 * @example
 * const stream = createInspectionStream({ now: () => clock.now() });
 * const actor = createActor(rprocMachine, { input, clock, inspect: stream.observer }).start();
 * stream.events(); // [{ v: 1, seq: 1, t: 0, kind: 'actor', actor: 'x:0', name: …, machine: 'rproc', … }, …]
 */
export function createInspectionStream(options: InspectionStreamOptions = {}): InspectionStream {
  const start = performance.now();
  const now = options.now ?? (() => Math.round(performance.now() - start));
  const bound = Math.max(1, Math.floor(options.bound ?? DEFAULT_STREAM_BOUND));
  const label = options.label ?? ((ref: AnyActorRef) => ref.id);
  const reduce = options.context ?? ((_m: string | null, c: unknown) => toData(c) as Record<string, unknown>);
  const ring: StreamEvent[] = new Array(bound);
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const bytesOf: number[] = Number.isFinite(maxBytes) ? new Array(bound) : [];
  let bytes = 0;
  let head = 0;
  let size = 0;
  let seq = 0;
  let dropped = 0;
  const listeners = new Set<(e: StreamEvent) => void>();
  // Per actor: its record and its last snapshot (to drop repeats). An ended actor leaves `last` and
  // waits in `ended` (oldest first) until ENDED_ACTORS_KEPT newer ones have ended: bounded in a
  // daemon whose leases come and go.
  const last = new Map<string, string>();
  const known = new Map<string, StreamActor>();
  const ended = new Set<string>();

  const push = (
    e:
      | Omit<StreamActorEvent, keyof StreamEventBase>
      | Omit<StreamEventEvent, keyof StreamEventBase>
      | Omit<StreamSnapshotEvent, keyof StreamEventBase>,
    actor: string,
  ) => {
    const event = { v: STREAM_VERSION, seq: ++seq, t: now(), actor, ...e } as StreamEvent;
    const b = bytesOf.length ? JSON.stringify(event).length : 0;
    // Room for it, in events and in bytes: the oldest go first.
    while (size > 0 && (size === bound || bytes + b > maxBytes)) {
      bytes -= bytesOf[head] ?? 0;
      ring[head] = undefined as unknown as StreamEvent; // let it go now, not when its slot is reused
      head = (head + 1) % bound;
      size--;
      dropped++;
    }
    ring[(head + size) % bound] = event;
    if (bytesOf.length) bytesOf[(head + size) % bound] = b;
    bytes += b;
    size++;
    for (const l of listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure is its own; the stream goes on.
      }
    }
  };

  /** Makes `ref`'s record (its parent's first) unless it exists; `late` when not from its creation. */
  const record = (ref: AnyActorRef, late: boolean) => {
    const id = ref.sessionId;
    if (known.has(id)) return;
    const up = parentOf(ref);
    if (up) record(up, true);
    const machine = machineId(ref);
    const systemId = systemIdOf(ref);
    const e = {
      kind: 'actor' as const,
      name: label(ref, machine),
      machine,
      parent: up?.sessionId ?? null,
      ...(systemId ? { systemId } : {}),
      ...(late ? { late: true as const } : {}),
    };
    push(e, id);
    const { kind: _k, late: _l, ...rest } = e;
    known.set(id, { actor: id, ...rest, t: now(), status: 'active' });
  };
  const end = (id: string) => {
    last.delete(id);
    ended.add(id);
    for (const old of ended) {
      if (ended.size <= ENDED_ACTORS_KEPT) break;
      ended.delete(old);
      known.delete(old);
    }
  };

  const observe = (ev: InspectionEvent) => {
    const ref = ev.actorRef as AnyActorRef;
    const id = ref.sessionId;
    if (ev.type === '@xstate.actor') {
      record(ref, false);
      return;
    }
    // Events and snapshots of an actor created before the stream was attached bring its record first
    // (an ended actor's was made; events still sent to it are kept).
    const over = ended.has(id);
    if (!over) record(ref, true);
    if (ev.type === '@xstate.event') {
      const from = ev.sourceRef as AnyActorRef | undefined;
      if (from && !ended.has(from.sessionId)) record(from, true);
      push(
        {
          kind: 'event',
          event: toData(ev.event) as StreamEventEvent['event'],
          source: ev.sourceRef?.sessionId ?? null,
        },
        id,
      );
    } else if (ev.type === '@xstate.snapshot') {
      const s = ev.snapshot as { status?: string; value?: unknown; context?: unknown };
      const actor = known.get(id);
      const machine = actor?.machine ?? machineId(ref);
      const reduced = {
        status: String(s.status ?? 'active'),
        value: 'value' in s ? (toData(s.value) ?? null) : null,
        context: s.context === undefined ? null : reduce(machine, s.context),
      };
      const key = JSON.stringify(reduced);
      if (last.get(id) === key) return;
      last.set(id, key);
      push({ kind: 'snapshot', ...reduced, cause: String(ev.event?.type ?? '') }, id);
      if (actor) actor.status = reduced.status;
      if (reduced.status !== 'active' && !over) end(id);
    }
  };

  return {
    observer(ev) {
      try {
        options.forward?.(ev);
      } catch {
        // Forwarding is best effort.
      }
      try {
        observe(ev);
      } catch {
        // An unreadable event is skipped; inspection must never break the system it watches.
      }
    },
    events() {
      const out: StreamEvent[] = [];
      for (let i = 0; i < size; i++) out.push(ring[(head + i) % bound] as StreamEvent);
      return out;
    },
    get dropped() {
      return dropped;
    },
    bound,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    actors: () => [...known.values()].map((a) => ({ ...a })),
    seen(ref) {
      try {
        if (known.has(ref.sessionId) || ended.has(ref.sessionId)) return;
        observe({
          type: '@xstate.snapshot',
          actorRef: ref,
          rootId: ref.sessionId,
          snapshot: ref.getSnapshot(),
          event: { type: '' },
        } as InspectionEvent);
      } catch {
        // As the observer: never break the system it watches.
      }
    },
  };
}
