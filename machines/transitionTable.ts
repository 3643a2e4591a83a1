// transitionTable: a machine without actions, timers or context updates, compiled into a lookup table.

import {
  type AnyStateMachine,
  type EventFromLogic,
  type InputFrom,
  initialTransition,
  transition,
} from 'xstate';

/** A state of a compiled machine: its state value as JSON (`"requested"`, `{"granted":"held"}`). */
export type TableState = string;

/**
 * The states and transitions of a machine for one input, drawn from the machine by XState's own pure
 * `initialTransition`/`transition`: what an actor of it would do, for the price of a map lookup.
 */
export interface TransitionTable<TEventType extends string = string> {
  readonly initial: TableState;
  /** The state after `eventType` in `state`; `state` itself when the machine ignores the event. */
  next(state: TableState, eventType: TEventType): TableState;
  /** Final states, by their key, with the name of the final state node (`released`, `lost` …). */
  readonly final: ReadonlyMap<TableState, string>;
  /** Every reachable state, initial first. */
  readonly states: readonly TableState[];
}

const keyOf = (value: unknown): TableState => JSON.stringify(value);

/** What the compiler reads of a machine snapshot. */
interface Snap {
  value: unknown;
  status: string;
  context: unknown;
}

/**
 * Compiles `machine`, started with `input`, into a {@link TransitionTable} over the events
 * `eventTypes` (events without payload). Returns `null` when an actor is needed after all: a
 * transition executes an action (a delayed event, an emit, an assign, a spawn), so the table would
 * not do what the actor does. The table is valid for every input on which the machine's guards
 * decide the same way as on `input`; the caller states which inputs those are.
 *
 * @example
 * const table = compileTransitionTable(leaseMachine, { id: '', client: '', processor: '', ttlMs: null },
 *   ['lease.grant', 'lease.heartbeat', 'lease.release', 'lease.lost']);
 * table?.next(table.initial, 'lease.grant'); // '{"granted":"held"}'
 */
export function compileTransitionTable<TMachine extends AnyStateMachine>(
  machine: TMachine,
  input: InputFrom<TMachine>,
  eventTypes: ReadonlyArray<EventFromLogic<TMachine>['type']>,
): TransitionTable<EventFromLogic<TMachine>['type']> | null {
  const [initialSnapshot, firstActions] = initialTransition(machine, input);
  const first = initialSnapshot as Snap;
  if (firstActions.length > 0) return null;
  const edges = new Map<TableState, Map<string, TableState>>();
  const final = new Map<TableState, string>();
  const snapshots = new Map<TableState, Snap>([[keyOf(first.value), first]]);
  const queue: Snap[] = [first];
  for (let snap = queue.shift(); snap; snap = queue.shift()) {
    const from = keyOf(snap.value);
    const out = new Map<string, TableState>();
    edges.set(from, out);
    if (snap.status === 'done') {
      final.set(from, String(snap.value));
      continue;
    }
    for (const type of eventTypes) {
      const [nextSnapshot, actions] = transition(
        machine,
        snap as never,
        { type } as EventFromLogic<TMachine>,
      );
      const next = nextSnapshot as Snap;
      if (actions.length > 0 || next.context !== snap.context) return null;
      const to = keyOf(next.value);
      out.set(type, to);
      if (!snapshots.has(to)) {
        snapshots.set(to, next);
        queue.push(next);
      }
    }
  }
  return {
    initial: keyOf(first.value),
    next: (state, eventType) => edges.get(state)?.get(eventType) ?? state,
    final,
    states: [...snapshots.keys()],
  };
}
