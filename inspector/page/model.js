// model: what the page shows at one moment, derived from the recorded stream and trace (replay) or from
// live state frames. Pure functions over plain data.

/** The stream/trace items of every run merged on one virtual time axis (step = next item). */
export function mergeRuns(runs) {
  const items = [];
  runs.forEach((run, r) => {
    // Interleave the run's own two lists as they happened (traceBefore[i] trace events precede event i).
    let ti = 0;
    const own = [];
    run.events.forEach((ev, i) => {
      const before = run.traceBefore[i] ?? 0;
      while (ti < before && ti < run.trace.length)
        own.push({ run: r, src: 'trace', t: run.trace[ti].t, ev: run.trace[ti++] });
      own.push({ run: r, src: 'xstate', t: ev.t, ev });
    });
    while (ti < run.trace.length) own.push({ run: r, src: 'trace', t: run.trace[ti].t, ev: run.trace[ti++] });
    own.forEach((it, k) => {
      it.k = k;
      items.push(it);
    });
  });
  // Stable: by time, then run, then the run's own order.
  items.sort((a, b) => a.t - b.t || a.run - b.run || a.k - b.k);
  return items;
}

/** An empty per-run state. */
function emptyRun() {
  return { actors: new Map(), procs: new Map(), pids: new Map(), alive: new Set(), last: null };
}

/**
 * Applies one stream event to `actors` (sessionId → actor: name, machine, parent, since, status,
 * value, context), the table the lease table, the processors and the actor tree read. Returns the actor.
 */
export function applyStreamEvent(actors, ev) {
  if (ev.kind === 'actor') {
    const a = {
      id: ev.actor,
      name: ev.name,
      machine: ev.machine,
      parent: ev.parent ?? null,
      since: ev.t,
      status: 'active',
      value: null,
      context: null,
    };
    actors.set(ev.actor, a);
    return a;
  }
  if (ev.kind !== 'snapshot') return actors.get(ev.actor) ?? null;
  const a = actors.get(ev.actor) ?? {
    id: ev.actor,
    name: ev.actor,
    machine: null,
    parent: null,
    since: ev.t,
  };
  a.status = ev.status;
  a.value = ev.value;
  a.context = ev.context;
  actors.set(ev.actor, a);
  return a;
}

/** True when a run's stream has a monitor (its supervisor or lease machines) at any time. */
export function hasMonitor(events) {
  return events.some((e) => e.kind === 'actor' && (e.machine === 'supervisor' || e.machine === 'lease'));
}

/**
 * The actors as a forest, in creation order: each node `{ id, name, machine, status, value, parent,
 * children }`. An actor whose parent is unknown (its record left the stream) is a root.
 */
export function actorTree(actors) {
  const nodes = new Map();
  for (const a of actors.values()) nodes.set(a.id, { ...a, children: [] });
  const roots = [];
  for (const n of nodes.values()) {
    const up = n.parent ? nodes.get(n.parent) : undefined;
    if (up) up.children.push(n);
    else roots.push(n);
  }
  return roots;
}

/** Applies one merged item to its run's state. */
export function applyItem(state, item) {
  const s = state[item.run];
  s.last = item;
  const ev = item.ev;
  if (item.src === 'trace') {
    if ((ev.type === 'process.start' || ev.type === 'process.fork') && ev.subject) {
      s.alive.add(ev.subject);
      if (ev.data && typeof ev.data.pid === 'number') s.pids.set(ev.subject, ev.data.pid);
    } else if (ev.type === 'process.exit' && ev.subject) s.alive.delete(ev.subject);
    return;
  }
  const a = applyStreamEvent(s.actors, ev);
  if (ev.kind === 'snapshot' && a.machine === 'rproc' && ev.context) s.procs.set(ev.context.name, a);
}

/** The state of every run after items[0..cursor]. */
export function stateAt(runs, items, cursor) {
  const state = runs.map(emptyRun);
  for (let i = 0; i <= cursor && i < items.length; i++) applyItem(state, items[i]);
  return state;
}

/** A state value as dotted paths: `{ recovering: 'stopping' }` → ['recovering', 'recovering.stopping']. */
export function activePaths(value, prefix = '') {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [prefix + value];
  const out = [];
  for (const [k, v] of Object.entries(value)) out.push(prefix + k, ...activePaths(v, `${prefix}${k}.`));
  return out;
}

/** A state value as one short string. */
export function valueText(value) {
  const paths = activePaths(value);
  return paths.length ? paths[paths.length - 1] : '—';
}

/**
 * The page's view of one run at the cursor: processors, leases, the actor tree, who is alive. Whether
 * the run has a lease table is the run's (`run.monitored`: a monitor at any time), not the cursor's;
 * a processor whose machine has not started yet is `chart: 'pending'`, with no state.
 */
export function runView(scenario, run, s) {
  const leases = [];
  for (const a of s.actors.values()) {
    if (a.machine !== 'lease' || !a.context) continue;
    const client = a.context.client;
    const value = valueText(a.value);
    const state = a.status === 'active' ? value : a.status === 'done' ? value : `${a.status} (monitor gone)`;
    leases.push({
      client,
      processor: a.context.processor,
      pid: s.pids.get(`client:${client}`) ?? null,
      state,
      holds: a.status === 'active' && value.startsWith('granted'),
      since: a.since,
    });
  }
  const monitored =
    run.monitored ?? (leases.length > 0 || [...s.actors.values()].some((a) => a.machine === 'supervisor'));
  const monitor = [...s.actors.values()].filter((a) => a.machine === 'supervisor').at(-1);
  const processors = scenario.processors.map((name) => {
    const a = s.procs.get(name);
    const started = Boolean(a?.context);
    return {
      name,
      state: started ? a.context.state : null,
      power: started ? a.context.power : null,
      value: started ? a.value : null,
      step: started ? a.context.step : 'idle',
      chart: started ? 'active' : 'pending',
      holders: monitored ? leases.filter((l) => l.holds && l.processor === name).length : null,
    };
  });
  return {
    key: run.strategy,
    title: run.strategy,
    processors,
    leases,
    monitored,
    // null: not started yet; else its supervisor actor's status (`active`, `stopped` when it died).
    monitor: monitor ? monitor.status : null,
    tree: actorTree(s.actors),
    alive: s.alive,
  };
}

/** The page's view of a live state frame; `actors` is the live actor table (for the tree). */
export function liveView(state, actors = new Map()) {
  const leases = [];
  for (const p of state.processors)
    for (const l of p.leases) leases.push({ ...l, processor: p.name, holds: true });
  return {
    key: 'live',
    title: state.strategy ? `${state.title} · ${state.strategy}` : state.title,
    processors: state.processors.map((p) => ({
      name: p.name,
      device: p.device,
      state: p.state,
      power: p.power,
      value: p.value,
      step: '',
      // No machine in this process: a real kernel, read through sysfs.
      chart: p.value === null ? 'none' : 'active',
      holders: p.leases.length,
    })),
    leases,
    monitored: true,
    monitor: 'active',
    tree: actorTree(actors),
    alive: new Set(),
  };
}

/** One line describing an item, for the log and the "last event" line. */
export function describe(item, runs) {
  const ev = item.ev;
  if (item.src === 'trace') {
    const data = ev.data
      ? Object.entries(ev.data)
          .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
          .join(' ')
      : '';
    return {
      kind: 'trace',
      actor: ev.subject ?? '',
      text: `${ev.type}${ev.subject ? ` ${ev.subject}` : ''}${data ? ` ${data}` : ''}`,
    };
  }
  const actors = runs?.[item.run]?.names;
  const name = actors?.get(ev.actor) ?? ev.actor;
  if (ev.kind === 'actor')
    return { kind: 'actor', actor: name, text: `created ${ev.machine ?? 'actor'} ${name}` };
  if (ev.kind === 'event') {
    const { type, ...rest } = ev.event;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return {
      kind: 'event',
      actor: name,
      text: `${name} ← ${type}${extra.length > 120 ? `${extra.slice(0, 120)}…` : extra}`,
    };
  }
  const ctx =
    ev.context && typeof ev.context.state === 'string'
      ? ` state=${ev.context.state} power=${ev.context.power}`
      : '';
  return {
    kind: 'snapshot',
    actor: name,
    text: `${name} → ${valueText(ev.value)}${ev.status !== 'active' ? ` (${ev.status})` : ''}${ctx}`,
  };
}

/** sessionId → readable name for each run's actors. */
export function actorNames(events) {
  const names = new Map();
  for (const ev of events) if (ev.kind === 'actor') names.set(ev.actor, ev.name);
  return names;
}
