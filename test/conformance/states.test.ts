// Conformance: kernel-semantics §1.2, the transition table (mainline rows, run on every profile).

import { describe } from 'vitest';
import { conformance, op } from './harness.js';

const detached = [{ name: 'm4', initial: 'detached' as const }];
const R = 'running\n';

describe('§1.2 transitions', () => {
  conformance([
    {
      section: '§1.2 T1',
      title: 'boot an offline processor on start, power 0 → 1',
      ops: [op.read(), op.start(), op.read(), op.power()],
      expect: ['offline\n', 'ok', R, 1],
    },
    {
      section: '§1.2 T1e',
      title: 'roll the count back and stay offline when the boot fails',
      processors: [{ name: 'm4', firmwareMissing: true }],
      ops: [op.start(), op.read(), op.power()],
      expect: ['ENOENT', 'offline\n', 0],
    },
    {
      section: '§1.2 T2',
      title: 'attach a detached processor on start (it reads running before v5.13)',
      processors: detached,
      ops: [op.read(), op.start(), op.read(), op.power()],
      expect: {
        '5.9': ['detached\n', 'ok', R, 1],
        '5.13': ['detached\n', 'ok', 'attached\n', 1],
        '5.19': ['detached\n', 'ok', 'attached\n', 1],
      },
    },
    {
      section: '§1.2 T3',
      title: 'count a start on a crashed processor without booting it',
      processors: [{ name: 'm4', recovery: 'disabled' }],
      ops: [op.start(), op.crash(), op.start(), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'crashed\n', 2],
    },
    {
      section: '§1.2 T3',
      title: 'count a start on a running processor on 5.19 (EBUSY from the layer before)',
      ops: [op.start(), op.start(), op.read(), op.power()],
      expect: { '5.9': ['ok', 'EBUSY', R, 1], '5.13': ['ok', 'EBUSY', R, 1], '5.19': ['ok', 'ok', R, 2] },
    },
    {
      section: '§1.2 T4',
      title: 'stop a running processor when the count reaches 0',
      ops: [op.start(), op.stop(), op.read(), op.power()],
      expect: ['ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§1.2 T4b',
      title: 'keep running when a stop leaves the count above 0',
      // Stack a second reference the way every profile allows: a start during recovery passes the
      // layer's lock-free check (state crashed), then waits for the lock and finds the count at 1.
      ops: [op.start(), op.crash(), op.start(), op.power(), op.stop(), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 2, 'ok', R, 1],
    },
    {
      section: '§1.2 T4e',
      title: 'restore the count when the driver cannot stop (the write succeeds before v5.18: void)',
      processors: [{ name: 'm4', canStop: false }],
      ops: [op.start(), op.stop(), op.read(), op.power()],
      expect: { '5.9': ['ok', 'ok', R, 1], '5.13': ['ok', 'ok', R, 1], '5.19': ['ok', 'EINVAL', R, 1] },
    },
    {
      section: '§1.2 T5',
      title: 'detach an attached processor, leaving it running as detached',
      processors: detached,
      ops: [op.start(), op.write('state', 'detach'), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'EINVAL', R, 1],
        '5.13': ['ok', 'ok', 'detached\n', 0],
        '5.19': ['ok', 'ok', 'detached\n', 0],
      },
    },
    {
      section: '§1.2 T5b',
      title: 'stay attached when a detach leaves the count above 0',
      profiles: ['5.19', '7.3'],
      processors: detached,
      ops: [op.start(), op.start(), op.write('state', 'detach'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'attached\n', 1],
    },
    {
      section: '§1.2 T6',
      title: 'mark a running processor crashed when recovery is disabled',
      processors: [{ name: 'm4', recovery: 'disabled' }],
      ops: [op.start(), op.crash(), op.read(), op.power()],
      expect: ['ok', 'ok', 'crashed\n', 1],
    },
    {
      section: '§1.2 T6',
      title: 'mark a detached processor crashed',
      processors: [{ name: 'm4', initial: 'detached', recovery: 'disabled' }],
      ops: [op.crash(), op.read(), op.power()],
      expect: ['ok', 'crashed\n', 0],
    },
    {
      section: '§1.2 T6, T7',
      // Found by the property test: T6 lets a detached processor (count 0) crash, and T7 boots it.
      title:
        'boot a crashed detached processor on recovery with a count of 0, so a stop returns 0 and leaves it running',
      processors: [{ name: 'm4', initial: 'detached' }],
      ops: [op.crash(), op.advance(120), op.read(), op.power(), op.stop(), op.read(), op.power()],
      expect: ['ok', 'ok', R, 0, 'ok', R, -1],
    },
    {
      section: '§1.2 T7',
      title: 'recover by booting: crashed, then offline, then running, with the same count',
      ops: [
        op.start(),
        op.crash(),
        op.read(),
        op.advance(20),
        op.read(),
        op.advance(100),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'crashed\n', 'ok', 'offline\n', 'ok', R, 1],
    },
    {
      section: '§1.2 T7a',
      title: 'recover by attaching when the driver has ATTACH_ON_RECOVERY: detached, then attached',
      profiles: ['5.19', '7.3'],
      processors: [{ name: 'm4', initial: 'detached', attachOnRecovery: true, attachMs: 10 }],
      ops: [
        op.start(),
        op.crash(),
        op.read(),
        op.advance(10),
        op.read(),
        op.advance(10),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'crashed\n', 'ok', 'detached\n', 'ok', 'attached\n', 1],
    },
    {
      section: '§1.2 T7e',
      title: 'end a recovery whose firmware load fails offline with the count still held',
      // Attached processors load no firmware, so the first load is the recovery's.
      processors: [{ name: 'm4', initial: 'detached', firmwareMissing: true }],
      ops: [op.start(), op.crash(), op.advance(200), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'offline\n', 1],
    },
    {
      section: '§1.2 T8',
      title: 'stop a running processor once and mark it deleted on unbind (v5.9: only auto-boot ones)',
      ops: [op.start(), op.unbind(), op.power(), op.read()],
      expect: {
        '5.9': ['ok', 'ok', 1, 'ENOENT'],
        '5.13': ['ok', 'ok', 0, 'ENOENT'],
        '5.19': ['ok', 'ok', 0, 'ENOENT'],
      },
    },
    {
      section: '§1.2 T8',
      title:
        'leave a crashed processor powered on unbind from 5.19 (the core refuses to stop it; 7.3 stops it)',
      processors: [{ name: 'm4', recovery: 'disabled', autoBoot: true }],
      ops: [op.advance(100), op.crash(), op.unbind(), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 0],
        '5.13': ['ok', 'ok', 'ok', 0],
        '5.19': ['ok', 'ok', 'ok', 1],
        '7.3': ['ok', 'ok', 'ok', 0],
      },
    },
    {
      section: '§1.2 T9',
      title: 'register in the state the driver set',
      processors: [{ name: 'm4' }, { name: 'r5', initial: 'detached' }],
      ops: [op.read(), { op: 'sysfs.read', rproc: 'r5', attr: 'state' }],
      expect: ['offline\n', 'detached\n'],
    },
    {
      section: '§1.2 T10',
      title: 'auto-boot an offline processor once its firmware is there, with a reference nobody owns',
      processors: [{ name: 'm4', autoBoot: true }],
      ops: [op.read(), op.advance(100), op.read(), op.power()],
      expect: ['offline\n', 'ok', R, 1],
    },
    {
      section: '§1.2 T10',
      title: 'auto-attach a detached processor at registration',
      processors: [{ name: 'm4', initial: 'detached', autoBoot: true }],
      ops: [op.read(), op.power()],
      expect: { '5.9': [R, 1], '5.13': ['attached\n', 1], '5.19': ['attached\n', 1] },
    },
  ]);
});
