// twinStatusServer: the lease protocol's read-only ops (status, subscribe, ping) for a mounted twin, so `status` works against it.

import type { PushedEvent, StatusBody, StatusLease } from '../daemon/protocol.js';
import { serveProtocol } from '../daemon/serveProtocol.js';
import type { KernelTwin } from '../kernel/KernelTwin.js';

/** A listening status server. */
export interface TwinStatusServer {
  socketPath: string;
  /** Stops listening, ends every connection, removes the socket. */
  close(): Promise<void>;
}

/**
 * Serves `status`, `subscribe` and `ping` of the lease protocol (docs/protocol.md) for `twin` on a Unix
 * socket (and `crash`, which injects one into the twin; `add-processor` and `remove-processor`, which
 * register and unbind processors at run time, for hotplug tests): `status` lists the processors with their twin state, crash count and, as leases, who holds
 * their device files when `holders` says (a twin grants no leases of its own); subscribers get `processor.state` and `processor.crashed` events. `acquire` and `release` get
 * an EOPNOTSUPP error reply. A stale socket is removed; a live one is an error (EADDRINUSE).
 */
export async function startTwinStatusServer(
  twin: KernelTwin,
  socketPath: string,
  holders?: (index: number) => StatusLease[],
): Promise<TwinStatusServer> {
  // By index; processors the twin adds at run time (add-processor) join them.
  const crashes: number[] = twin.processors.map(() => 0);
  const last: string[] = twin.processors.map((p) => p.context.state as string);
  const listeners = new Set<(body: PushedEvent) => void>();
  const unsubscribeTwin = twin.subscribe((index, ctx) => {
    if (ctx.state === last[index]) return;
    last[index] = ctx.state;
    const p = twin.processor(index);
    if (ctx.state === 'crashed') crashes[index] = (crashes[index] ?? 0) + 1;
    for (const l of listeners) {
      l({ event: 'processor.state', processor: p.device, name: p.name, state: ctx.state });
      if (ctx.state === 'crashed') l({ event: 'processor.crashed', processor: p.device, name: p.name });
    }
  });
  const status = (): StatusBody => ({
    strategy: 'twin',
    // An unbound processor (remove-processor) is gone from the class directory: not listed.
    processors: twin.processors
      .filter((p) => !p.context.removed)
      .map((p) => ({
        name: p.name,
        device: p.device,
        state: p.context.state,
        crashes: crashes[p.index] ?? 0,
        // The kernel's power count, which no real interface shows: what tests of references read.
        power: p.context.power,
        leases: holders?.(p.index) ?? [],
      })),
  });

  const server = await serveProtocol(socketPath, 'something', ({ send }) => ({
    request(r) {
      if (r.op === 'status') send({ id: r.id, ok: true, status: status() });
      else if (r.op === 'ping') send({ id: r.id, ok: true });
      else if (r.op === 'crash') {
        // Crash injection for tests: rproc_report_crash on the twin (issue 12 point 10).
        const p = twin.resolve(r.processor);
        if (!p) {
          const message = `ENODEV: no processor "${r.processor}"`;
          send({ id: r.id, ok: false, error: { code: 'ENODEV', message } });
        } else {
          twin.crash(p.index, r.reason ?? 'unknown');
          send({ id: r.id, ok: true, processor: { device: p.device, name: p.name } });
        }
      } else if (r.op === 'add-processor') {
        // Hotplug for tests: a platform driver registers one more processor (rproc_add).
        const { id, v: _v, op: _op, ...spec } = r;
        const p = twin.add(spec);
        send({ id, ok: true, processor: { device: p.device, name: p.name } });
      } else if (r.op === 'remove-processor') {
        // Hotplug for tests: driver unbind (rproc_del): one shutdown, then the device is gone.
        const p = twin.resolve(r.processor);
        if (!p || p.context.removed) {
          const message = `ENODEV: no processor "${r.processor}"`;
          send({ id: r.id, ok: false, error: { code: 'ENODEV', message } });
        } else {
          twin
            .unbind(p.index)
            .onSettled(() => send({ id: r.id, ok: true, processor: { device: p.device, name: p.name } }));
        }
      } else if (r.op === 'subscribe') {
        listeners.add(send);
        send({ id: r.id, ok: true });
      } else {
        const message = `EOPNOTSUPP: this is a kernel twin, not a daemon: it grants no leases (run "rproc-supervisor daemon" on its files)`;
        send({ id: r.id, ok: false, error: { code: 'EOPNOTSUPP', message } });
      }
    },
    closed: () => listeners.delete(send),
  })).catch((err: unknown) => {
    unsubscribeTwin();
    throw err;
  });
  return {
    socketPath,
    async close() {
      unsubscribeTwin();
      await server.close();
    },
  };
}
