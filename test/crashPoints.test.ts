// The crash-point sweep: the daemon SIGKILLed at each step of acquire, boot, release, stop and restart, restarted with and without its stored descriptors.

import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CRASH_STEPS } from '../actors/crashPoint.js';
import { DaemonClient } from '../actors/daemon/DaemonClient.js';
import { firstProcessor, okReply } from './okReply.js';
import { board, children, exitOf, service } from './systemdBoard.js';
import { cannotMount, warnIfSkipped } from './twinMountCheck.js';
import { until } from './wait.js';

warnIfSkipped('test/crashPoints.test.ts');

/** The grace of the sweep's daemons: the documented bound on a processor left running for nobody. */
const GRACE_MS = 500;

const killedBySigkill = async (c: ChildProcess) => {
  await exitOf(c);
  return c.signalCode;
};

describe.skipIf(cannotMount)(
  'crash-point sweep (cdev on the mounted twin, under the test service manager)',
  () => {
    for (const step of CRASH_STEPS)
      for (const stored of [true, false])
        it(`should leave nothing running for nobody after a SIGKILL at "${step}", restarted ${stored ? 'with' : 'without'} stored descriptors`, async () => {
          const b = await board();
          const { m, socket, start, args } = service(b.twin, ['--resume-grace-ms', String(GRACE_MS)]);
          const crash = { RPROC_SUPERVISOR_CRASH_AT: step };
          // The first incarnation, killed at `step` (for `restart`: killed, then its successor killed as it takes the descriptors back).
          const d1 = await start(false, step === 'restart' ? {} : crash);
          const c = await DaemonClient.connect(socket);
          let told = false;
          c.on('close', () => {
            told = true;
          });
          const acquired = c.request({ op: 'acquire', processor: 'm4', client: 'sweep' });
          if (step === 'release' || step === 'stop' || step === 'restart') {
            const lease = okReply(await acquired).lease;
            if (step === 'restart') d1.child.kill('SIGKILL');
            else void c.request({ op: 'release', lease });
          }
          expect(await killedBySigkill(d1.child)).toBe('SIGKILL');
          if (step === 'restart') {
            const d2 = m.launch(args, { stored: true, env: { FDSTORE: '8', ...crash } });
            children.push(d2);
            expect(await killedBySigkill(d2)).toBe('SIGKILL');
          }
          // Past the boot, m4 ran when the daemon died: what the restart has to deal with.
          if (step !== 'acquire') expect(b.states).toContain('running');
          // Every client told: its connection ended (hold and DaemonClient read that as daemon-gone).
          await until(() => told, 5000);
          // The service manager restarts it (or the store was closed: the unit stopped in between).
          if (!stored) m.closeStore();
          const t0 = Date.now();
          const d3 = await start(stored);
          await until(async () => (await firstProcessor(b.twinSocket))?.state === 'offline', GRACE_MS + 5000);
          const stoppedAfter = Date.now() - t0;
          // No processor left running for nobody beyond the grace (plus a loaded machine's slack), no reference leaked.
          expect(stoppedAfter).toBeLessThan(GRACE_MS + 5000);
          expect(await b.power()).toBe(0);
          // The restarted daemon serves: a new acquire boots m4 once, with one reference.
          const c2 = await DaemonClient.connect(socket);
          okReply(await c2.request({ op: 'acquire', processor: 'm4' }));
          expect(await b.power()).toBe(1);
          c2.close();
          await until(async () => (await b.power()) === 0, 5000);
          d3.child.kill('SIGTERM');
          await exitOf(d3.child);
          m.closeStore();
          c.close();
        });
  },
);
