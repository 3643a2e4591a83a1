// The monitor of sysfs-monitor and hybrid: the supervisor (runSupervisor) as a simulated process, its leases per connection.

import { RPROC_SET_SHUTDOWN_ON_RELEASE } from '../../actors/kernel/cdevCommand.js';
import { PendingCall } from '../../actors/kernel/PendingCall.js';
import type { Connection, Program, SimProcess } from '../../actors/os/SimOs.js';
import type { World } from '../../actors/World.js';
import { admitLease } from '../../machines/corePolicy.js';
import { ok, type Result } from '../../machines/errno.js';
import { isRunningState } from '../../machines/powered.js';
import type {
  ProcessorCore,
  SupervisorAnswer,
  SupervisorCall,
  SupervisorConfig,
} from '../../machines/supervisorCore.js';
import { leaseChildren } from '../processorActor.js';
import {
  type Pending,
  type RunningSupervisor,
  runSupervisor,
  type SupervisorDriver,
} from '../runSupervisor.js';
import { type ProcessorSettings, settingsFor } from '../supervisorSettings.js';
import type { FdStore } from './fdStore.js';

/** What the two monitor strategies differ in. */
export interface MonitorOptions {
  /** `sysfs`: write `state`. `cdev`: hold /dev/remoteprocN with shutdown-on-release and write to it. */
  control: 'sysfs' | 'cdev';
  /** Get an unwanted processor out of CRASHED (recovery disabled) by `recover`, then stop it. */
  recoverCrashed: boolean;
  /**
   * Listen to the uevents of the processors' virtio/rpmsg devices (netlink): a removal the monitor did
   * not cause is a crash, seen at once even when the recovery is shorter than a poll.
   */
  uevents: boolean;
}

/** Messages between clients and the monitor (the lease protocol, in the simulation). */
export type MonitorMessage =
  /** `firmware`: what the lease asks to boot (refused with EBUSY when it runs another for its leases). */
  | { op: 'acquire'; client: string; processor: string; firmware?: string }
  | { op: 'release'; client: string; processor: string }
  | { op: 'ping' }
  | { op: 'granted'; processor: string }
  /** The lease is refused (observe policy: EPERM). */
  | { op: 'refused'; processor: string; code: string }
  | { op: 'lease.expired'; processor: string }
  /** The monitor ended the lease: its processor was stopped by someone else, or failed its crash limit. */
  | { op: 'lease.lost'; processor: string; reason: 'processor-stopped' | 'processor-failed' }
  | { op: 'processor.crashed' | 'processor.recovered'; processor: string };

/** What a monitor holds, as data: for exploration's state encoding and for inspection. */
export interface MonitorView {
  /** Each processor's supervisor state. */
  cores: Record<string, ProcessorCore>;
  /** Live leases as `client/processor:<state value>`, sorted. */
  leases: string[];
}

/** A monitor incarnation, as its strategy sees it. */
export interface MonitorHandle {
  view(): MonitorView;
}

/**
 * The monitor's system calls to the kernel twin, as one thread of it makes them: commands through the
 * held cdev (hybrid) or sysfs, answered when the kernel returns — in the process's context, so nothing
 * runs while it is frozen or once it is dead.
 */
function monitorDriver(
  world: World,
  self: SimProcess,
  options: MonitorOptions,
  fds: Map<string, number>,
  open: (p: string) => void,
  store: FdStore | null,
): SupervisorDriver {
  const { twin } = world;
  const read = (p: string, attr: 'state' | 'firmware'): Result<string> => {
    const r = twin.sysfsRead(world.index(p), attr);
    return r.ok ? ok(r.value.trim()) : r;
  };
  const inProcess = <T>(call: PendingCall<T>): Pending<SupervisorAnswer> => ({
    onSettled: (listener) => self.track(call).onSettled((r) => self.run(() => listener(r))),
  });
  /** A write answers nothing but whether it worked. */
  const done = (r: Result<number>): Result<undefined> => (r.ok ? ok() : r);
  const write = (p: string, cmd: 'start' | 'stop' | 'detach'): PendingCall<number> => {
    if (options.control === 'cdev' && !fds.has(p)) open(p);
    const fd = fds.get(p);
    return options.control === 'cdev' && fd !== undefined
      ? twin.cdevWrite(self.pid, fd, cmd)
      : twin.sysfsWrite(world.index(p), 'state', `${cmd}\n`);
  };
  return {
    letGo(p: string) {
      const fd = fds.get(p);
      if (fd === undefined) return;
      fds.delete(p);
      const s = read(p, 'state');
      if (s.ok && isRunningState(s.value)) twin.cdevIoctl(self.pid, fd, RPROC_SET_SHUTDOWN_ON_RELEASE, 0);
      // init's copy first: the monitor's own close is then the last, with the flag as just set.
      store?.remove(p);
      twin.close(self.pid, fd);
    },
    call(p: string, c: SupervisorCall): Pending<SupervisorAnswer> {
      switch (c.op) {
        case 'state':
          return inProcess(PendingCall.settled(read(p, 'state')));
        case 'read-firmware':
          return inProcess(PendingCall.settled(read(p, 'firmware')));
        case 'start':
        case 'stop':
        case 'detach':
          // Answered with the state read when the kernel returns, as a driver's commands are.
          return inProcess(write(p, c.op).map<string>((r) => (r.ok ? read(p, 'state') : r)));
        case 'recover':
          return inProcess(twin.sysfsWrite(world.index(p), 'recovery', 'recover\n').map(done));
        case 'write-firmware':
          return inProcess(twin.sysfsWrite(world.index(p), 'firmware', `${c.name}\n`).map(done));
        case 'disable-recovery':
          return inProcess(twin.sysfsWrite(world.index(p), 'recovery', 'disabled\n').map(done));
      }
    },
  };
}

/**
 * The monitor daemon's program. `restarted` is true for every incarnation after the first. With
 * `store` (hybrid-fdstore), every cdev descriptor it opens is also given to init's fd store, and at its
 * start it takes back the descriptors a dead incarnation left there.
 */
export function monitorProgram(
  world: World,
  options: MonitorOptions,
  restarted: boolean,
  onStart: (handle: MonitorHandle) => void,
  store: FdStore | null = null,
): Program {
  const { scenario, twin } = world;
  const names = scenario.processors.map((p) => p.name);
  /** Each connection's leases, by `client/processor`. */
  const leases = new Map<Connection, Map<string, string>>();
  const holders = new Map<string, { conn: Connection; key: string; client: string; processor: string }>();
  let sup: RunningSupervisor;
  let self: SimProcess;
  let nextLease = 1;
  const m = scenario.monitor;
  const settings = (name: string): ProcessorSettings =>
    settingsFor(
      {
        defaults: { policy: m.policy ?? 'exclusive' },
        ...(m.processors ? { processors: m.processors } : {}),
      },
      { device: name, name },
    );
  const log = (type: string, subject: string, data?: Record<string, unknown>) =>
    world.trace({ source: 'strategy', type, subject, ...(data ? { data } : {}) });

  return {
    start(p) {
      self = p;
      const fds = new Map<string, number>();
      const open = (name: string) => {
        const handed = store?.take(name, p.pid) ?? null;
        if (handed !== null) {
          fds.set(name, handed);
          return;
        }
        const fd = twin.cdevOpen(p.pid, world.index(name), { cloexec: true });
        if (!fd.ok) return;
        fds.set(name, fd.value);
        twin.cdevIoctl(p.pid, fd.value, RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
        store?.keep(name, p.pid, fd.value);
      };
      // What a dead incarnation left in init's fd store is this one's from its start.
      for (const name of store?.names() ?? []) open(name);
      // An exclusive owner holds every device from its start; the others only while they hold a
      // reference (the flag is the processor's: a release would drop one that is not theirs).
      if (options.control === 'cdev')
        for (const name of names) if (settings(name).policy === 'exclusive' && !fds.has(name)) open(name);
      const { reconcile, graceMs, pollMs } = scenario.monitor;
      const base: SupervisorConfig = {
        recoverCrashed: options.recoverCrashed,
        reconcile,
        graceMs,
        restarted,
      };
      p.onDeath.push(() => sup.stop());
      sup = runSupervisor({
        processors: names,
        config: base,
        configFor: (name) => {
          const s = settings(name);
          // No boot timeout in the simulation: its clients do not wait for an answer.
          return {
            ...base,
            policy: s.policy,
            offGraceMs: s.offGraceMs,
            stopAckTimeoutMs: s.stopAckTimeoutMs,
            ...(s.firmware ? { firmware: s.firmware } : {}),
            ...(s.crashLimit ? { crashLimit: s.crashLimit } : {}),
          };
        },
        driver: monitorDriver(world, p, options, fds, open, store),
        clock: p.clock,
        pollMs,
        ...(world.inspect ? { inspect: world.inspect } : {}),
        onLog: (processor, e) => log(`monitor.${e.event}`, processor, e.data),
        onNotify: (processor, event, ids) => {
          log(`monitor.${event}`, processor);
          for (const id of ids) holders.get(id)?.conn.send(self, { op: event, processor });
        },
        onLeasesFailed: (processor, ids, error) => {
          for (const id of ids) {
            const h = holders.get(id);
            if (!h) continue;
            log('lease.failed', h.client, { processor, errno: error.code });
            h.conn.send(self, { op: 'refused', processor, code: error.code });
            sup.send(processor, id, 'lease.release');
          }
        },
        // The simulated clients neither subscribe nor acknowledge: a v1 client's part. An announced
        // stop waits for its lease holders (none after a last release) until stopAckTimeoutMs.
        onStopping: (processor, reason, ms, ids) => {
          log('monitor.stopping.told', processor, { reason, ms, parties: ids.length });
          return ids;
        },
        onLeasesLost: (processor, ids, reason) => {
          for (const id of ids) {
            const h = holders.get(id);
            if (h) h.conn.send(self, { op: 'lease.lost', processor, reason });
          }
        },
        onFailed: (processor, action) => log('monitor.processor.failed', processor, { action }),
        // The crash limit's exit: the monitor exits, and init restarts it as its restart settings say.
        onExit: () => self.exit('crash-limit'),
        onLeaseEnd: (processor, id, end) => {
          const h = holders.get(id);
          if (!h) return;
          holders.delete(id);
          log(`lease.${end}`, h.client, { processor });
          if (end === 'expired') h.conn.send(self, { op: 'lease.expired', processor });
          leases.get(h.conn)?.delete(h.key);
        },
        ...(options.uevents
          ? {
              uevents: (listener) =>
                twin.onUevent((i, action) => self.run(() => listener(twin.processor(i).name, action))),
            }
          : {}),
      });
      onStart({
        view: () => ({
          // Waiting leases as placeholders: lease ids differ between otherwise equal states.
          cores: Object.fromEntries(
            names.map((n) => {
              const core = sup.core(n);
              return [n, { ...core, waiting: core.waiting.map(() => 'lease') }];
            }),
          ),
          leases: [...holders]
            .flatMap(([id, h]) => {
              const lease = leaseChildren(sup.processor(h.processor)).get(id);
              return lease
                ? [`${h.key}:${JSON.stringify((lease.getSnapshot() as { value: unknown }).value)}`]
                : [];
            })
            .sort(),
        }),
      });
    },
    message(_p, conn, raw) {
      const msg = raw as MonitorMessage;
      if (msg.op === 'acquire') {
        const core = sup.core(msg.processor);
        const admitted = admitLease(
          {
            ...settings(msg.processor),
            votes: core.votes,
            firmware: core.firmware,
            failed: core.failed,
          },
          msg.firmware,
        );
        if (!admitted.ok) {
          log('lease.refused', msg.client, { processor: msg.processor, errno: admitted.error.code });
          conn.send(self, { op: 'refused', processor: msg.processor, code: admitted.error.code });
          return;
        }
        const key = `${msg.client}/${msg.processor}`;
        const map = leases.get(conn) ?? new Map<string, string>();
        leases.set(conn, map);
        if (map.has(key)) return;
        const id = `lease-${nextLease++}`;
        map.set(key, id);
        holders.set(id, { conn, key, client: msg.client, processor: msg.processor });
        sup.acquire(
          { id, client: msg.client, processor: msg.processor, ttlMs: scenario.monitor.ttlMs },
          msg.firmware,
        );
        log('lease.granted', msg.client, { processor: msg.processor });
        conn.send(self, { op: 'granted', processor: msg.processor });
      } else if (msg.op === 'release') {
        const id = leases.get(conn)?.get(`${msg.client}/${msg.processor}`);
        if (id) sup.send(msg.processor, id, 'lease.release');
      } else if (msg.op === 'ping') {
        for (const id of leases.get(conn)?.values() ?? []) {
          const h = holders.get(id);
          if (h) sup.send(h.processor, id, 'lease.heartbeat');
        }
      }
    },
    eof(_p, conn) {
      for (const id of [...(leases.get(conn)?.values() ?? [])]) {
        const h = holders.get(id);
        if (h) sup.send(h.processor, id, 'lease.lost');
      }
      leases.delete(conn);
    },
  };
}
