// SimOs: simulated processes on the twin's clock — signals, frozen processes, Unix-socket-like connections, death.

import type { Result } from '../../machines/errno.js';
import type { KernelTwin } from '../kernel/KernelTwin.js';
import type { PendingCall } from '../kernel/PendingCall.js';
import type { TraceSink } from '../trace.js';
import type { TwinClock } from '../VirtualClock.js';

/** Signals a scenario can send. */
export const SIGNALS = ['SIGKILL', 'SIGTERM', 'SIGSTOP', 'SIGCONT'] as const;
/** One signal. */
export type Signal = (typeof SIGNALS)[number];

/** What a process does. Every hook is optional; code runs only while the process is alive and not frozen. */
export interface Program {
  start?(self: SimProcess): void;
  /** SIGTERM: clean up, then call `self.exit()` (now or later). Default: exit at once. */
  terminate?(self: SimProcess): void;
  message?(self: SimProcess, conn: Connection, msg: unknown): void;
  /** The peer of `conn` has gone (EOF). */
  eof?(self: SimProcess, conn: Connection): void;
}

/** A simulated process. Its pid is also its pid in the kernel twin, so its descriptors die with it. */
export class SimProcess {
  alive = true;
  frozen = false;
  exitReason: string | null = null;
  /** Work deferred while frozen: timers that fell due, messages that arrived. */
  readonly deferred: Array<() => void> = [];
  readonly timers = new Set<unknown>();
  termPending = false;
  /** Runtime cleanup at death (stops the process's actors); not program code, so it runs even on SIGKILL. */
  readonly onDeath: Array<() => void> = [];
  /** System calls under way in the kernel (a `start` booting): death waits for them, as a real task's does. */
  readonly inflight = new Set<PendingCall<unknown>>();
  /** Killed, but not gone: its descriptors close once `inflight` is empty. */
  exiting = false;
  #queue: Array<() => void> = [];
  #busy = false;

  constructor(
    readonly os: SimOs,
    readonly pid: number,
    readonly name: string,
    readonly program: Program,
    readonly parent: SimProcess | null,
  ) {}

  /** Runs `fn` after `ms`, if the process is still alive; a frozen process runs it when continued. */
  timer(ms: number, fn: () => void): unknown {
    const id = this.os.clock.setTimeout(() => {
      this.timers.delete(id);
      this.run(fn);
    }, ms);
    this.timers.add(id);
    return id;
  }

  /**
   * The process's own clock: what its timers (and those of the actors it runs) see. A timer runs only
   * while the process is alive, and waits while it is frozen, as a real process's timers do.
   */
  readonly clock: TwinClock = {
    setTimeout: (fn, ms) => this.timer(ms, fn),
    clearTimeout: (id) => {
      this.os.clock.clearTimeout(id);
      this.timers.delete(id);
    },
    now: () => this.os.clock.now(),
  };

  /** Runs `fn` every `ms` while alive (not while frozen). */
  every(ms: number, fn: () => void): void {
    const tick = () => {
      fn();
      this.timer(ms, tick);
    };
    this.timer(ms, tick);
  }

  /** Runs `fn` now, later if frozen, never if dead. */
  run(fn: () => void): void {
    if (!this.alive) return;
    if (this.frozen) this.deferred.push(fn);
    else fn();
  }

  /**
   * Registers a system call this process made: its death (fds closed, EOF to peers) waits until the call
   * returns, because a task runs its own syscall to the end before it acts on a fatal signal.
   */
  track<T>(call: PendingCall<T>): PendingCall<T> {
    if (call.settled) return call;
    this.inflight.add(call as PendingCall<unknown>);
    call.onSettled(() => {
      this.inflight.delete(call as PendingCall<unknown>);
      if (this.exiting && this.inflight.size === 0) this.os.finishExit(this);
    });
    return call;
  }

  /**
   * Makes the system calls of `fn` after the ones already issued have returned, as one thread does; then
   * runs `then` with the result. Nothing runs once the process is dead.
   */
  syscall<T>(fn: () => PendingCall<T>, then?: (result: Result<T>) => void): void {
    const go = () => {
      if (!this.alive) return;
      this.#busy = true;
      this.track(fn()).onSettled((r) => {
        this.#busy = false;
        if (this.alive) then?.(r);
        this.#queue.shift()?.();
      });
    };
    if (this.#busy) this.#queue.push(go);
    else go();
  }

  /** Exits normally (or after a signal's cleanup). */
  exit(reason = 'exit'): void {
    this.os.reap(this, reason);
  }
}

/** A connected pair of endpoints, like a Unix stream socket: either side's death is the other's EOF. */
export class Connection {
  open = true;
  constructor(
    readonly os: SimOs,
    readonly client: SimProcess,
    readonly server: SimProcess,
  ) {}

  /** The other end, seen from `self`. */
  peer(self: SimProcess): SimProcess {
    return self === this.client ? this.server : this.client;
  }

  /** Sends `msg` from `from` to the other end; delivered in order, through the clock, unless closed. */
  send(from: SimProcess, msg: unknown): void {
    if (!this.open || !from.alive) return;
    const to = this.peer(from);
    this.os.clock.setTimeout(() => {
      if (this.open) to.run(() => to.program.message?.(to, this, msg));
    }, 0);
  }

  /** Closes both ends; the peer of `by` sees EOF. */
  close(by: SimProcess): void {
    if (!this.open) return;
    this.open = false;
    this.os.connections.delete(this);
    const to = this.peer(by);
    this.os.clock.setTimeout(() => to.run(() => to.program.eof?.(to, this)), 0);
  }
}

/**
 * The process table. Death, by any cause, closes the process's kernel descriptors (the twin runs the
 * releases), closes its connections (peers see EOF) and tells `onExit` listeners.
 */
export class SimOs {
  readonly processes = new Map<number, SimProcess>();
  readonly connections = new Set<Connection>();
  #nextPid = 100;
  #exitListeners: Array<(p: SimProcess) => void> = [];

  constructor(
    readonly clock: TwinClock,
    readonly twin: KernelTwin,
    readonly trace: TraceSink,
  ) {}

  /** Starts a process running `program`. */
  spawn(name: string, program: Program, parent: SimProcess | null = null): SimProcess {
    const p = new SimProcess(this, this.#nextPid++, name, program, parent);
    this.processes.set(p.pid, p);
    this.trace({ source: 'process', type: 'process.start', subject: name, data: { pid: p.pid } });
    p.run(() => program.start?.(p));
    return p;
  }

  /**
   * `fork()` + `execve()` of a helper by `parent`: the child shares the parent's descriptors except the
   * O_CLOEXEC ones, and runs `program`.
   */
  forkExec(parent: SimProcess, name: string, program: Program): SimProcess {
    const pid = this.#nextPid++;
    this.twin.fork(parent.pid, pid);
    this.twin.exec(pid);
    const p = new SimProcess(this, pid, name, program, parent);
    this.processes.set(pid, p);
    this.trace({
      source: 'process',
      type: 'process.fork',
      subject: name,
      data: { pid, parent: parent.name },
    });
    p.run(() => program.start?.(p));
    return p;
  }

  /** The newest process called `name`, alive or not. */
  find(name: string): SimProcess | undefined {
    let found: SimProcess | undefined;
    for (const p of this.processes.values()) if (p.name === name) found = p;
    return found;
  }

  /** Opens a connection from `client` to `server`. */
  connect(client: SimProcess, server: SimProcess): Connection {
    const c = new Connection(this, client, server);
    this.connections.add(c);
    return c;
  }

  /** Calls `listener` after every process death. */
  onExit(listener: (p: SimProcess) => void): void {
    this.#exitListeners.push(listener);
  }

  /** Delivers `signal` to `p`, as the kernel would. */
  kill(p: SimProcess, signal: Signal): void {
    if (!p.alive) return;
    this.trace({ source: 'process', type: 'process.signal', subject: p.name, data: { signal } });
    switch (signal) {
      case 'SIGKILL':
        this.reap(p, 'SIGKILL');
        return;
      case 'SIGSTOP':
        p.frozen = true;
        return;
      case 'SIGCONT': {
        if (!p.frozen) return;
        p.frozen = false;
        for (const fn of p.deferred.splice(0)) p.run(fn);
        if (p.termPending) this.kill(p, 'SIGTERM');
        return;
      }
      case 'SIGTERM':
        // A stopped process keeps SIGTERM pending until it is continued.
        if (p.frozen) {
          p.termPending = true;
          return;
        }
        p.termPending = false;
        if (p.program.terminate) p.program.terminate(p);
        else this.reap(p, 'SIGTERM');
    }
  }

  /**
   * Death. The process runs no more code at once; its descriptors are closed by the kernel, its
   * connections closed and the listeners told when its system calls under way have returned.
   * Idempotent.
   */
  reap(p: SimProcess, reason: string): void {
    if (!p.alive) return;
    p.alive = false;
    p.exitReason = reason;
    for (const id of p.timers) this.clock.clearTimeout(id);
    p.timers.clear();
    p.deferred.length = 0;
    p.exiting = true;
    if (p.inflight.size === 0) this.finishExit(p);
    else
      this.trace({
        source: 'process',
        type: 'process.exiting',
        subject: p.name,
        data: { pid: p.pid, reason },
      });
  }

  /** The end of an exit: what the kernel does once the task has left its last system call. */
  finishExit(p: SimProcess): void {
    if (!p.exiting) return;
    p.exiting = false;
    const reason = p.exitReason ?? 'exit';
    this.trace({ source: 'process', type: 'process.exit', subject: p.name, data: { pid: p.pid, reason } });
    for (const fn of p.onDeath.splice(0)) fn();
    // The death is known before the kernel's releases run: a client no longer wants what they stop.
    for (const l of this.#exitListeners) l(p);
    this.twin.exit(p.pid);
    for (const c of [...this.connections]) if (c.client === p || c.server === p) c.close(p);
  }
}
