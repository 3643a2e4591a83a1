// Model-based fault schedules (fast-check commands) over a larger system: 5 clients, 2 processors, hybrid.
// A failure shrinks to a short schedule and prints fast-check's seed and path, which replay it exactly.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkedBase, STEP_MS } from '../scenarios/explore/exploreWorld.js';
import type { TimelineEvent } from '../scenarios/scenarioSchema.js';
import { applyEvent, type StartedRun, startRun } from '../scenarios/startRun.js';

const CLIENTS = 5;
const PROCESSORS = 2;
const processorOf = (i: number) => `p${i % PROCESSORS}`;

/** What the clients want, as the model sees it. */
interface Model {
  wants: Set<number>;
}
type Real = StartedRun;
type Cmd = fc.Command<Model, Real>;

const act = (r: Real, e: Omit<TimelineEvent, 'at'>) =>
  applyEvent(r, { ...e, at: r.world.clock.now() } as TimelineEvent);

class Acquire implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => !m.wants.has(this.i);
  run(m: Model, r: Real) {
    m.wants.add(this.i);
    act(r, { acquire: `c${this.i}` });
  }
  toString = () => `acquire c${this.i}`;
}

class Release implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.wants.has(this.i);
  run(m: Model, r: Real) {
    m.wants.delete(this.i);
    act(r, { release: `c${this.i}` });
  }
  toString = () => `release c${this.i}`;
}

class Kill implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.wants.has(this.i);
  run(m: Model, r: Real) {
    m.wants.delete(this.i);
    act(r, { kill: `client:c${this.i}`, signal: 'SIGKILL' });
  }
  toString = () => `SIGKILL client:c${this.i}`;
}

class Crash implements Cmd {
  constructor(readonly p: number) {}
  check = () => true;
  run(_m: Model, r: Real) {
    act(r, { crash: `p${this.p}`, reason: 'watchdog' });
  }
  toString = () => `crash p${this.p}`;
}

/** The daemon is SIGKILLed and init starts it again at once. */
class RestartMonitor implements Cmd {
  check = () => true;
  run(_m: Model, r: Real) {
    act(r, { kill: 'monitor', signal: 'SIGKILL' });
    act(r, { start: 'monitor' });
  }
  toString = () => 'SIGKILL monitor; start monitor';
}

/** Time passes; then the daemon's votes, the processors and the kernel's counts must match the model. */
class Step implements Cmd {
  check = () => true;
  run(m: Model, r: Real) {
    r.world.clock.advanceBy(STEP_MS);
    const view = r.run.monitor?.();
    for (let p = 0; p < PROCESSORS; p++) {
      const name = `p${p}`;
      const wanting = [...m.wants].filter((i) => processorOf(i) === name).length;
      const ctx = r.world.twin.processor(p).context;
      expect(view?.cores[name]?.votes ?? 0, `${name} votes`).toBe(wanting);
      expect(ctx.state, `${name} state`).toBe(wanting > 0 ? 'running' : 'offline');
      expect(ctx.power, `${name} power`).toBe(wanting > 0 ? 1 : 0);
    }
  }
  toString = () => 'step';
}

const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const commands = fc.commands(
  [
    client.map((i) => new Acquire(i)),
    client.map((i) => new Release(i)),
    client.map((i) => new Kill(i)),
    fc.integer({ min: 0, max: PROCESSORS - 1 }).map((p) => new Crash(p)),
    fc.constant(new RestartMonitor()),
    fc.constant(new Step()),
  ],
  { maxCommands: 40 },
);

describe('hybrid under random fault schedules (5 clients, 2 processors)', () => {
  it('should keep the monitor’s votes, the processors and the kernel counts equal to the model after every step', () => {
    const base = checkedBase({
      strategy: 'hybrid',
      clients: CLIENTS,
      processors: PROCESSORS,
      kernel: '5.19',
    });
    fc.assert(
      fc.property(commands, (cmds) => {
        const real = startRun(base, 'hybrid');
        const { world } = real;
        fc.modelRun(() => ({ model: { wants: new Set<number>() }, real }), [...cmds, new Step()]);
        world.twin.stop();
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 60) },
    );
  }, 60_000);
});
