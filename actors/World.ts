// World: the simulated system a strategy acts in — the kernel twin, the processes, what clients want, the trace, one virtual clock.

import type { InspectionEvent } from 'xstate';
import type { ProcessorPolicy, ProcessorSettingsJson } from '../machines/corePolicy.js';
import type { KernelProfile } from '../machines/profile.js';
import { KernelTwin, type ProcessorSpec } from './kernel/KernelTwin.js';
import { SimOs, type SimProcess } from './os/SimOs.js';
import type { TraceEvent, TraceSink } from './trace.js';
import { VirtualClock } from './VirtualClock.js';

/** The simulated monitor's settings (OTP's 1 restart per 5 s for intensity/period). */
export interface MonitorConfig {
  restart: false | { delayMs: number; intensity: number; periodMs: number };
  reconcile: 'adopt' | 'stop-unknown';
  graceMs: number;
  ttlMs: number | null;
  reconnectMs: number;
  pollMs: number;
  /** The policy of every processor (absent: `exclusive`, the strategies as they always were). */
  policy?: ProcessorPolicy;
  /** Per-processor settings by name (docs/config.md), over `policy`. */
  processors?: Record<string, ProcessorSettingsJson>;
}

/** A client of the simulated system: it wants `processor` from its acquire until its release or death. */
export interface ClientSpec {
  id: string;
  processor: string;
  /** Pings to the monitor; a frozen client sends none. null or absent: no heartbeat. */
  heartbeatMs?: number | null | undefined;
  /** The firmware its lease asks for (monitor strategies). */
  firmware?: string | undefined;
}

/** What a world is made of: a scenario without its timeline, or explore's base system. */
export interface WorldSpec {
  kernel: KernelProfile;
  processors: ProcessorSpec[];
  clients: ClientSpec[];
  monitor: MonitorConfig;
}

/** A crash the kernel handled, and who wanted the processor at that moment. */
export interface CrashRecord {
  t: number;
  processor: string;
  wanting: string[];
}

/** What the strategies and the metrics share about one run. */
export class World {
  readonly clock = new VirtualClock();
  readonly twin: KernelTwin;
  readonly os: SimOs;
  readonly events: TraceEvent[] = [];
  /** Ground truth, whatever the strategy: processor → clients that want it (acquire until release or death). */
  readonly wanting = new Map<string, Set<string>>();
  /** `processor.crashed` notices clients received. */
  readonly notices: Array<{ t: number; client: string; processor: string; event: string }> = [];
  readonly crashes: CrashRecord[] = [];
  readonly trace: TraceSink = (e) => this.events.push({ t: this.clock.now(), ...e });

  /** XState's inspection observer for every actor of the run (the inspector's recorder), if any. */
  readonly inspect: ((event: InspectionEvent) => void) | undefined;

  constructor(
    /** What the system is made of (a scenario's processors, clients, kernel and monitor settings). */
    readonly scenario: WorldSpec,
    options: { inspect?: (event: InspectionEvent) => void } = {},
  ) {
    this.inspect = options.inspect;
    this.twin = new KernelTwin({
      profile: scenario.kernel,
      processors: scenario.processors,
      clock: this.clock,
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.os = new SimOs(this.clock, this.twin, this.trace);
    for (const p of scenario.processors) this.wanting.set(p.name, new Set());
    // A client that dies stops wanting, however it died.
    this.os.onExit((p) => {
      if (p.name.startsWith('client:') && this.os.find(p.name) === p) this.want(p.name.slice(7), false);
    });
  }

  /** The client spec of `id`. */
  client(id: string): ClientSpec {
    const c = this.scenario.clients.find((x) => x.id === id);
    if (!c) throw new Error(`no client ${id}`);
    return c;
  }

  /** The twin index of processor `name`. */
  index(name: string): number {
    const p = this.twin.resolve(name);
    if (!p) throw new Error(`no processor ${name}`);
    return p.index;
  }

  /** Marks `client` as wanting its processor, or not. */
  want(client: string, on: boolean): void {
    const set = this.wanting.get(this.client(client).processor);
    if (!set || set.has(client) === on) return;
    if (on) set.add(client);
    else set.delete(client);
    this.trace({ source: 'scenario', type: on ? 'client.wants' : 'client.done', subject: client });
  }

  /** True while `client` wants its processor. */
  wants(client: string): boolean {
    return this.wanting.get(this.client(client).processor)?.has(client) ?? false;
  }

  /** The live process called `name`, if any. */
  alive(name: string): SimProcess | undefined {
    const p = this.os.find(name);
    return p?.alive ? p : undefined;
  }

  /** A client received a notice about its processor. */
  notice(client: string, processor: string, event: string): void {
    this.notices.push({ t: this.clock.now(), client, processor, event });
    this.trace({ source: 'process', type: `client.${event}`, subject: client, data: { processor } });
  }
}
