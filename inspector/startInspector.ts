// startInspector: the inspector's HTTP + WebSocket server on 127.0.0.1 — one page, its files, one socket.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type WebSocket, WebSocketServer } from 'ws';
import { rprocMachine } from '../machines/rprocMachine.js';
import { STREAM_VERSION, type StreamActor, type StreamEvent } from './inspectionStream.js';
import {
  INIT_BYTES,
  LIVE_HISTORY_BYTES,
  newestWithin,
  newToken,
  PAGE_BUFFER_BYTES,
  pathAfterToken,
} from './inspectorGuard.js';
import type { LiveSource, LiveState } from './liveSource.js';
import type { ReplayData } from './recordReplay.js';
import { layoutStatechart, type Statechart } from './statechart.js';

/** The only address the inspector listens on. */
export const INSPECTOR_HOST = '127.0.0.1';

/** How many live state changes the server keeps for a page that joins late. */
export const LIVE_HISTORY_BOUND = 2000;

/** What the inspector shows: a recorded run, or a live system. */
export type InspectorSource = { kind: 'replay'; data: ReplayData } | { kind: 'live'; live: LiveSource };

/** Options of {@link startInspector}. */
export interface InspectorOptions {
  source: InspectorSource;
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Live sources are also read this often, for changes they do not signal. @default 200 */
  pollMs?: number;
  /** The token every request's path starts with (`/<token>/`). @default a random one (crypto.randomBytes) */
  token?: string;
}

/** A running inspector. */
export interface Inspector {
  /** `http://127.0.0.1:PORT/<token>/`: the only address that answers (anything else is 403). */
  url: string;
  port: number;
  /** The token in {@link Inspector.url}. */
  token: string;
  /** Stops listening, closes every page's socket and stops reading the live source. Idempotent. */
  close(): Promise<void>;
}

/** Messages the server sends, one JSON object per WebSocket text frame. */
export type ServerMessage =
  | { type: 'replay'; v: typeof STREAM_VERSION; data: ReplayData }
  | {
      type: 'live.init';
      v: typeof STREAM_VERSION;
      statechart: Statechart;
      history: Array<{ t: number; state: LiveState }>;
      events: StreamEvent[];
      /** Every actor the stream knows (active ones, the newest ended ones), for the actor tree. */
      actors: StreamActor[];
      dropped: number;
      bound: number | null;
      /** ms since the epoch at t = 0. */
      origin: number;
    }
  | { type: 'live.state'; t: number; state: LiveState }
  | { type: 'live.events'; events: StreamEvent[]; dropped: number }
  | { type: 'pong' };

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** `inspector/page/`, from source (`inspector/`) or from the build (`dist/inspector/`). */
function pageDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'page');
  return existsSync(beside) ? beside : join(here, '..', '..', 'inspector', 'page');
}

/** The page's files, read once: `index.html`, its modules and its style sheet. */
function readPage(): Map<string, { body: Buffer; type: string }> {
  const dir = pageDir();
  const out = new Map<string, { body: Buffer; type: string }>();
  for (const file of readdirSync(dir)) {
    const type = TYPES[file.slice(file.lastIndexOf('.') + 1)];
    if (type && /^[a-z]+\.[a-z]+$/.test(file))
      out.set(`/${file}`, { body: readFileSync(join(dir, file)), type });
  }
  const index = out.get('/index.html');
  if (!index) throw new Error(`the inspector page is missing: no index.html in ${dir}`);
  // The timeline's spans and colours, and the metric cells, as `compare --html` computes them: the
  // builds of scenarios/timelineSpans.ts and scenarios/metricCells.ts, which import nothing at run time.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const shared of ['timelineSpans.js', 'metricCells.js']) {
    const built = [join(here, '..', 'scenarios'), join(here, '..', 'dist', 'scenarios')]
      .map((d) => join(d, shared))
      .find((f) => existsSync(f));
    if (!built) throw new Error(`the inspector page is missing ${shared}: run npm run build`);
    out.set(`/${shared}`, { body: readFileSync(built), type: TYPES.js as string });
  }
  out.set('/', index);
  return out;
}

let chart: Promise<Statechart> | undefined;
/** The rproc machine's laid-out statechart, computed once per process. */
export function rprocStatechart(): Promise<Statechart> {
  chart ??= layoutStatechart(rprocMachine);
  return chart;
}

/**
 * Serves the inspector on 127.0.0.1: `GET /` is the page (with `app.js` and `app.css`, no other
 * origin), `/ws` the WebSocket that sends it {@link ServerMessage}s. Requests whose `Host` is not
 * 127.0.0.1 or localhost, and sockets from another origin, are refused (DNS rebinding). Frames from
 * the page are ignored except `{"type":"ping"}`; a bad frame never stops the server.
 *
 * @example
 * const inspector = await startInspector({ source: { kind: 'replay', data }, port: 0 });
 * console.log(inspector.url); // http://127.0.0.1:39157/
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const files = readPage();
  const statechart =
    options.source.kind === 'replay' ? options.source.data.statechart : await rprocStatechart();
  let port = 0;
  const token = options.token ?? newToken();
  const forbidden = (res: ServerResponse) =>
    res
      .writeHead(403, { 'content-type': 'text/plain' })
      .end('forbidden: use the URL the inspector printed\n');

  const hostAllowed = (host: string | undefined) =>
    host === `${INSPECTOR_HOST}:${port}` || host === `localhost:${port}`;
  const originAllowed = (origin: string | undefined) =>
    origin === undefined ||
    origin === `http://${INSPECTOR_HOST}:${port}` ||
    origin === `http://localhost:${port}`;

  const serve = (req: IncomingMessage, res: ServerResponse) => {
    if (!hostAllowed(req.headers.host)) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('wrong host: use 127.0.0.1\n');
      return;
    }
    const path = pathAfterToken((req.url ?? '/').split('?')[0] ?? '/', token);
    if (path === null) {
      forbidden(res);
      return;
    }
    const entry = files.get(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (!entry) {
      res.writeHead(path === '/favicon.ico' ? 204 : 404, { 'content-type': 'text/plain' }).end();
      return;
    }
    res.writeHead(200, {
      'content-type': entry.type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // The offline guarantee, enforced by the browser: nothing but this origin and its socket.
      'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws://${INSPECTOR_HOST}:${port} ws://localhost:${port}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    });
    res.end(req.method === 'HEAD' ? undefined : entry.body);
  };

  const http = createServer(serve);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  // A page that does not read is let go, not buffered: it reconnects and gets a bounded `live.init`.
  const sendText = (ws: WebSocket, text: string) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > 0 && ws.bufferedAmount + text.length > PAGE_BUFFER_BYTES) ws.terminate();
    else ws.send(text);
  };
  const send = (ws: WebSocket, msg: ServerMessage) => sendText(ws, JSON.stringify(msg));
  const broadcast = (msg: ServerMessage) => {
    const text = JSON.stringify(msg);
    for (const ws of wss.clients) sendText(ws, text);
  };

  // Live: a bounded history of distinct states, pushed as soon as the source says something changed.
  const origin = Date.now();
  const history: Array<{ t: number; state: LiveState }> = [];
  // The JSON size of each entry of `history`, and their sum: history is bounded in bytes too.
  const historySizes: number[] = [];
  let historyBytes = 0;
  let lastText = '';
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let unstream: (() => void) | undefined;
  let pendingEvents: StreamEvent[] = [];
  let scheduled = false;
  const refresh = () => {
    if (options.source.kind !== 'live') return;
    let state: LiveState;
    try {
      state = options.source.live.state();
    } catch {
      return; // A source that cannot answer now is asked again at the next poll.
    }
    const text = JSON.stringify(state);
    if (text === lastText) return;
    lastText = text;
    const entry = { t: Date.now() - origin, state };
    history.push(entry);
    historySizes.push(text.length);
    historyBytes += text.length;
    while (history.length > 1 && (history.length > LIVE_HISTORY_BOUND || historyBytes > LIVE_HISTORY_BYTES)) {
      history.shift();
      historyBytes -= historySizes.shift() ?? 0;
    }
    broadcast({ type: 'live.state', ...entry });
  };
  const flush = () => {
    scheduled = false;
    refresh();
    if (pendingEvents.length && options.source.kind === 'live') {
      broadcast({
        type: 'live.events',
        events: pendingEvents,
        dropped: options.source.live.stream?.dropped ?? 0,
      });
      pendingEvents = [];
    }
  };
  const soon = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  if (options.source.kind === 'live') {
    const live = options.source.live;
    refresh();
    unsubscribe = live.subscribe?.(soon);
    unstream = live.stream?.subscribe((e) => {
      pendingEvents.push(e);
      soon();
    });
    timer = setInterval(refresh, options.pollMs ?? 200);
    timer.unref();
  }

  const greet = (ws: WebSocket) => {
    const source = options.source;
    if (source.kind === 'replay') {
      send(ws, { type: 'replay', v: STREAM_VERSION, data: source.data });
      return;
    }
    // A snapshot and recent events, bounded in bytes: not every stored state and event.
    const sizes = new Map(history.map((h, i) => [h, historySizes[i] ?? 0]));
    const states = newestWithin(history, INIT_BYTES, (h) => sizes.get(h) ?? 0);
    const events = newestWithin(
      source.live.stream?.events() ?? [],
      INIT_BYTES,
      (e) => JSON.stringify(e).length,
    );
    send(ws, {
      type: 'live.init',
      v: STREAM_VERSION,
      statechart,
      history: states.kept,
      events: events.kept,
      actors: source.live.stream?.actors() ?? [],
      dropped: (source.live.stream?.dropped ?? 0) + events.omitted,
      bound: source.live.stream?.bound ?? null,
      origin,
    });
  };

  wss.on('connection', (ws) => {
    ws.on('error', () => ws.terminate());
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        return;
      }
      if (msg && typeof msg === 'object' && (msg as { type?: unknown }).type === 'ping')
        send(ws, { type: 'pong' });
    });
    greet(ws);
  });
  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const path = pathAfterToken((req.url ?? '').split('?')[0] ?? '', token);
    if (path !== '/ws' || !hostAllowed(req.headers.host) || !originAllowed(req.headers.origin)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  http.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, INSPECTOR_HOST, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  port = typeof address === 'object' && address ? address.port : 0;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${INSPECTOR_HOST}:${port}/${token}/`,
    port,
    token,
    close() {
      closed ??= new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        unsubscribe?.();
        unstream?.();
        if (options.source.kind === 'live') options.source.live.close?.();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
      });
      return closed;
    },
  };
}
