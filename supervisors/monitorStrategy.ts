// sysfs-monitor and hybrid: one daemon (under init) counts client votes; clients talk to it over a socket.

import type { Connection, Program, SimProcess } from '../actors/os/SimOs.js';
import { shouldRestart } from '../machines/restartIntensity.js';
import type { StrategyName } from '../scenarios/scenarioSchema.js';
import type { World } from '../scenarios/World.js';
import { clientProcess, monitorRefs, releaseClient } from './clientProcess.js';
import {
  type MonitorMessage,
  type MonitorOptions,
  type MonitorView,
  monitorProgram,
} from './monitorProgram.js';

/** The view of the live monitor of `world`, if any. */
export const monitorViews = new WeakMap<World, () => MonitorView>();

import type { Strategy } from './Strategy.js';

/** A client's side of the lease protocol: connect, acquire, ping, reconnect after the monitor restarts. */
function clientProgram(world: World, id: string): { program: Program; handle: ClientHandle } {
  const { processor, heartbeatMs } = world.client(id);
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
    if (wants) conn.send(self, { op: 'acquire', client: id, processor } satisfies MonitorMessage);
  };
  const handle: ClientHandle = {
    acquire() {
      wants = true;
      if (conn) conn.send(self, { op: 'acquire', client: id, processor });
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
      if (msg.op === 'lease.expired' && wants) conn?.send(self, { op: 'acquire', client: id, processor });
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

const handles = new WeakMap<SimProcess, ClientHandle>();

const monitorStarters = new WeakMap<World, () => boolean>();

/** `init`: starts the monitor, restarts it on death by the scenario's delay and OTP intensity. */
function startInit(world: World, options: MonitorOptions): void {
  let history: number[] = [];
  let incarnation = 0;
  const spawnMonitor = () => {
    if (world.alive('monitor')) return;
    world.os.spawn(
      'monitor',
      monitorProgram(world, options, incarnation++ > 0, (h) => monitorViews.set(world, h.view)),
    );
  };
  const init = world.os.spawn('init', {});
  spawnMonitor();
  monitorStarters.set(world, () => {
    if (world.alive('monitor')) return false;
    spawnMonitor();
    return true;
  });
  world.os.onExit((p) => {
    const restart = world.scenario.monitor.restart;
    if (p.name !== 'monitor' || !restart || !init.alive) return;
    const verdict = shouldRestart(history, world.clock.now(), restart);
    history = verdict.history;
    if (!verdict.restart) {
      world.trace({
        source: 'process',
        type: 'init.gave-up',
        subject: 'monitor',
        data: { restarts: history.length },
      });
      return;
    }
    init.timer(restart.delayMs, spawnMonitor);
  });
}

function monitorStrategy(name: StrategyName, summary: string, options: MonitorOptions): Strategy {
  return {
    name,
    summary,
    start: (world) => startInit(world, options),
    startMonitor: (world) => monitorStarters.get(world)?.() ?? false,
    acquire(world, id) {
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
    release: (world, id) => releaseClient(world, id, (proc) => handles.get(proc)?.release()),
    expectedRefs: (world, p, n) => {
      // A live daemon holds one reference per processor it has votes for.
      const view = world.alive('monitor') ? monitorViews.get(world)?.() : undefined;
      if (view) return (view.cores[p]?.votes ?? 0) > 0 ? 1 : 0;
      // A dead one: hybrid's reference went with its descriptor (fail-safe); sysfs-monitor's stays.
      return options.control === 'cdev' ? 0 : monitorRefs(world, n);
    },
  };
}

/** One daemon counts votes over sockets and writes sysfs; its death orphans the processors. */
export const sysfsMonitor = monitorStrategy(
  'sysfs-monitor',
  'one daemon counts client votes (EOF on death) and writes sysfs; if it dies, nothing stops the processor',
  { control: 'sysfs', recoverCrashed: false, uevents: false },
);

/**
 * One daemon counts votes over sockets and itself holds /dev/remoteprocN with shutdown-on-release: the
 * kernel stops the processor if the daemon dies. An unwanted processor stuck in CRASHED (recovery
 * disabled) is recovered with `recover` and then stopped, since `stop` cannot leave CRASHED. Crashes
 * are seen through the uevents of the processor's rpmsg devices, not only by polling `state`.
 */
export const hybrid = monitorStrategy(
  'hybrid',
  'one daemon counts votes and holds the cdev with shutdown-on-release; if it dies, the kernel stops the processor',
  { control: 'cdev', recoverCrashed: true, uevents: true },
);
