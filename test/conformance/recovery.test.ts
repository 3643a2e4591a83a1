// Conformance: kernel-semantics §3, crashes, recovery and coredumps.

import { describe } from 'vitest';
import { conformance, op } from './harness.js';

const R = 'running\n';
const disabled = [{ name: 'm4', recovery: 'disabled' as const }];

describe('§3 crashes and recovery', () => {
  conformance([
    {
      section: '§3.2 step 1',
      title: 'handle only the first crash while crashed',
      processors: disabled,
      ops: [op.start(), op.crash(), op.crash(), op.read(), op.write('recovery', 'recover'), op.read()],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 'crashed\n', 'ENOENT', 'crashed\n'],
        '5.13': ['ok', 'ok', 'ok', 'crashed\n', 'ok', R],
        '5.19': ['ok', 'ok', 'ok', 'crashed\n', 'ok', R],
      },
    },
    {
      section: '§3.2 step 2',
      title: 'ignore a crash reported while offline',
      ops: [op.crash(), op.read(), op.power()],
      expect: ['ok', 'offline\n', 0],
    },
    {
      section: '§3.2 step 2',
      title: 'let a stop that takes the lock before the crash worker win',
      ops: [op.start(), { ...op.stop(), wait: false }, op.crash(), op.advance(200), op.read()],
      expect: ['ok', 'ok', 'ok', 'ok', 'offline\n'],
    },
    {
      section: '§3.3',
      title: 'do nothing on recover or enabled when the processor is healthy',
      profiles: ['5.13', '5.19', '7.3'],
      ops: [
        op.start(),
        op.write('recovery', 'recover'),
        op.write('recovery', 'enabled'),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'ok', R, 1],
    },
    {
      section: '§3.3',
      title:
        'make a stop wait on the lock until recovery ends (before 5.19 the lock-free check sees crashed)',
      ops: [op.start(), op.crash(), op.stop(), op.read()],
      expect: {
        '5.9': ['ok', 'ok', 'EINVAL', 'crashed\n'],
        '5.13': ['ok', 'ok', 'EINVAL', 'crashed\n'],
        '5.19': ['ok', 'ok', 'ok', 'offline\n'],
      },
    },
    {
      section: '§3.4 firmware load',
      title: 'wedge after a failed recovery: start is a no-op, stop EINVAL, recover ignored, crashes ignored',
      profiles: ['5.13', '5.19', '7.3'],
      processors: [{ name: 'm4', initial: 'detached', firmwareMissing: true }],
      ops: [
        op.start(),
        op.crash(),
        op.advance(200),
        op.start(),
        op.stop(),
        op.write('recovery', 'recover'),
        op.crash(),
        op.read(),
        op.write('firmware', 'other.elf'),
        op.power(),
      ],
      expect: ['ok', 'ok', 'ok', 'ok', 'EINVAL', 'ok', 'ok', 'offline\n', 'ok', 2],
    },
    {
      section: '§3.4 rproc_stop',
      title: 'stay crashed when the recovery cannot stop the processor; recover retries',
      processors: [{ name: 'm4', canStop: false }],
      ops: [op.start(), op.crash(), op.advance(200), op.read(), op.stop(), op.power()],
      expect: ['ok', 'ok', 'ok', 'crashed\n', 'EINVAL', 1],
    },
    {
      section: '§3.5 disabled',
      title:
        'stay crashed with recovery disabled; stop EINVAL; start leaks a reference (7.3: stop reclaims it)',
      processors: disabled,
      ops: [op.start(), op.crash(), op.advance(10_000), op.read(), op.stop(), op.start(), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 'crashed\n', 'EINVAL', 'ok', 2],
        '5.13': ['ok', 'ok', 'ok', 'crashed\n', 'EINVAL', 'ok', 2],
        '5.19': ['ok', 'ok', 'ok', 'crashed\n', 'EINVAL', 'ok', 2],
        '7.3': ['ok', 'ok', 'ok', 'crashed\n', 'ok', 'ok', 1],
      },
    },
    {
      section: '§3.5 enabled',
      title: 'recover at once, synchronously, when enabled is written to a crashed processor',
      profiles: ['5.13', '5.19', '7.3'],
      processors: disabled,
      ops: [op.start(), op.crash(), op.write('recovery', 'enabled'), op.read(), op.read('recovery')],
      expect: ['ok', 'ok', 'ok', R, 'enabled\n'],
    },
    {
      section: '§3.5 recover',
      title: 'recover once and leave the flag disabled',
      profiles: ['5.13', '5.19', '7.3'],
      processors: disabled,
      ops: [op.start(), op.crash(), op.write('recovery', 'recover'), op.read(), op.read('recovery')],
      expect: ['ok', 'ok', 'ok', R, 'disabled\n'],
    },
    {
      section: '§3.6 inline',
      title: 'block recovery, and every command, on an unread inline coredump for up to 5 minutes',
      processors: [{ name: 'm4', coredump: 'inline' }],
      ops: [op.start(), op.crash(), op.advance(60_000), op.read(), op.advance(240_000), op.read()],
      expect: ['ok', 'ok', 'ok', 'offline\n', 'ok', 'offline\n'],
    },
    {
      section: '§3.6 inline',
      title: 'go on with recovery once userspace discards the inline dump',
      processors: [{ name: 'm4', coredump: 'inline' }],
      ops: [
        op.start(),
        op.crash(),
        op.advance(1_000),
        { op: 'coredump.discard', rproc: 'm4' },
        op.advance(100),
        op.read(),
      ],
      expect: ['ok', 'ok', 'ok', 'ok', 'ok', R],
    },
    {
      section: '§3.6 enabled',
      title: 'not block recovery on an enabled (copied) coredump',
      processors: [{ name: 'm4', coredump: 'enabled' }],
      ops: [op.start(), op.crash(), op.advance(120), op.read()],
      expect: ['ok', 'ok', 'ok', R],
    },
  ]);
});
