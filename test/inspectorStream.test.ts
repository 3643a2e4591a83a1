// The inspector's adapter: XState inspection events in, a versioned, bounded, serialisable stream out.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createActor, createMachine, type InspectionEvent, setup, spawnChild, stopChild } from 'xstate';
import { VirtualClock } from '../actors/VirtualClock.js';
import {
  createInspectionStream,
  DEFAULT_STREAM_BOUND,
  ENDED_ACTORS_KEPT,
  STREAM_VERSION,
  type StreamEvent,
  toData,
} from '../inspector/inspectionStream.js';
import { actorLabel, essentials, recordReplay } from '../inspector/recordReplay.js';
import { layoutStatechart, readStatechart } from '../inspector/statechart.js';
import { leaseMachine } from '../machines/leaseMachine.js';
import { rprocMachine } from '../machines/rprocMachine.js';
import { RPROC_DEFAULTS } from '../machines/rprocTypes.js';
import { runScenario } from '../scenarios/runScenario.js';
import { parseScenario } from '../scenarios/scenarioSchema.js';

const options = { ...RPROC_DEFAULTS, name: 'm4' };
const reduce = (events: StreamEvent[]) =>
  events.map((e) =>
    e.kind === 'actor'
      ? `${e.seq} ${e.t} actor ${e.name} (${e.machine})`
      : e.kind === 'event'
        ? `${e.seq} ${e.t} event ${e.event.type}`
        : `${e.seq} ${e.t} snapshot ${JSON.stringify(e.value)} ${e.status} power=${String(e.context?.power)}`,
  );

describe('createInspectionStream', () => {
  it('should turn an rproc actor boot into versioned actor, event and snapshot records in virtual time', () => {
    const clock = new VirtualClock();
    const stream = createInspectionStream({ now: () => clock.now(), context: essentials, label: actorLabel });
    const actor = createActor(rprocMachine, {
      input: { profile: '5.19', options },
      clock,
      id: 'remoteproc0',
      inspect: stream.observer,
    }).start();
    actor.send({ type: 'rproc.call', call: { id: 1, op: 'boot' } });
    clock.advanceBy(100);
    actor.stop();
    const events = stream.events();
    expect(events.every((e) => e.v === STREAM_VERSION)).toBe(true);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(reduce(events)).toMatchInlineSnapshot(`
      [
        "1 0 actor remoteproc0 (rproc)",
        "2 0 event xstate.init",
        "3 0 snapshot "idle" active power=0",
        "4 0 event rproc.call",
        "5 0 snapshot "booting" active power=1",
        "6 100 event xstate.after.boot.rproc.booting",
        "7 100 snapshot "idle" active power=1",
        "8 100 snapshot "idle" stopped power=1",
      ]
    `);
    // Plain JSON: what goes over the socket comes back equal.
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
  });

  it('should keep only the newest `bound` events and count the dropped ones', () => {
    const clock = new VirtualClock();
    const stream = createInspectionStream({ now: () => clock.now(), bound: 5 });
    const lease = createActor(leaseMachine, {
      input: { id: 'l1', client: 'audio', processor: 'm4', ttlMs: 1000 },
      clock,
      inspect: stream.observer,
    }).start();
    lease.send({ type: 'lease.grant' });
    for (let i = 0; i < 10; i++) lease.send({ type: 'lease.heartbeat' });
    const events = stream.events();
    expect(events).toHaveLength(5);
    expect(stream.bound).toBe(5);
    const total = (events.at(-1) as StreamEvent).seq;
    expect(stream.dropped).toBe(total - 5);
    expect(events.map((e) => e.seq)).toEqual([total - 4, total - 3, total - 2, total - 1, total]);
  });

  it('should not repeat a snapshot equal to the previous one of the same actor', () => {
    const stream = createInspectionStream();
    const lease = createActor(leaseMachine, {
      input: { id: 'l1', client: 'audio', processor: 'm4', ttlMs: null },
      inspect: stream.observer,
    }).start();
    lease.send({ type: 'lease.grant' });
    lease.send({ type: 'lease.heartbeat' }); // no TTL: nothing changes
    const kinds = stream.events().map((e) => e.kind);
    expect(kinds.filter((k) => k === 'event')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'snapshot')).toHaveLength(2);
  });

  it('should survive unreadable events and failing listeners and forwarders', () => {
    const forwarded: string[] = [];
    const stream = createInspectionStream({
      forward: (e) => {
        forwarded.push(e.type);
        throw new Error('forwarder down');
      },
    });
    stream.subscribe(() => {
      throw new Error('listener down');
    });
    expect(() => stream.observer({ type: '@xstate.snapshot' } as unknown as InspectionEvent)).not.toThrow();
    createActor(leaseMachine, {
      input: { id: 'l1', client: 'a', processor: 'm4', ttlMs: null },
      inspect: stream.observer,
    }).start();
    expect(stream.events().length).toBeGreaterThan(0);
    expect(forwarded[0]).toBe('@xstate.snapshot');
  });

  it('should reduce values to bounded JSON data', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const data = toData({
      cyclic,
      big: 'x'.repeat(1000),
      fn: () => 1,
      n: Number.NaN,
      list: new Array(100).fill(0),
    });
    expect(() => JSON.stringify(data)).not.toThrow();
    const d = data as { big: string; fn?: unknown; n: string; list: number[] };
    expect(d.big.length).toBeLessThan(600);
    expect('fn' in d).toBe(false);
    expect(d.n).toBe('NaN');
    expect(d.list).toHaveLength(32);
  });
});

/** A parent that spawns a `child` lease-like machine per `add` (XState's spawnChild), and stops it on `drop`. */
const child = createMachine({
  id: 'child',
  initial: 'on',
  states: { on: { on: { end: 'off' } }, off: { type: 'final' } },
});
const parentMachine = setup({ actors: { child } }).createMachine({
  id: 'parent',
  on: {
    add: {
      actions: spawnChild('child', {
        id: ({ event }) => (event as { id?: string }).id ?? 'c',
        systemId: 'kid',
      }),
    },
    drop: { actions: stopChild('a') },
  },
});

describe('the actor tree in the stream', () => {
  it('should carry each actor’s parent: a spawned child names its parent’s sessionId', () => {
    const stream = createInspectionStream();
    const root = createActor(parentMachine, { id: 'root', inspect: stream.observer }).start();
    root.send({ type: 'add', id: 'a' });
    const a = root.getSnapshot().children.a;
    const records = stream.events().filter((e) => e.kind === 'actor');
    expect(records.map((e) => [e.name, e.machine, e.parent])).toEqual([
      ['root', 'parent', null],
      ['a', 'child', root.sessionId],
    ]);
    expect(records[1]).toMatchObject({ actor: a?.sessionId, systemId: 'kid' });
    expect(records.some((e) => 'late' in e)).toBe(false);
    // The table a late page reads: both, with the child's end once its parent stops it.
    root.send({ type: 'drop' });
    expect(stream.actors().map((x) => [x.name, x.parent, x.status])).toEqual([
      ['root', null, 'active'],
      ['a', root.sessionId, 'stopped'],
    ]);
  });

  it('should give actors created before the stream was attached a late record, parents first', () => {
    const root = createActor(parentMachine, { id: 'root' }).start();
    root.send({ type: 'add', id: 'a' });
    const stream = createInspectionStream();
    root.system.inspect(stream.observer);
    root.getSnapshot().children.a?.send({ type: 'end' });
    const events = stream.events();
    const records = events.filter((e) => e.kind === 'actor');
    expect(records.map((e) => [e.name, e.parent, e.late])).toEqual([
      ['root', null, true],
      ['a', root.sessionId, true],
    ]);
    // Each record comes before the first event or snapshot of its actor.
    const first = (id: string) => events.findIndex((e) => e.actor === id);
    for (const r of records) expect(first(r.actor)).toBe(events.indexOf(r));
    expect(stream.actors().find((x) => x.name === 'a')?.status).toBe('done');
  });

  it('should record a quiet actor created before it when told (seen), with its snapshot, once', () => {
    const root = createActor(parentMachine, { id: 'root' }).start();
    const stream = createInspectionStream();
    root.system.inspect(stream.observer);
    stream.seen(root);
    stream.seen(root);
    expect(
      stream
        .events()
        .map((e) => [e.kind, e.actor, e.kind === 'actor' ? e.late : e.kind === 'snapshot' ? e.status : null]),
    ).toEqual([
      ['actor', root.sessionId, true],
      ['snapshot', root.sessionId, 'active'],
    ]);
    root.send({ type: 'add', id: 'a' });
    expect(stream.actors().map((x) => x.name)).toEqual(['root', 'a']);
  });

  it('should keep every active actor and only the newest ended ones', () => {
    const stream = createInspectionStream({ bound: 50 });
    const root = createActor(parentMachine, { id: 'root', inspect: stream.observer }).start();
    const n = ENDED_ACTORS_KEPT + 30;
    for (let i = 0; i < n; i++) {
      root.send({ type: 'add', id: `k${i}` });
      if (i < n - 1) root.getSnapshot().children[`k${i}`]?.send({ type: 'end' });
    }
    const actors = stream.actors();
    expect(actors.filter((x) => x.status === 'active').map((x) => x.name)).toEqual(['root', `k${n - 1}`]);
    expect(actors.filter((x) => x.status === 'done')).toHaveLength(ENDED_ACTORS_KEPT);
    expect(actors[1]?.name).toBe(`k${n - 1 - ENDED_ACTORS_KEPT}`);
    expect(actors.every((x) => x.name === 'root' || x.parent === root.sessionId)).toBe(true);
  });
});

describe('recordReplay', () => {
  const file = 'scenarios/builtin/monitor-crash-no-restart.json';
  const parsed = parseScenario(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.ok) throw new Error(parsed.error.detail);
  const scenario = parsed.value;

  it('should record the same metrics as compare, with the monitor and lease actors in the stream', async () => {
    const chart = await layoutStatechart(rprocMachine);
    const data = recordReplay(scenario, ['sysfs-monitor', 'hybrid'], chart);
    for (const run of data.runs) {
      expect(run.metrics).toEqual(runScenario(scenario, { strategy: run.strategy }).metrics);
      expect(run.dropped).toBe(0);
      expect(run.traceBefore).toHaveLength(run.events.length);
      const names = run.events.flatMap((e) => (e.kind === 'actor' ? [e.name] : []));
      expect(names).toEqual(['remoteproc0', 'supervisor', 'm4', 'lease:audio']);
    }
    // hybrid's monitor held the cdev with shutdown-on-release: its death is a kernel release that stops m4.
    const hybrid = data.runs[1];
    expect(hybrid?.trace.find((e) => e.type === 'kernel.release')).toMatchObject({
      t: 3000,
      subject: 'm4',
      data: { stops: true },
    });
    // That stop is hybrid's documented fail-safe: the run says which metrics it explains, and when.
    expect(hybrid?.costs.map((c) => [c.id, c.metrics, c.at])).toEqual([
      ['hybrid.fail-safe-stop', ['wrongfulStops', 'unavailableMs'], [{ t: 3000, processor: 'm4' }]],
    ]);
    expect(data.runs[0]?.costs).toEqual([]);
  });
});

describe('the documented bound', () => {
  it('should hold every built-in scenario run with room to spare (under 2,000 events each)', async () => {
    const chart = await layoutStatechart(rprocMachine);
    for (const f of readdirSync('scenarios/builtin').filter((x) => x.endsWith('.json'))) {
      const p = parseScenario(JSON.parse(readFileSync(join('scenarios/builtin', f), 'utf8')));
      if (!p.ok) throw new Error(f);
      for (const run of recordReplay(p.value, p.value.strategies, chart).runs) {
        expect(run.dropped, `${f} ${run.strategy}`).toBe(0);
        expect(run.events.length, `${f} ${run.strategy}`).toBeLessThan(2000);
      }
    }
    expect(DEFAULT_STREAM_BOUND).toBeGreaterThanOrEqual(10 * 2000);
  });
});

describe('the statechart', () => {
  it('should be read from machines/rproc itself: every state node and its transitions', async () => {
    const { nodes, edges } = readStatechart(rprocMachine);
    const ids = (node: { states: Record<string, unknown> }, prefix: string): string[] =>
      Object.entries(node.states).flatMap(([k, v]) => [
        `${prefix}.${k}`,
        ...ids(v as { states: Record<string, unknown> }, `${prefix}.${k}`),
      ]);
    expect(nodes.map((n) => n.id).sort()).toEqual(['rproc', ...ids(rprocMachine.root, 'rproc')].sort());
    expect(edges).toContainEqual({
      source: 'rproc.recovering.dumping',
      target: 'rproc.recovering.loading',
      labels: ['rproc.coredump.free', 'after devcd', '[dumpDone]'],
    });
    expect(nodes[0]?.internal).toEqual(['rproc.call', 'rproc.set', 'rproc.suspend', 'rproc.resume']);
    const chart = await layoutStatechart(rprocMachine);
    for (const n of chart.nodes) expect(n.width).toBeGreaterThan(0);
    for (const e of chart.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
  });
});
