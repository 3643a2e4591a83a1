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
  if (ev.kind === 'actor') {
    s.actors.set(ev.actor, {
      name: ev.name,
      machine: ev.machine,
      since: ev.t,
      status: 'active',
      value: null,
      context: null,
    });
  } else if (ev.kind === 'snapshot') {
    const a = s.actors.get(ev.actor) ?? { name: ev.actor, machine: null, since: ev.t };
    a.status = ev.status;
    a.value = ev.value;
    a.context = ev.context;
    s.actors.set(ev.actor, a);
    if (a.machine === 'rproc' && ev.context) s.procs.set(ev.context.name, a);
  }
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

/** The page's view of one run at the cursor: processors, leases, who is alive. */
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
  const monitored = leases.length > 0 || [...s.actors.values()].some((a) => a.machine === 'supervisor');
  const processors = scenario.processors.map((name) => {
    const a = s.procs.get(name);
    return {
      name,
      state: a?.context?.state ?? 'offline',
      power: a?.context?.power ?? 0,
      value: a?.value ?? null,
      step: a?.context?.step ?? 'idle',
      holders: monitored ? leases.filter((l) => l.holds && l.processor === name).length : null,
    };
  });
  return { key: run.strategy, title: run.strategy, processors, leases, monitored, alive: s.alive };
}

/** The page's view of a live state frame. */
export function liveView(state) {
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
      holders: p.leases.length,
    })),
    leases,
    monitored: true,
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
