// startLiveInspector: the inspector for a live system — a daemon's supervisor or a bare kernel twin —
// with its inspection stream and optional forwarding to Stately, in one call.

import type { Supervisor } from '../supervisors/runtime/createSupervisor.js';
import { forwardToStately, type StatelyForwarder } from './forwardToStately.js';
import { createInspectionStream, DEFAULT_STREAM_BOUND } from './inspectionStream.js';
import { LIVE_STREAM_BYTES } from './inspectorGuard.js';
import { kernelTwinSource, type LiveLease, type LiveSource, supervisorSource } from './liveSource.js';
import { actorLabel, essentials } from './recordReplay.js';
import { type Inspector, startInspector } from './startInspector.js';

/** Options of {@link startLiveInspector}. Give `supervisor` (a daemon), or `twin` alone (the twin command). */
export interface LiveInspectorOptions {
  /** The daemon's supervisor: its `status()` is the lease table. */
  supervisor?: Supervisor;
  /** An in-process kernel twin (the sim driver's, or the mounted twin's): machine states and power counts. */
  twin?: Parameters<typeof kernelTwinSource>[0];
  /** With `twin` alone: who holds each processor's device, for the lease table. @default the twin's descriptors */
  holders?: (index: number) => LiveLease[];
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** The page's title. @default 'daemon' or 'kernel twin' */
  title?: string;
  /** Also forward raw inspection events to this WebSocket (`@statelyai/inspect`). @default off */
  statelyUrl?: string | undefined;
  /** Stream bound. @default {@link DEFAULT_STREAM_BOUND} */
  bound?: number;
}

/** A running live inspector. */
export interface LiveInspector extends Inspector {
  /** The source the page reads (for tests and embedding). */
  source: LiveSource;
}

/**
 * Serves the inspector for a live system on 127.0.0.1. The page's processor states and lease table
 * follow each change within a tick of it being signalled (state changes, lease grants and ends), and
 * within `pollMs` (200 ms) otherwise.
 *
 * @example
 * // `twin --inspect[=PORT]`: after the twin is built and mounted
 * const inspector = await startLiveInspector({ twin, port, title: `twin ${mountpoint}` });
 * io.stdout(`inspector: ${inspector.url}\n`);
 * // … on shutdown, before the twin stops:
 * await inspector.close();
 */
export async function startLiveInspector(options: LiveInspectorOptions): Promise<LiveInspector> {
  let stately: StatelyForwarder | undefined;
  if (options.statelyUrl) stately = await forwardToStately(options.statelyUrl);
  const stream = createInspectionStream({
    bound: options.bound ?? DEFAULT_STREAM_BOUND,
    maxBytes: LIVE_STREAM_BYTES,
    label: actorLabel,
    context: essentials,
    ...(stately ? { forward: stately.forward } : {}),
  });
  let source: LiveSource;
  if (options.supervisor) {
    source = supervisorSource(options.supervisor, {
      ...(options.twin ? { twin: options.twin } : {}),
      stream,
      ...(options.title ? { title: options.title } : {}),
    });
  } else if (options.twin) {
    source = kernelTwinSource(options.twin, stream, options.title, options.holders);
  } else {
    stately?.stop();
    throw new Error('startLiveInspector: give a supervisor or a twin');
  }
  let inspector: Inspector;
  try {
    inspector = await startInspector({ source: { kind: 'live', live: source }, port: options.port ?? 0 });
  } catch (err) {
    stately?.stop();
    throw err;
  }
  return {
    ...inspector,
    source,
    async close() {
      await inspector.close();
      stately?.stop();
    },
  };
}
