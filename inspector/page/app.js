// app: the inspector page — connects to its own server's WebSocket, replays a recorded run over virtual
// time (play / pause / step / speed), or follows a live system. No request leaves this origin.

import { esc, STATE_COLORS, timelineSvg } from './draw.js';
import {
  actorNames,
  applyItem,
  applyStreamEvent,
  describe,
  hasMonitor,
  liveView,
  mergeRuns,
  runView,
  stateAt,
} from './model.js';
import { columnsHtml, metricsHtml } from './panels.js';

const $ = (id) => document.getElementById(id);
const LOG_ROWS = 400;

const page = {
  mode: null,
  data: null,
  items: [],
  runs: [],
  cursor: -1,
  time: 0,
  playing: false,
  speed: 1,
  state: null,
  chart: null,
  live: null,
  liveHistory: [],
  liveEvents: [],
  liveActors: new Map(),
  origin: 0,
};
/** Ended actors the live tree keeps (the newest), so that lease churn does not grow the page. */
const LIVE_ENDED_SHOWN = 20;

function setConn(text, cls) {
  const el = $('conn');
  el.textContent = text;
  el.className = `conn ${cls}`;
}

function connect() {
  // The socket is beside the page, under the same token path (`/<token>/ws`).
  const ws = new WebSocket(`ws://${location.host}${location.pathname.replace(/[^/]*$/, '')}ws`);
  ws.addEventListener('open', () => setConn('connected', 'ok'));
  ws.addEventListener('close', () => {
    setConn('disconnected — retrying', 'bad');
    setTimeout(connect, 1000);
  });
  ws.addEventListener('message', (m) => {
    let msg;
    try {
      msg = JSON.parse(m.data);
    } catch {
      return;
    }
    if (msg.type === 'replay') startReplay(msg.data);
    else if (msg.type === 'live.init') startLive(msg);
    else if (msg.type === 'live.state') onLiveState(msg);
    else if (msg.type === 'live.events') onLiveEvents(msg);
  });
}

// ---- replay ---------------------------------------------------------------------------------------

function startReplay(data) {
  if (page.mode === 'replay') return; // a reconnect: the recording has not changed
  page.mode = 'replay';
  page.data = data;
  page.chart = data.statechart;
  page.runs = data.runs.map((r) => ({
    ...r,
    title: r.strategy,
    names: actorNames(r.events),
    monitored: hasMonitor(r.events),
  }));
  page.items = mergeRuns(data.runs);
  $('title').textContent = data.scenario.name;
  $('subtitle').textContent =
    `kernel ${data.scenario.kernel} · ${data.scenario.horizonMs} ms · ${data.runs.map((r) => r.strategy).join(', ')}`;
  document.title = `${data.scenario.name} · rproc-supervisor inspector`;
  $('controls').hidden = false;
  $('total').textContent = String(page.items.length);
  $('seek').max = String(data.scenario.horizonMs);
  for (const r of data.runs)
    $('f-run').insertAdjacentHTML(
      'beforeend',
      `<option value="${esc(r.strategy)}">${esc(r.strategy)}</option>`,
    );
  renderMetrics();
  seekCursor(-1, 0);
}

/** Moves to `cursor` (items applied up to it) at virtual `time`. */
function seekCursor(cursor, time) {
  const target = Math.max(-1, Math.min(cursor, page.items.length - 1));
  if (!page.state || target < page.cursor) {
    page.state = stateAt(page.runs, page.items, target);
  } else {
    for (let i = page.cursor + 1; i <= target; i++) applyItem(page.state, page.items[i]);
  }
  page.cursor = target;
  page.time = Math.max(0, Math.min(time, page.data.scenario.horizonMs));
  renderReplay();
}

/** The last item index at or before time `t`. */
function cursorAt(t) {
  let lo = 0;
  let hi = page.items.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (page.items[mid].t <= t) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

function step() {
  pause();
  const next = page.items[page.cursor + 1];
  if (next) seekCursor(page.cursor + 1, next.t);
}

function seekTime(t) {
  seekCursor(cursorAt(t), t);
}

/** Stops just before the first item at time `t` (so that `step` shows it). */
function seekBefore(t) {
  pause();
  const i = page.items.findIndex((it) => it.t >= t);
  seekCursor(i < 0 ? page.items.length - 1 : i - 1, t);
}

let lastFrame = 0;
function frame(now) {
  if (!page.playing) return;
  const dt = lastFrame ? now - lastFrame : 0;
  lastFrame = now;
  const horizon = page.data.scenario.horizonMs;
  const t = Math.min(horizon, page.time + dt * page.speed);
  const c = cursorAt(t);
  if (c !== page.cursor || Math.floor(t / 10) !== Math.floor(page.time / 10)) seekCursor(c, t);
  else page.time = t;
  if (t >= horizon) pause();
  else requestAnimationFrame(frame);
}

function play() {
  if (page.time >= page.data.scenario.horizonMs) seekCursor(-1, 0);
  page.playing = true;
  lastFrame = 0;
  $('play').textContent = '❚❚ pause';
  $('play').dataset.playing = 'true';
  requestAnimationFrame(frame);
}

function pause() {
  page.playing = false;
  $('play').textContent = '▶ play';
  $('play').dataset.playing = 'false';
}

function renderReplay() {
  const views = page.runs.map((run, r) => runView(page.data.scenario, run, page.state[r]));
  renderColumns(views, (l) => `${l.since} ms`);
  $('time').textContent = String(Math.round(page.time));
  $('cursor').textContent = String(page.cursor + 1);
  $('seek').value = String(Math.round(page.time));
  const last = page.items[page.cursor];
  $('last').textContent = last
    ? `${last.t} ms · ${page.runs[last.run].strategy} · ${describe(last, page.runs).text}`
    : 'start: nothing has happened yet';
  renderTimeline(
    page.runs,
    page.data.scenario.horizonMs,
    page.data.scenario.processors,
    page.data.scenario.clients,
    page.time,
    'virtual time',
  );
  renderLog(page.items.slice(0, page.cursor + 1));
}

function renderMetrics() {
  $('metrics').innerHTML = metricsHtml(page.data.runs);
  const sizes = page.data.runs.map(
    (r) =>
      `${r.strategy}: ${r.events.length} events${r.dropped ? `, ${r.dropped} dropped` : ''}, recorded in ${r.recordMs} ms`,
  );
  $('stream-info').textContent = `Inspection stream v${page.data.v} · ${sizes.join(' · ')}`;
}

// ---- live -----------------------------------------------------------------------------------------

function startLive(msg) {
  page.mode = 'live';
  page.chart = msg.statechart;
  page.origin = msg.origin;
  page.liveHistory = msg.history.slice();
  page.liveEvents = msg.events.slice(-LOG_ROWS);
  page.liveActors = new Map();
  for (const a of msg.actors ?? [])
    page.liveActors.set(a.actor, { ...a, id: a.actor, since: a.t, value: null, context: null });
  for (const ev of msg.events) applyStreamEvent(page.liveActors, ev);
  page.live = msg.history.at(-1)?.state ?? null;
  $('live-bar').hidden = false;
  $('metrics-panel').querySelector('h2').innerHTML = 'Stream';
  $('metrics').innerHTML =
    '<p class="none">A live system has no run metrics; use <code>compare</code> for those.</p>';
  $('stream-info').textContent =
    `Inspection stream v${msg.v}${msg.bound ? ` · bound ${msg.bound}` : ' · none (driver outside this process)'} · ${msg.dropped} dropped`;
  renderLive();
  setInterval(() => page.mode === 'live' && renderLiveTimeline(), 1000);
}

function onLiveState(msg) {
  page.liveHistory.push({ t: msg.t, state: msg.state });
  if (page.liveHistory.length > 2000) page.liveHistory.shift();
  page.live = msg.state;
  liveSoon();
}

/** One render per frame however many messages arrive in it (a state frame and its events come apart). */
let liveFrame = 0;
function liveSoon() {
  liveFrame ||= requestAnimationFrame(() => {
    liveFrame = 0;
    renderLive();
  });
}

function onLiveEvents(msg) {
  page.liveEvents.push(...msg.events);
  if (page.liveEvents.length > LOG_ROWS) page.liveEvents.splice(0, page.liveEvents.length - LOG_ROWS);
  for (const ev of msg.events) applyStreamEvent(page.liveActors, ev);
  const ended = [...page.liveActors.values()].filter((a) => a.status !== 'active');
  for (const a of ended.slice(0, Math.max(0, ended.length - LIVE_ENDED_SHOWN))) page.liveActors.delete(a.id);
  if (msg.events.some((e) => e.kind !== 'event')) liveSoon();
  else if (!liveFrame) renderLiveLog();
}

function renderLive() {
  if (!page.live) return;
  $('title').textContent = page.live.title;
  $('subtitle').textContent = page.live.strategy ? `strategy ${page.live.strategy}` : '';
  renderColumns([liveView(page.live, page.liveActors)], (l) => new Date(l.since).toLocaleTimeString());
  $('live-updated').textContent = new Date().toLocaleTimeString();
  renderLiveTimeline();
  renderLiveLog();
}

/** Live history as a trace (processor bands, holder lifelines) over the last minute of real time. */
function renderLiveTimeline() {
  if (!page.live) return;
  const now = Date.now() - page.origin;
  const trace = [];
  const holders = new Map();
  for (const h of page.liveHistory) {
    const seen = new Set();
    for (const p of h.state.processors) {
      trace.push({
        t: h.t,
        type: 'rproc.state',
        subject: p.name,
        data: { state: p.state, step: '', power: p.power },
      });
      for (const l of p.leases) {
        const key = `${l.client}#${l.pid}`;
        seen.add(key);
        if (!holders.has(key)) {
          holders.set(key, true);
          trace.push({ t: h.t, type: 'process.start', subject: key, data: { pid: l.pid } });
        }
      }
    }
    for (const key of [...holders.keys()])
      if (!seen.has(key)) {
        holders.delete(key);
        trace.push({
          t: h.t,
          type: 'process.exit',
          subject: key,
          data: { pid: Number(key.split('#')[1]) || null },
        });
      }
  }
  const horizon = Math.max(10000, now);
  renderTimeline(
    [{ title: 'live', trace }],
    horizon,
    page.live.processors.map((p) => p.name),
    [],
    now,
    'since the inspector started',
  );
}

function renderLiveLog() {
  const names = actorNames(page.liveEvents);
  for (const a of page.liveActors.values()) if (!names.has(a.id)) names.set(a.id, a.name);
  const run = { names };
  renderLog(
    page.liveEvents.map((ev) => ({ run: 0, src: 'xstate', t: ev.t, ev })),
    [run],
  );
}

// ---- shared rendering -----------------------------------------------------------------------------

function renderColumns(views, sinceText) {
  $('columns').innerHTML = columnsHtml(views, sinceText, page.chart);
}

let toTime = () => 0;
function renderTimeline(runs, horizon, processors, clients, now, axisLabel) {
  const width = Math.max(760, $('timeline').clientWidth || 1000);
  const out = timelineSvg({ runs, horizon, processors, clients, now, width, axisLabel });
  $('timeline').innerHTML = out.svg;
  toTime = out.toTime;
}

function renderLog(items, runs = page.runs) {
  const run = $('f-run').value;
  const kinds = new Set(['trace', 'event', 'snapshot', 'actor'].filter((k) => $(`f-${k}`).checked));
  const text = $('f-text').value.trim().toLowerCase();
  const rows = [];
  for (let i = items.length - 1; i >= 0 && rows.length < LOG_ROWS; i--) {
    const it = items[i];
    const strategy = page.mode === 'replay' ? page.runs[it.run].strategy : 'live';
    if (run && strategy !== run) continue;
    const d = describe(it, runs);
    if (!kinds.has(d.kind)) continue;
    if (text && !`${strategy} ${d.text}`.toLowerCase().includes(text)) continue;
    rows.push(
      `<li class="k-${d.kind}"><span class="t">${it.t}</span><span>${esc(strategy)}</span><span>${d.kind}</span><span>${esc(d.text)}</span></li>`,
    );
  }
  $('log').innerHTML = rows.join('') || '<li class="none">no events match</li>';
}

function legend() {
  $('legend').innerHTML = [
    ...Object.keys(STATE_COLORS).map((s) => `<span><i class="s-${s}"></i>${s}</span>`),
    '<span><i class="l-wants"></i>client wants</span>',
    '<span><i class="l-monitor"></i>monitor alive</span>',
    '<span>◆ kernel release</span>',
    '<span class="c-kill">▼ kill</span>',
    '<span class="c-crash">▼ crash</span>',
  ].join('');
}

// ---- wiring ---------------------------------------------------------------------------------------

$('play').addEventListener('click', () => (page.playing ? pause() : play()));
$('step').addEventListener('click', step);
$('reset').addEventListener('click', () => {
  pause();
  seekCursor(-1, 0);
});
$('speed').addEventListener('change', () => {
  page.speed = Number($('speed').value) || 1;
});
$('seek').addEventListener('input', () => {
  pause();
  seekTime(Number($('seek').value));
});
$('timeline').addEventListener('click', (e) => {
  if (page.mode !== 'replay') return;
  const marker = e.target.closest('[data-t]');
  if (marker) return seekBefore(Number(marker.dataset.t));
  const svg = $('timeline').querySelector('svg');
  if (!svg) return;
  pause();
  seekTime(Math.max(0, toTime(e.clientX - svg.getBoundingClientRect().left)));
});
for (const id of ['f-run', 'f-trace', 'f-event', 'f-snapshot', 'f-actor', 'f-text'])
  $(id).addEventListener('input', () =>
    page.mode === 'replay' ? renderLog(page.items.slice(0, page.cursor + 1)) : renderLiveLog(),
  );
document.addEventListener('keydown', (e) => {
  if (page.mode !== 'replay' || e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT') return;
  if (e.key === 'ArrowRight') step();
  else if (e.key === ' ') {
    e.preventDefault();
    page.playing ? pause() : play();
  } else if (e.key === 'Home') seekCursor(-1, 0);
});
legend();
connect();
