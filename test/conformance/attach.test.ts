// Conformance: kernel-semantics §6, processors started before Linux (attach and detach).

import { describe } from 'vitest';
import { conformance, op } from './harness.js';

const R = 'running\n';
const A = 'attached\n';
const detached = [{ name: 'm4', initial: 'detached' as const, firmware: 'boot.elf' }];
const byProfile = <T>(v59: T, v513: T) => ({ '5.9': v59, '5.13': v513, '5.19': v513 });

describe('§6 attach and detach', () => {
  conformance([
    {
      section: '§6 auto_boot',
      title: 'attach synchronously at registration with auto-boot, holding one reference',
      processors: [{ name: 'm4', initial: 'detached', autoBoot: true }],
      ops: [op.read(), op.power()],
      expect: byProfile([R, 1], [A, 1]),
    },
    {
      section: '§6 auto_boot',
      title: 'stay detached until start without auto-boot',
      processors: detached,
      ops: [op.advance(1_000), op.read(), op.power()],
      expect: ['ok', 'detached\n', 0],
    },
    {
      section: '§6 firmware',
      title: 'read firmware as unknown while attached (v5.9: from registration, while autonomous)',
      processors: detached,
      ops: [op.read('firmware'), op.start(), op.read('firmware'), op.stop(), op.read('firmware')],
      expect: byProfile(
        ['unknown\n', 'ok', 'unknown\n', 'ok', 'boot.elf\n'],
        ['boot.elf\n', 'ok', 'unknown\n', 'ok', 'boot.elf\n'],
      ),
    },
    {
      section: '§6 start in ATTACHED',
      title: 'refuse a start while attached with EBUSY before 5.19, count it from 5.19',
      profiles: ['5.13', '5.19', '7.3'],
      processors: detached,
      ops: [op.start(), op.start(), op.power()],
      expect: { '5.13': ['ok', 'EBUSY', 1], '5.19': ['ok', 'ok', 2] },
    },
    {
      section: '§6 stop in ATTACHED',
      title: 'really power an attached processor off on stop; the next start boots firmware from Linux',
      processors: detached,
      ops: [op.start(), op.stop(), op.read(), op.start(), op.read(), op.read('firmware')],
      expect: ['ok', 'ok', 'offline\n', 'ok', R, 'boot.elf\n'],
    },
    {
      section: '§6 stop in ATTACHED',
      title: 'restore the count and stay attached without ops->stop',
      processors: [{ name: 'm4', initial: 'detached', canStop: false }],
      ops: [op.start(), op.stop(), op.read(), op.power()],
      expect: { '5.9': ['ok', 'ok', R, 1], '5.13': ['ok', 'ok', A, 1], '5.19': ['ok', 'EINVAL', A, 1] },
    },
    {
      section: '§6 detach in ATTACHED',
      title: 'leave the processor running as detached on detach; a new start re-attaches',
      profiles: ['5.13', '5.19', '7.3'],
      processors: detached,
      ops: [op.start(), op.write('state', 'detach\n'), op.read(), op.start(), op.read(), op.power()],
      expect: ['ok', 'ok', 'detached\n', 'ok', A, 1],
    },
    {
      section: '§6 detach in ATTACHED',
      title: 'refuse detach without ops->detach, restoring the count',
      profiles: ['5.13', '5.19', '7.3'],
      processors: [{ name: 'm4', initial: 'detached', canDetach: false }],
      ops: [op.start(), op.write('state', 'detach'), op.read(), op.power()],
      expect: ['ok', 'EINVAL', A, 1],
    },
    {
      section: '§6 detach in RUNNING',
      title: 'refuse to detach a processor Linux booted',
      ops: [op.start(), op.write('state', 'detach')],
      expect: ['ok', 'EINVAL'],
    },
    {
      section: '§6 cdev close',
      title: 'detach, not stop, on the flagged last close of an attached processor (v5.9 stops it)',
      processors: detached,
      ops: [op.open('a', 1), op.setFlag('a'), op.cdev('a', 'start'), op.close('a'), op.read(), op.power()],
      expect: byProfile(['ok', 'ok', 'ok', 'ok', 'offline\n', 0], ['ok', 'ok', 'ok', 'ok', 'detached\n', 0]),
    },
    {
      section: '§6 crash',
      title: 'recover an attached processor by booting its firmware from Linux without ATTACH_ON_RECOVERY',
      processors: detached,
      ops: [op.start(), op.crash(), op.read(), op.advance(120), op.read(), op.power()],
      expect: ['ok', 'ok', 'crashed\n', 'ok', R, 1],
    },
  ]);
});
