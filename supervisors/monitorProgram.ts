// The monitor daemon of sysfs-monitor and hybrid: leases per connection, a supervisor machine, an executor.

import { type Actor, createActor } from 'xstate';
import { RPROC_SET_SHUTDOWN_ON_RELEASE } from '../actors/kernel/cdevCommand.js';
import { PendingCall } from '../actors/kernel/PendingCall.js';
import type { Connection, Program, SimProcess } from '../actors/os/SimOs.js';
import { ok } from '../machines/errno.js';
import { leaseMachine } from '../machines/leaseMachine.js';
import { isPoweredState, isRunningState } from '../machines/powered.js';
import { profileFeatures } from '../machines/profile.js';
import type { KernelState } from '../machines/rprocTypes.js';
import { supervisorMachine } from '../machines/supervisorMachine.js';
import type { World } from '../scenarios/World.js';

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
  | { op: 'acquire'; client: string; processor: string }
  | { op: 'release'; client: string; processor: string }
  | { op: 'ping' }
  | { op: 'granted'; processor: string }
  | { op: 'lease.expired'; processor: string }
  | { op: 'processor.crashed' | 'processor.recovered'; processor: string };

/** A stop that leaves references (auto-boot, kernel clients) is repeated, at most this often. */
const MAX_STOPS = 8;

/** What a monitor holds, as data: for exploration's state encoding and for inspection. */
export interface MonitorView {
  phase: string;
  votes: Record<string, number>;
  leases: string[];
  desired: Record<string, string>;
  busy: string[];
  holds: string[];
}

/** The view of the live monitor of `world`, if any. */
export const monitorViews = new WeakMap<World, () => MonitorView>();

/** The monitor daemon's program. `restarted` is true for every incarnation after the first. */
export function monitorProgram(world: World, options: MonitorOptions, restarted: boolean): Program {
  const { scenario, twin } = world;
  const names = scenario.processors.map((p) => p.name);
  const leases = new Map<Connection, Map<string, Actor<typeof leaseMachine>>>();
  const fds = new Map<string, number>();
  const busy = new Set<string>();
  /** Processors this incarnation holds a reference on (it started or adopted them, and has not stopped them). */
  const holds = new Set<string>();
  /** Processors this monitor is stopping: their uevents are its own doing. */
  const stopping = new Set<string>();
  const desired = new Map<string, 'running' | 'offline'>();
  let sup: Actor<typeof supervisorMachine>;
  let self: SimProcess;
  let nextLease = 1;

  const state = (p: string): KernelState | 'gone' => {
    const r = twin.sysfsRead(world.index(p), 'state');
    return r.ok ? (r.value.trim() as KernelState) : 'gone';
  };
  // The daemon's threads may have several calls under way; its death waits for them all.
  const write = (p: string, cmd: 'start' | 'stop'): PendingCall<number> => {
    const fd = fds.get(p);
    return self.track(
      options.control === 'cdev' && fd !== undefined
        ? twin.cdevWrite(self.pid, fd, cmd)
        : twin.sysfsWrite(world.index(p), 'state', `${cmd}\n`),
    );
  };
  /**
   * A call that takes `rproc->lock` and changes nothing, so it returns after every command queued before
   * it: `recover` on a processor that is not crashed (kernel-semantics §3.3). Before v5.10 there is no
   * sysfs `recovery`; the `firmware` store takes the lock too, and rewriting the same name is harmless.
   */
  const barrier = (p: string): PendingCall<number> => {
    const i = world.index(p);
    if (profileFeatures(scenario.kernel).sysfsRecoveryAndCoredump)
      return self.track(twin.sysfsWrite(i, 'recovery', 'recover\n'));
    const fw = twin.sysfsRead(i, 'firmware');
    if (!fw.ok) return PendingCall.settled<number>(fw);
    if (fw.value === 'unknown\n') return PendingCall.settled(ok(0));
    return self.track(twin.sysfsWrite(i, 'firmware', fw.value));
  };
  const log = (type: string, p: string, data?: Record<string, unknown>) =>
    world.trace({ source: 'strategy', type, subject: p, ...(data ? { data } : {}) });

  // The executor: one operation per processor at a time; the latest wish wins.
  // Decisions wait for the messages that arrived at the same instant (a socket drained before acting), so
  // a release and an acquire that cross are one decision, not a stop then a start.
  const scheduled = new Set<string>();
  const ensure = (p: string, want: 'running' | 'offline') => {
    desired.set(p, want);
    if (busy.has(p) || scheduled.has(p)) return;
    scheduled.add(p);
    self.timer(0, () => {
      scheduled.delete(p);
      act(p);
    });
  };
  const act = (p: string) => {
    const want = desired.get(p);
    if (!want || busy.has(p)) return;
    busy.add(p);
    const done = () =>
      self.run(() => {
        busy.delete(p);
        const next = desired.get(p);
        if (next && next !== want) ensure(p, next);
      });
    if (want === 'running') {
      // One reference per processor: a `start` on 5.19 would stack a second one, even mid-recovery.
      if (holds.has(p)) {
        done();
        return;
      }
      const start = () => {
        log('monitor.start', p);
        write(p, 'start').onSettled((r) => {
          if (!r.ok) log('monitor.start-failed', p, { errno: r.error.code });
          else {
            holds.add(p);
            if (state(p) === 'offline') log('monitor.wedged', p);
          }
          done();
        });
      };
      const adopt = (s: string) => {
        log('monitor.adopt', p, { state: s });
        holds.add(p);
        done();
      };
      const s = state(p);
      if (s === 'crashed') return adopt(s);
      if (!isRunningState(s)) return start();
      // `state` reads running while a stop is under way (a dead daemon's release, say): wait for the
      // lock with a call that does nothing to a healthy processor, then look again.
      barrier(p).onSettled(() =>
        self.run(() => {
          const now = state(p);
          if (isRunningState(now) || now === 'crashed') adopt(now);
          else start();
        }),
      );
      return;
    }
    let stops = 0;
    const step = (): void => {
      if (!self.alive) return;
      const s = state(p);
      if (!isPoweredState(s)) holds.delete(p);
      if (!isPoweredState(s) || desired.get(p) !== 'offline') {
        done();
        return;
      }
      if (s === 'crashed') {
        if (!options.recoverCrashed) {
          log('monitor.cannot-stop', p, { state: s });
          done();
          return;
        }
        log('monitor.recover-to-stop', p);
        self.track(twin.sysfsWrite(world.index(p), 'recovery', 'recover\n')).onSettled(() => self.run(step));
        return;
      }
      if (stops++ >= MAX_STOPS) {
        done();
        return;
      }
      log('monitor.stop', p);
      stopping.add(p);
      write(p, 'stop').onSettled(() => {
        stopping.delete(p);
        self.run(step);
      });
    };
    step();
  };

  const leaseEnded = (conn: Connection, key: string, processor: string) => {
    leases.get(conn)?.delete(key);
    if (self.alive) sup.send({ type: 'lease.ended', processor });
  };

  return {
    start(p) {
      self = p;
      monitorViews.set(world, () => ({
        phase: String(sup.getSnapshot().value),
        votes: sup.getSnapshot().context.votes,
        leases: [...leases.values()]
          .flatMap((m) => [...m.entries()].map(([k, l]) => `${k}:${JSON.stringify(l.getSnapshot().value)}`))
          .sort(),
        desired: Object.fromEntries(desired),
        busy: [...busy].sort(),
        holds: [...holds].sort(),
      }));
      if (options.control === 'cdev') {
        for (const name of names) {
          const fd = twin.cdevOpen(p.pid, world.index(name), { cloexec: true });
          if (!fd.ok) continue;
          fds.set(name, fd.value);
          twin.cdevIoctl(p.pid, fd.value, RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
        }
      }
      const { reconcile, graceMs, pollMs } = scenario.monitor;
      sup = createActor(supervisorMachine, {
        clock: world.clock,
        ...(world.inspect ? { inspect: world.inspect } : {}),
        input: { processors: names, reconcile, graceMs, restarted },
      });
      sup.on('supervisor.ensure', (e) => self.run(() => ensure(e.processor, e.want)));
      sup.on('supervisor.notify', (e) => {
        log(`monitor.${e.event}`, e.processor);
        for (const [conn, map] of leases) {
          for (const lease of map.values()) {
            if (lease.getSnapshot().context.processor === e.processor)
              conn.send(self, { op: e.event, processor: e.processor });
          }
        }
      });
      p.onDeath.push(() => {
        sup.stop();
        for (const map of leases.values()) for (const l of map.values()) l.stop();
      });
      sup.start();
      if (options.uevents) {
        const off = twin.onUevent((i, action) => {
          const name = twin.processor(i).name;
          if (!stopping.has(name))
            self.run(() => sup.send({ type: 'processor.uevent', processor: name, action }));
        });
        p.onDeath.push(off);
      }
      const poll = () => {
        for (const name of names) {
          const s = state(name);
          if (s !== 'gone') sup.send({ type: 'processor.observed', processor: name, state: s });
        }
      };
      poll();
      p.every(pollMs, poll);
    },
    message(_p, conn, raw) {
      const msg = raw as MonitorMessage;
      if (msg.op === 'acquire') {
        const key = `${msg.client}/${msg.processor}`;
        const map = leases.get(conn) ?? new Map<string, Actor<typeof leaseMachine>>();
        leases.set(conn, map);
        if (map.has(key)) return;
        const lease = createActor(leaseMachine, {
          clock: world.clock,
          ...(world.inspect ? { inspect: world.inspect } : {}),
          input: {
            id: `lease-${nextLease++}`,
            client: msg.client,
            processor: msg.processor,
            ttlMs: scenario.monitor.ttlMs,
          },
        });
        map.set(key, lease);
        lease.subscribe({
          complete: () => {
            // Stopping the actor (the monitor died) also completes it: that is no lease event.
            if (lease.getSnapshot().status !== 'done') return;
            const out = lease.getSnapshot().output;
            log(`lease.${out?.end ?? 'ended'}`, msg.client, { processor: msg.processor });
            if (out?.end === 'expired') conn.send(self, { op: 'lease.expired', processor: msg.processor });
            leaseEnded(conn, key, msg.processor);
          },
        });
        lease.start();
        lease.send({ type: 'lease.grant' });
        log('lease.granted', msg.client, { processor: msg.processor });
        sup.send({ type: 'lease.granted', processor: msg.processor });
        conn.send(self, { op: 'granted', processor: msg.processor });
      } else if (msg.op === 'release') {
        leases.get(conn)?.get(`${msg.client}/${msg.processor}`)?.send({ type: 'lease.release' });
      } else if (msg.op === 'ping') {
        for (const l of leases.get(conn)?.values() ?? []) l.send({ type: 'lease.heartbeat' });
      }
    },
    eof(_p, conn) {
      for (const l of [...(leases.get(conn)?.values() ?? [])]) l.send({ type: 'lease.lost' });
      leases.delete(conn);
    },
  };
}
