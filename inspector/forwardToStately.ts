// forwardToStately: sends the raw inspection events on to Stately's inspector with @statelyai/inspect's
// WebSocket inspector — optional, off by default, never needed by our own page.

import type { InspectionEvent } from 'xstate';

/** A running forwarder. */
export interface StatelyForwarder {
  /** Give it every raw inspection event (the stream's `forward` option). */
  forward(event: InspectionEvent): void;
  /** Stops sending and reconnecting. Idempotent. */
  stop(): void;
}

/**
 * Forwards inspection events to `url` (`ws://` or `wss://`), for example a relay started with
 * `@statelyai/inspect/server`'s `createInspectorServer`, to which Stately's hosted inspector attaches
 * when the user is online. Events are buffered (up to 200) until the socket opens, and the adapter
 * retries every 5 s; nothing here ever throws into the system being inspected.
 *
 * @example
 * const fwd = await forwardToStately('ws://127.0.0.1:8080');
 * const stream = createInspectionStream({ forward: fwd.forward });
 */
export async function forwardToStately(url: string): Promise<StatelyForwarder> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--stately-ws ${url}: not a URL; expected ws://HOST:PORT`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
    throw new Error(`--stately-ws ${url}: expected a ws:// or wss:// URL`);
  // Loaded only when asked for: the package pulls in a WebSocket client and serialisers.
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const inspector = createWebSocketInspector({ url, autoStart: true });
  let stopped = false;
  return {
    forward(event) {
      if (stopped) return;
      try {
        inspector.inspect.next?.(event);
      } catch {
        // Best effort: the inspected system goes on.
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        inspector.stop();
      } catch {
        // already closed
      }
    },
  };
}
