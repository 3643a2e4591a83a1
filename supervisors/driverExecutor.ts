// driverExecutor: carries out a supervisor's decisions on a driver — one operation per processor at a
// time, the latest wish wins; the async twin of the executor in supervisors/monitorProgram.ts.

import type { RprocDriver } from '../actors/drivers/RprocDriver.js';
import { isPoweredState, isRunningState } from '../machines/powered.js';

/** Options of {@link createDriverExecutor}. */
export interface DriverExecutorOptions {
  driver: RprocDriver;
  /** Get an unwanted processor out of CRASHED with `recover`, then stop it (hybrid). */
  recoverCrashed: boolean;
  /** Firmware to set before a start. */
  firmwareFor: (device: string) => string | undefined;
  log: (entry: { level: 'info' | 'warn'; msg: string; [k: string]: unknown }) => void;
}

/**
 * Makes processors reach what the supervisor wants. It holds one reference per processor: it adopts a
 * processor it finds running (after a lock barrier, since `state` reads running while a stop is under
 * way) instead of stacking a second `start`, and stops until `state` reads offline (a successful `stop`
 * need not stop anything, kernel-semantics §2).
 */
export function createDriverExecutor({ driver, recoverCrashed, firmwareFor, log }: DriverExecutorOptions) {
  const holds = new Set<string>();
  const busy = new Set<string>();
  const desired = new Map<string, 'running' | 'offline'>();
  const inflight = new Set<Promise<void>>();
  let closed = false;

  const bringUp = async (device: string) => {
    if (holds.has(device)) return;
    let s = await driver.state(device);
    if (s.ok && isRunningState(s.value)) {
      // `recover` on a healthy processor waits for the lock and does nothing (kernel-semantics §3.3).
      await driver.setRecovery(device, 'recover');
      s = await driver.state(device);
    }
    if (s.ok && (isRunningState(s.value) || s.value === 'crashed')) {
      log({ level: 'info', msg: 'adopt', processor: device, state: s.value });
      holds.add(device);
      return;
    }
    const fw = firmwareFor(device);
    if (fw) await driver.setFirmware(device, fw);
    const r = await driver.start(device);
    if (!r.ok) {
      log({
        level: 'warn',
        msg: 'start failed',
        processor: device,
        errno: r.error.code,
        detail: r.error.detail,
      });
      return;
    }
    holds.add(device);
    if (r.value === 'offline') {
      log({
        level: 'warn',
        msg: 'wedged: start succeeded but the processor stays offline',
        processor: device,
      });
    }
  };

  const bringDown = async (device: string) => {
    for (let i = 0; i < 8; i++) {
      const s = await driver.state(device);
      if (!s.ok || !isPoweredState(s.value)) {
        holds.delete(device);
        return;
      }
      if (desired.get(device) !== 'offline') return;
      if (s.value === 'crashed') {
        if (!recoverCrashed) {
          log({ level: 'warn', msg: 'cannot stop a crashed processor', processor: device });
          return;
        }
        await driver.setRecovery(device, 'recover');
        continue;
      }
      const r = await driver.stop(device);
      if (!r.ok) log({ level: 'warn', msg: 'stop failed', processor: device, errno: r.error.code });
    }
  };

  const act = async (device: string): Promise<void> => {
    const want = desired.get(device);
    if (!want || busy.has(device) || closed) return;
    busy.add(device);
    try {
      if (want === 'running') await bringUp(device);
      else await bringDown(device);
    } finally {
      busy.delete(device);
    }
    const next = desired.get(device);
    if (next && next !== want) ensure(device, next);
  };

  const ensure = (device: string, want: 'running' | 'offline') => {
    desired.set(device, want);
    if (busy.has(device)) return;
    const p = act(device).finally(() => inflight.delete(p));
    inflight.add(p);
  };

  return {
    ensure,
    /** Resolves when no operation is under way. */
    async idle() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
    /** Takes no more wishes. */
    close() {
      closed = true;
    },
  };
}
