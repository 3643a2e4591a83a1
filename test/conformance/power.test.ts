// Conformance: kernel-semantics §2, the power reference count.

import { describe } from 'vitest';
import { conformance, op } from './harness.js';

const R = 'running\n';

describe('§2 power count', () => {
  conformance([
    {
      section: '§2 rproc_boot',
      // v5.13–v5.18 rproc_del shuts down with no state check: atomic_dec_and_test takes 0 to -1.
      title: 'return ENODEV to a start through a descriptor opened before unbind',
      ops: [op.open('a', 1), op.unbind(), op.cdev('a', 'start'), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'ENODEV', 0],
        '5.13': ['ok', 'ok', 'ENODEV', -1],
        '5.19': ['ok', 'ok', 'ENODEV', 0],
      },
    },
    {
      section: '§2 rproc_boot',
      title: 'add a reference without looking at the state once powered (a crashed processor stays crashed)',
      processors: [{ name: 'm4', recovery: 'disabled' }],
      ops: [op.start(), op.crash(), op.start(), op.start(), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'ok', 'crashed\n', 3],
    },
    {
      section: '§2 rproc_boot',
      title: 'decrement again when the boot fails',
      processors: [{ name: 'm4', firmwareMissing: true }],
      ops: [op.start(), op.start(), op.power()],
      expect: ['ENOENT', 'ENOENT', 0],
    },
    {
      section: '§2 rproc_shutdown',
      title: 'refuse to stop a processor that is not running or attached (7.3: or crashed)',
      processors: [{ name: 'm4', recovery: 'disabled' }],
      ops: [op.stop(), op.start(), op.crash(), op.stop(), op.power()],
      expect: {
        '5.9': ['EINVAL', 'ok', 'ok', 'EINVAL', 1],
        '5.13': ['EINVAL', 'ok', 'ok', 'EINVAL', 1],
        '5.19': ['EINVAL', 'ok', 'ok', 'EINVAL', 1],
        '7.3': ['EINVAL', 'ok', 'ok', 'ok', 0],
      },
    },
    {
      section: '§2 rproc_shutdown',
      title: 'return 0 and leave the processor running while references remain (5.19)',
      profiles: ['5.19', '7.3'],
      ops: [
        op.start(),
        op.start(),
        op.start(),
        op.stop(),
        op.stop(),
        op.read(),
        op.stop(),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'ok', 'ok', 'ok', R, 'ok', 'offline\n', 0],
    },
    {
      section: '§2 rproc_detach',
      title: 'refuse to detach a processor Linux booted',
      ops: [op.start(), op.write('state', 'detach'), op.read(), op.power()],
      expect: ['ok', 'EINVAL', R, 1],
    },
    {
      section: '§2 auto_boot',
      title:
        'hold the auto-boot reference for nobody: a user start stacks on 5.19, so one stop does not stop it',
      processors: [{ name: 'm4', autoBoot: true }],
      ops: [op.advance(100), op.start(), op.stop(), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'EBUSY', 'ok', 'offline\n', 0],
        '5.13': ['ok', 'EBUSY', 'ok', 'offline\n', 0],
        '5.19': ['ok', 'ok', 'ok', R, 1],
      },
    },
    {
      section: '§2 Crash',
      title: 'leave the count alone across a crash and its recovery',
      ops: [op.start(), op.crash(), op.power(), op.advance(500), op.read(), op.power()],
      expect: ['ok', 'ok', 1, 'ok', R, 1],
    },
    {
      section: '§2 Failed recovery',
      title: 'keep the count after a failed recovery, so a later start is a successful no-op',
      processors: [{ name: 'm4', initial: 'detached', firmwareMissing: true }],
      ops: [op.start(), op.crash(), op.advance(200), op.start(), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'ok', 'offline\n', 2],
    },
    {
      section: '§2 rproc_del',
      title: 'shut down only once on unbind, leaving a stacked processor powered under DELETED',
      profiles: ['5.19', '7.3'],
      ops: [op.start(), op.start(), op.unbind(), op.power()],
      expect: ['ok', 'ok', 'ok', 1],
    },
    {
      section: '§2 Userspace start',
      title: 'let a second start race in before v5.19: it passes the lock-free check during the boot',
      // The first start is still booting (state offline) when the second is checked.
      ops: [{ ...op.start(), wait: false }, op.start(), op.power(), op.start()],
      expect: {
        '5.9': ['ok', 'ok', 2, 'EBUSY'],
        '5.13': ['ok', 'ok', 2, 'EBUSY'],
        '5.19': ['ok', 'ok', 2, 'ok'],
      },
    },
    {
      section: '§2 Userspace stop',
      title: 'decrement once per stop write',
      processors: [{ name: 'm4', recovery: 'disabled' }],
      ops: [op.start(), op.crash(), op.start(), op.write('recovery', 'recover'), op.stop(), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 'ENOENT', 'EINVAL', 2],
        '5.13': ['ok', 'ok', 'ok', 'ok', 'ok', 1],
        '5.19': ['ok', 'ok', 'ok', 'ok', 'ok', 1],
      },
    },
  ]);
});
