// liveSource: what a live system shows the inspector (processors, leases, inspection stream), and the
// two sources we ship — a daemon's supervisor, and a bare kernel twin.

import type { KernelTwin } from '../actors/kernel/KernelTwin.js';
import type { Supervisor } from '../supervisors/runtime/createSupervisor.js';
import { type InspectionStream, toData } from './inspectionStream.js';
import { LIVE_LEASES_SHOWN } from './inspectorGuard.js';

/** One lease (or descriptor holder) as the page's lease table shows it. */
export interface LiveLease {
  client: string;
  pid: number | null;
  /** `granted`, or for a twin `fd N`. */
  state: string;
  /** When it began, ms since the epoch. */
  since: number;
}

/** One processor of a live system. */
export interface LiveProcessor {
  name: string;
  device: string;
  /** Its `state` string as the kernel (or twin) says it. */
  state: string;
  /** The power count, when the twin is in this process; null on a real kernel. */
  power: number | null;
  /** The rproc machine's state value (`idle`, `{ recovering: 'stopping' }`), when the twin is in this process. */
  value: unknown;
  leases: LiveLease[];
  /** Leases held and not listed in `leases`, past {@link LIVE_LEASES_SHOWN}. */
  leasesOmitted?: number;
}

/** The whole live picture at one moment. Plain JSON. */
export interface LiveState {
  title: string;
  strategy: string | null;
  processors: LiveProcessor[];
}

/**
 * A live system the inspector serves. `state()` is read whenever `subscribe`'s callback fires and also
 * every `pollMs` of the server, so a source that cannot signal every change is still shown within that.
 */
export interface LiveSource {
  state(): LiveState;
  /** Calls `changed` (no argument) when `state()` may differ; returns an unsubscribe. @default none */
  subscribe?(changed: () => void): () => void;
  /** The inspection stream of the system's actors, if it has one. */
  stream?: InspectionStream;
  /** Detaches what the source attached (the inspector calls it on close). */
  close?(): void;
}

/**
 * Attaches `stream` to each processor actor's system, and records the processors' actors at once
 * (they were created before it: the twin adds its processors when it is built); returns the detach.
 */
function attach(twin: TwinLike | undefined, stream: InspectionStream | undefined): () => void {
  if (!twin || !stream) return () => {};
  const subs = twin.processors.map((p) => p.actor.system.inspect(stream.observer));
  for (const p of twin.processors) stream.seen(p.actor);
  return () => {
    for (const s of subs) s.unsubscribe();
  };
}

type TwinLike = Pick<KernelTwin, 'processors' | 'subscribe' | 'fds'>;

const twinProcessor = (twin: TwinLike, i: number) => {
  const p = twin.processors[i];
  if (!p) return null;
  const snap = p.actor.getSnapshot();
  return { state: snap.context.state, power: snap.context.power, value: toData(snap.value) };
};

/**
 * A live source over a kernel twin (the `twin` command, or the sim driver's twin): each processor's
 * machine state and power count; the lease table lists the processes holding its `/dev/remoteprocN`
 * (the twin's own descriptor table, unless `holders` says who holds processor `index`: the mounted
 * twin knows the real pids that opened its device files).
 * Attaches `stream` (if given) to every processor actor with `actor.system.inspect`.
 *
 * @example
 * const stream = createInspectionStream();
 * const server = await startInspector({ port: 0, source: { kind: 'live', title: 'twin', live: kernelTwinSource(twin, stream) } });
 */
export function kernelTwinSource(
  twin: TwinLike,
  stream?: InspectionStream,
  title = 'kernel twin',
  holders?: (index: number) => LiveLease[],
): LiveSource {
  const opened = new Map<string, number>();
  const detach = attach(twin, stream);
  return {
    ...(stream ? { stream } : {}),
    close: detach,
    state: () => ({
      title,
      strategy: null,
      processors: twin.processors.map((p, i) => {
        const leases: LiveLease[] = holders ? holders(i) : [];
        if (!holders)
          for (const pid of twin.fds.pids()) {
            for (const fd of twin.fds.descriptors(pid)) {
              const got = twin.fds.get(pid, fd);
              if (!got.ok || got.value.rproc !== i) continue;
              const key = `${pid}/${fd}`;
              if (!opened.has(key)) opened.set(key, Date.now());
              leases.push({
                client: `pid ${pid}`,
                pid,
                state: `fd ${fd}`,
                since: opened.get(key) ?? Date.now(),
              });
            }
          }
        const m = twinProcessor(twin, i);
        return {
          name: p.name,
          device: p.device,
          state: m?.state ?? 'unknown',
          power: m?.power ?? null,
          value: m?.value ?? null,
          leases,
        };
      }),
    }),
    subscribe(changed) {
      return twin.subscribe(() => changed());
    },
  };
}

/**
 * A live source over the production supervisor (the daemon): what `status` reports, plus the machine
 * state and power count of each processor when `twin` (the sim driver's) is given.
 */
export function supervisorSource(
  supervisor: Supervisor,
  options: { twin?: TwinLike; stream?: InspectionStream; title?: string } = {},
): LiveSource {
  const { twin, stream } = options;
  const detachTwin = attach(twin, stream);
  // The supervisor actor and the lease actors (leases with a TTL) feed the same stream.
  const detachSupervisor = stream ? supervisor.inspect(stream.observer) : () => {};
  return {
    ...(stream ? { stream } : {}),
    close: () => {
      detachTwin();
      detachSupervisor();
    },
    state() {
      const s = supervisor.status();
      return {
        title: options.title ?? 'daemon',
        strategy: s.strategy,
        processors: s.processors.map((p, i) => {
          const m = twin ? twinProcessor(twin, i) : null;
          return {
            name: p.name,
            device: p.device,
            state: m?.state ?? p.state,
            power: m?.power ?? null,
            value: m?.value ?? null,
            // Bounded: a state is stored and sent to pages, however many leases there are.
            leases: p.leases.slice(0, LIVE_LEASES_SHOWN).map((l) => ({
              client: l.client,
              pid: l.pid ?? null,
              state: 'granted',
              since: Math.round(performance.timeOrigin + l.since),
            })),
            ...(p.leases.length > LIVE_LEASES_SHOWN
              ? { leasesOmitted: p.leases.length - LIVE_LEASES_SHOWN }
              : {}),
          };
        }),
      };
    },
    subscribe(changed) {
      const offs = [supervisor.onEvent(() => changed())];
      if (twin) offs.push(twin.subscribe(() => changed()));
      return () => {
        for (const off of offs) off();
      };
    },
  };
}
