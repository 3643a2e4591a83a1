// sysfs-monitor and hybrid: one monitor process (under init) runs the supervisor; clients talk to it over a socket.

import type { Connection, Program, SimProcess } from '../../actors/os/SimOs.js';
import type { World } from '../../actors/World.js';
import { shouldRestart } from '../../machines/restartIntensity.js';
import { clientProcess, monitorRefs, releaseClient } from './clientProcess.js';
import { FdStore } from './fdStore.js';
import {
  type MonitorMessage,
  type MonitorOptions,
  type MonitorView,
  monitorProgram,
} from './monitorProgram.js';
import type { Strategy, StrategyName, StrategyRun } from './Strategy.js';

/** A client's side of the lease protocol: connect, acquire, ping, reconnect after the monitor restarts. */
function clientProgram(world: World, id: string): { program: Program; handle: ClientHandle } {
  const { processor, heartbeatMs, firmware } = world.client(id);
  const acquire = { op: 'acquire', client: id, processor, ...(firmware ? { firmware } : {}) } as const;
  const { reconnectMs } = world.scenario.monitor;
  let conn: Connection | null = null;
  let wants = false;
  let self: SimProcess;
  const connect = () => {
    if (conn || !self.alive) return;
    const monitor = world.alive('monitor');
    if (!monitor) {
      self.timer(reconnectMs, connect);
      return;
    }
    conn = world.os.connect(self, monitor);
    if (wants) conn.send(self, acquire satisfies MonitorMessage);
  };
  const handle: ClientHandle = {
    acquire() {
      wants = true;
      if (conn) conn.send(self, acquire);
      else connect();
    },
    release() {
      wants = false;
      conn?.send(self, { op: 'release', client: id, processor });
    },
  };
  const program: Program = {
    start(p) {
      self = p;
      if (heartbeatMs) p.every(heartbeatMs, () => conn?.send(self, { op: 'ping' }));
    },
    message(_p, _c, raw) {
      const msg = raw as MonitorMessage;
      if (msg.op === 'processor.crashed' || msg.op === 'processor.recovered')
        world.notice(id, msg.processor, msg.op);
      // The monitor let the lease expire (no heartbeat within ttlMs): claim it again if still wanted.
      if (msg.op === 'lease.expired' && wants) conn?.send(self, acquire);
    },
    eof() {
      conn = null;
      self.timer(reconnectMs, connect);
    },
    terminate(p) {
      world.want(id, false);
      if (wants) conn?.send(p, { op: 'release', client: id, processor });
      p.exit('SIGTERM');
    },
  };
  return { program, handle };
}

interface ClientHandle {
  acquire(): void;
  release(): void;
}

/**
 * One run of a monitor strategy: init, the live monitor's handle, each client incarnation's protocol
 * side. With `fdStore`, init keeps the monitor's cdev descriptors while it restarts the monitor
 * ({@link FdStore}) and drops them when it stops restarting it.
 */
function startMonitorRun(world: World, options: MonitorOptions, fdStore = false): StrategyRun {
  const handles = new Map<SimProcess, ClientHandle>();
  let view: (() => MonitorView) | null = null;
  let history: number[] = [];
  let incarnation = 0;
  const monitor = () => (world.alive('monitor') && view ? view() : null);
  // init: starts the monitor, restarts it on death by the scenario's delay and OTP intensity.
  const init = world.os.spawn('init', {});
  const store = fdStore ? new FdStore(world, init) : null;
  /** init's restart due (fd store runs only: a monitor started by hand meanwhile makes it a no-op). */
  let due: unknown = null;
  const spawnMonitor = () => {
    due = null;
    if (world.alive('monitor')) return;
    world.os.spawn(
      'monitor',
      monitorProgram(
        world,
        options,
        incarnation++ > 0,
        (h) => {
          view = h.view;
        },
        store,
      ),
    );
  };
  spawnMonitor();
  world.os.onExit((p) => {
    const restart = world.scenario.monitor.restart;
    if (p.name !== 'monitor') return;
    // No restart to come (Restart=no, or init itself gone): the fd store goes with the unit.
    if (!restart || !init.alive) return store?.drop('no-restart');
    const verdict = shouldRestart(history, world.clock.now(), restart);
    history = verdict.history;
    if (!verdict.restart) {
      world.trace({
        source: 'process',
        type: 'init.gave-up',
        subject: 'monitor',
        data: { restarts: history.length },
      });
      if (store) {
        // The unit failed (StartLimitBurst): no restart still due, and the descriptors are closed.
        if (due !== null) init.clock.clearTimeout(due);
        due = null;
        store.drop('restart-limit');
      }
      return;
    }
    const id = init.timer(restart.delayMs, spawnMonitor);
    if (store) due = id;
  });
  return {
    startMonitor() {
      if (world.alive('monitor')) return false;
      spawnMonitor();
      return true;
    },
    acquire(id) {
      let handle: ClientHandle | undefined;
      const proc = clientProcess(world, id, () => {
        const made = clientProgram(world, id);
        handle = made.handle;
        return made.program;
      });
      if (handle) handles.set(proc, handle);
      proc.run(() => {
        world.want(id, true);
        handles.get(proc)?.acquire();
      });
    },
    release: (id) => releaseClient(world, id, (proc) => handles.get(proc)?.release()),
    expectedRefs: (p, n) => {
      // A live monitor holds one reference per processor it has votes for.
      const v = monitor();
      if (v) return (v.cores[p]?.votes ?? 0) > 0 ? 1 : 0;
      // A dead one: hybrid's reference went with its descriptor (fail-safe), unless init's fd store
      // keeps the descriptor; sysfs-monitor's stays.
      return options.control === 'cdev' && !store?.has(p) ? 0 : monitorRefs(world, n);
    },
    monitor,
    ...(store
      ? {
          init: () => {
            const now = world.clock.now();
            return { due: due !== null, restarts: history.map((t) => now - t), stored: store.names() };
          },
        }
      : {}),
  };
}

function monitorStrategy(
  name: StrategyName,
  summary: string,
  options: MonitorOptions,
  fdStore = false,
): Strategy {
  return { name, summary, start: (world) => startMonitorRun(world, options, fdStore) };
}

/** One monitor counts votes over sockets and writes sysfs; its death orphans the processors. */
export const sysfsMonitor = monitorStrategy(
  'sysfs-monitor',
  'one monitor counts client votes (EOF on death) and writes sysfs; if it dies, nothing stops the processor',
  { control: 'sysfs', recoverCrashed: false, uevents: false },
);

/**
 * One monitor counts votes over sockets and itself holds /dev/remoteprocN with shutdown-on-release: the
 * kernel stops the processor if the monitor dies. An unwanted processor stuck in CRASHED (recovery
 * disabled) is recovered with `recover` and then stopped, since `stop` cannot leave CRASHED. Crashes
 * are seen through the uevents of the processor's rpmsg devices, not only by polling `state`.
 */
export const hybrid = monitorStrategy(
  'hybrid',
  'one monitor counts votes and holds the cdev with shutdown-on-release; if it dies, the kernel stops the processor',
  { control: 'cdev', recoverCrashed: true, uevents: true },
);

/**
 * hybrid, with init keeping the monitor's /dev/remoteprocN descriptors in its fd store (systemd's
 * `FDSTORE=1`, `FileDescriptorStoreMax=`): a monitor that dies and is restarted leaves its processors
 * running, and the restarted monitor takes the descriptors back and reconciles them. When init stops
 * restarting it (no restart configured, or more than `intensity` restarts within `periodMs`:
 * StartLimitBurst/StartLimitIntervalSec) it closes them, and the kernel stops the processors as it
 * does for hybrid. The same monitor and supervisor core as hybrid: only init differs.
 */
export const hybridFdStore = monitorStrategy(
  'hybrid-fdstore',
  "hybrid, and init keeps the monitor's cdev descriptors across its restarts; past init's restart limit it closes them and the kernel stops the processor",
  { control: 'cdev', recoverCrashed: true, uevents: true },
  true,
);
