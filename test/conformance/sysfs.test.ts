// Conformance: /sys/class/remoteproc/remoteprocN/ (kernel-semantics §4), on every kernel profile.
//
// Where the spec and the kernel sources disagree, the expectation follows the source (docs/abi.md, "Where the spec and the sources differ"):
// - `recovery` and `coredump` are not in sysfs on v5.9 (added in v5.10): ENOENT.
// - `rproc_shutdown` returned void until v5.18, so on 5.13 a failed `stop` still returns success.
// - `rproc_set_firmware` checks the state before the name, so an empty name while running is EBUSY.
// - `firmware` reads `unknown` on v5.9 while the `autonomous` flag is set (registered DETACHED, not stopped since).

import { describe } from 'vitest';
import type { KernelOp } from '../../actors/kernel/kernelDocument.js';
import type { ProcessorJson } from '../../actors/kernel/processorSchema.js';
import { conformance, op } from './harness.js';

/** Recovery disabled, so a crashed processor stays CRASHED. */
const STAYS_CRASHED: ProcessorJson[] = [{ name: 'm4', recovery: 'disabled' }];
/** Booted by another entity before Linux: `start` attaches. */
const DETACHED: ProcessorJson[] = [{ name: 'm4', initial: 'detached' }];
const FW: ProcessorJson[] = [{ name: 'm4', firmware: 'fw.elf' }];

const noWait = (o: KernelOp): KernelOp => ({ ...o, wait: false });
const detachWord = (value = 'detach'): KernelOp => op.write('state', value);

describe('§4 state attribute', () =>
  conformance([
    {
      section: '§4 Attr state',
      title: 'read the state string followed by a newline',
      ops: [op.read(), op.start(), op.read(), op.stop(), op.read()],
      expect: ['offline\n', 'ok', 'running\n', 'ok', 'offline\n'],
    },
    {
      section: '§4 Attr state',
      title: 'accept one trailing newline on start and stop',
      ops: [
        op.write('state', 'start\n'),
        op.read(),
        op.power(),
        op.write('state', 'stop\n'),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'running\n', 1, 'ok', 'offline\n', 0],
    },
    {
      section: '§4 Attr state',
      title: 'reject a state write with two trailing newlines with EINVAL',
      ops: [op.write('state', 'start\n\n'), op.read(), op.power()],
      expect: ['EINVAL', 'offline\n', 0],
    },
    {
      section: '§4 Attr state',
      title: 'reject an unknown word with EINVAL',
      ops: [op.write('state', 'reboot'), op.write('state', 'START'), op.read(), op.power()],
      expect: ['EINVAL', 'EINVAL', 'offline\n', 0],
    },
    {
      section: '§4 Attr state',
      title: 'fail start with ENOENT when the firmware file is missing, staying offline with no reference',
      processors: [{ name: 'm4', firmwareMissing: true }],
      ops: [op.start(), op.read(), op.power()],
      expect: ['ENOENT', 'offline\n', 0],
    },
  ]));

describe('§4 firmware attribute', () =>
  conformance([
    {
      section: '§4 Attr firmware',
      title: 'read the firmware name followed by a newline',
      processors: FW,
      ops: [op.read('firmware')],
      expect: ['fw.elf\n'],
    },
    {
      section: '§4 Attr firmware',
      title: 'change the firmware while offline',
      processors: FW,
      ops: [op.write('firmware', 'other.elf'), op.read('firmware')],
      expect: ['ok', 'other.elf\n'],
    },
    {
      section: '§4 Attr firmware',
      title: 'accept one trailing newline on a firmware write',
      processors: FW,
      ops: [op.write('firmware', 'other.elf\n'), op.read('firmware')],
      expect: ['ok', 'other.elf\n'],
    },
    {
      section: '§4 Attr firmware',
      title: 'cut the firmware name at the first newline',
      processors: FW,
      ops: [
        op.write('firmware', 'a.elf\nb.elf'),
        op.read('firmware'),
        op.write('firmware', 'c.elf\n\n'),
        op.read('firmware'),
      ],
      expect: ['ok', 'a.elf\n', 'ok', 'c.elf\n'],
    },
    {
      section: '§4 Attr firmware',
      title:
        'reject an empty firmware name with EINVAL while offline (a 0-byte write returns 0: sysfs_kf_write never calls the store)',
      processors: FW,
      ops: [
        op.write('firmware', ''),
        op.write('firmware', '\n'),
        op.write('firmware', '\nx.elf'),
        op.read('firmware'),
      ],
      expect: ['ok', 'EINVAL', 'EINVAL', 'fw.elf\n'],
    },
    {
      section: '§4 Attr firmware',
      title: 'reject a firmware change while running with EBUSY',
      processors: FW,
      ops: [op.start(), op.write('firmware', 'other.elf'), op.read('firmware')],
      expect: ['ok', 'EBUSY', 'fw.elf\n'],
    },
    {
      section: '§4 Attr firmware',
      title: 'check the state before the name: an empty firmware name while running is EBUSY',
      processors: FW,
      ops: [op.start(), op.write('firmware', ''), op.write('firmware', '\n'), op.read('firmware')],
      expect: ['ok', 'ok', 'EBUSY', 'fw.elf\n'],
    },
    {
      section: '§4 Attr firmware',
      title: 'reject a firmware change while crashed with EBUSY',
      processors: [{ name: 'm4', firmware: 'fw.elf', recovery: 'disabled' }],
      ops: [op.start(), op.crash(), op.read(), op.write('firmware', 'other.elf'), op.read('firmware')],
      expect: ['ok', 'ok', 'crashed\n', 'EBUSY', 'fw.elf\n'],
    },
    {
      section: '§4 Attr firmware',
      title: 'reject a firmware change while suspended with EBUSY',
      processors: FW,
      ops: [op.start(), { op: 'suspend', rproc: 'm4' }, op.read(), op.write('firmware', 'other.elf')],
      expect: ['ok', 'ok', 'suspended\n', 'EBUSY'],
    },
    {
      section: '§4 Attr firmware',
      title: 'reject a firmware change while detached with EBUSY',
      processors: DETACHED,
      ops: [op.read(), op.write('firmware', 'other.elf')],
      expect: ['detached\n', 'EBUSY'],
    },
    {
      section: '§4 Attr firmware',
      title: 'reject a firmware change while attached with EBUSY',
      processors: DETACHED,
      ops: [op.start(), op.write('firmware', 'other.elf')],
      expect: ['ok', 'EBUSY'],
    },
    {
      section: '§4 Attr firmware',
      title:
        'read unknown as the firmware while attached (5.9: while autonomous, from registration until stopped)',
      processors: [{ name: 'm4', firmware: 'fw.elf', initial: 'detached' }],
      ops: [
        op.read('firmware'),
        op.start(),
        op.read(),
        op.read('firmware'),
        op.stop(),
        op.read(),
        op.read('firmware'),
      ],
      expect: {
        '5.9': ['unknown\n', 'ok', 'running\n', 'unknown\n', 'ok', 'offline\n', 'fw.elf\n'],
        '5.13': ['fw.elf\n', 'ok', 'attached\n', 'unknown\n', 'ok', 'offline\n', 'fw.elf\n'],
        '5.19': ['fw.elf\n', 'ok', 'attached\n', 'unknown\n', 'ok', 'offline\n', 'fw.elf\n'],
      },
    },
  ]));

describe('§4 recovery attribute', () =>
  conformance([
    {
      section: '§4 Attr recovery',
      title: 'read the recovery policy followed by a newline (not in sysfs on 5.9)',
      ops: [op.read('recovery'), op.write('recovery', 'disabled')],
      expect: { '5.9': ['ENOENT', 'ENOENT'], '5.13': ['enabled\n', 'ok'], '5.19': ['enabled\n', 'ok'] },
    },
    {
      section: '§4 Attr recovery',
      title: 'accept disabled and enabled, with one trailing newline',
      ops: [
        op.write('recovery', 'disabled'),
        op.read('recovery'),
        op.write('recovery', 'enabled\n'),
        op.read('recovery'),
        op.write('recovery', 'disabled\n'),
        op.read('recovery'),
      ],
      expect: {
        '5.9': ['ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT'],
        '5.13': ['ok', 'disabled\n', 'ok', 'enabled\n', 'ok', 'disabled\n'],
        '5.19': ['ok', 'disabled\n', 'ok', 'enabled\n', 'ok', 'disabled\n'],
      },
    },
    {
      section: '§4 Attr recovery',
      title: 'reject an unknown word and two trailing newlines with EINVAL',
      ops: [op.write('recovery', 'auto'), op.write('recovery', 'recover\n\n'), op.read('recovery')],
      expect: {
        '5.9': ['ENOENT', 'ENOENT', 'ENOENT'],
        '5.13': ['EINVAL', 'EINVAL', 'enabled\n'],
        '5.19': ['EINVAL', 'EINVAL', 'enabled\n'],
      },
    },
    {
      section: '§4 Attr recovery',
      title: 'recover a crashed processor once on recover, leaving the policy disabled',
      processors: STAYS_CRASHED,
      ops: [
        op.start(),
        op.crash(),
        op.read(),
        op.write('recovery', 'recover'),
        op.read(),
        op.read('recovery'),
        op.power(),
      ],
      expect: {
        '5.9': ['ok', 'ok', 'crashed\n', 'ENOENT', 'crashed\n', 'ENOENT', 1],
        '5.13': ['ok', 'ok', 'crashed\n', 'ok', 'running\n', 'disabled\n', 1],
        '5.19': ['ok', 'ok', 'crashed\n', 'ok', 'running\n', 'disabled\n', 1],
      },
    },
    {
      section: '§4 Attr recovery',
      title: 'recover a crashed processor at once when enabled is written',
      processors: STAYS_CRASHED,
      ops: [
        op.start(),
        op.crash(),
        op.write('recovery', 'enabled'),
        op.read(),
        op.read('recovery'),
        op.power(),
      ],
      expect: {
        '5.9': ['ok', 'ok', 'ENOENT', 'crashed\n', 'ENOENT', 1],
        '5.13': ['ok', 'ok', 'ok', 'running\n', 'enabled\n', 1],
        '5.19': ['ok', 'ok', 'ok', 'running\n', 'enabled\n', 1],
      },
    },
    {
      section: '§4 Attr recovery',
      title: 'do nothing on recover when the processor is not crashed',
      ops: [
        op.write('recovery', 'recover'),
        op.read(),
        op.start(),
        op.write('recovery', 'recover'),
        op.read(),
        op.power(),
      ],
      expect: {
        '5.9': ['ENOENT', 'offline\n', 'ok', 'ENOENT', 'running\n', 1],
        '5.13': ['ok', 'offline\n', 'ok', 'ok', 'running\n', 1],
        '5.19': ['ok', 'offline\n', 'ok', 'ok', 'running\n', 1],
      },
    },
  ]));

describe('§4 coredump attribute', () =>
  conformance([
    {
      section: '§4 Attr coredump',
      title: 'read the coredump mode followed by a newline, disabled by default (not in sysfs on 5.9)',
      ops: [op.read('coredump'), op.write('coredump', 'enabled')],
      expect: { '5.9': ['ENOENT', 'ENOENT'], '5.13': ['disabled\n', 'ok'], '5.19': ['disabled\n', 'ok'] },
    },
    {
      section: '§4 Attr coredump',
      title: 'accept the three modes, with one trailing newline',
      ops: [
        op.write('coredump', 'enabled'),
        op.read('coredump'),
        op.write('coredump', 'inline\n'),
        op.read('coredump'),
        op.write('coredump', 'disabled'),
        op.read('coredump'),
      ],
      expect: {
        '5.9': ['ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT'],
        '5.13': ['ok', 'enabled\n', 'ok', 'inline\n', 'ok', 'disabled\n'],
        '5.19': ['ok', 'enabled\n', 'ok', 'inline\n', 'ok', 'disabled\n'],
      },
    },
    {
      section: '§4 Attr coredump',
      title: 'reject an unknown word (default included) and two trailing newlines with EINVAL',
      ops: [op.write('coredump', 'default'), op.write('coredump', 'enabled\n\n'), op.read('coredump')],
      expect: {
        '5.9': ['ENOENT', 'ENOENT', 'ENOENT'],
        '5.13': ['EINVAL', 'EINVAL', 'disabled\n'],
        '5.19': ['EINVAL', 'EINVAL', 'disabled\n'],
      },
    },
    {
      section: '§4 Attr coredump',
      title: 'accept a coredump change while running',
      ops: [op.start(), op.write('coredump', 'inline'), op.read('coredump')],
      expect: {
        '5.9': ['ok', 'ENOENT', 'ENOENT'],
        '5.13': ['ok', 'ok', 'inline\n'],
        '5.19': ['ok', 'ok', 'inline\n'],
      },
    },
    {
      section: '§4 Attr coredump',
      title: 'reject any coredump write while crashed with EBUSY, before parsing the word',
      processors: STAYS_CRASHED,
      ops: [
        op.start(),
        op.crash(),
        op.read(),
        op.write('coredump', 'enabled'),
        op.write('coredump', 'default'),
        op.read('coredump'),
      ],
      expect: {
        '5.9': ['ok', 'ok', 'crashed\n', 'ENOENT', 'ENOENT', 'ENOENT'],
        '5.13': ['ok', 'ok', 'crashed\n', 'EBUSY', 'EBUSY', 'disabled\n'],
        '5.19': ['ok', 'ok', 'crashed\n', 'EBUSY', 'EBUSY', 'disabled\n'],
      },
    },
  ]));

describe('§4 name attribute', () =>
  conformance([
    {
      section: '§4 Attr name',
      title: 'read the driver-given name followed by a newline',
      ops: [op.read('name')],
      expect: ['m4\n'],
    },
    {
      section: '§4 Attr name',
      title: 'reject a name write with EACCES (0444)',
      ops: [op.write('name', 'dsp'), op.write('name', 'm4'), op.read('name')],
      expect: ['EACCES', 'EACCES', 'm4\n'],
    },
  ]));

describe('§4 sysfs_read_only', () =>
  conformance([
    {
      section: '§4 sysfs_read_only',
      title:
        'reject writes to firmware, recovery, coredump and state with EACCES (5.19 only: the flag is v5.18)',
      processors: [{ name: 'm4', sysfsReadOnly: true }],
      ops: [
        op.write('firmware', 'other.elf'),
        op.write('recovery', 'disabled'),
        op.write('coredump', 'enabled'),
        op.write('name', 'dsp'),
        op.start(),
        op.read(),
        op.power(),
      ],
      expect: {
        '5.9': ['ok', 'ENOENT', 'ENOENT', 'EACCES', 'ok', 'running\n', 1],
        '5.13': ['ok', 'ok', 'ok', 'EACCES', 'ok', 'running\n', 1],
        '5.19': ['EACCES', 'EACCES', 'EACCES', 'EACCES', 'EACCES', 'offline\n', 0],
      },
    },
    {
      section: '§4 sysfs_read_only',
      title: 'still serve every read',
      processors: [{ name: 'm4', firmware: 'fw.elf', sysfsReadOnly: true }],
      ops: [op.read(), op.read('firmware'), op.read('name'), op.read('recovery'), op.read('coredump')],
      expect: {
        '5.9': ['offline\n', 'fw.elf\n', 'm4\n', 'ENOENT', 'ENOENT'],
        '5.13': ['offline\n', 'fw.elf\n', 'm4\n', 'enabled\n', 'disabled\n'],
        '5.19': ['offline\n', 'fw.elf\n', 'm4\n', 'enabled\n', 'disabled\n'],
      },
    },
  ]));

describe('§4 after unbind', () =>
  conformance([
    {
      section: '§4 unbind',
      // rproc_del shuts down only auto-boot processors before v5.13, so on 5.9 the reference stays.
      title: 'give ENOENT for every attribute once the driver is unbound',
      ops: [
        op.start(),
        op.unbind(),
        op.read(),
        op.read('firmware'),
        op.read('name'),
        op.read('recovery'),
        op.read('coredump'),
        op.start(),
        op.power(),
      ],
      expect: {
        '5.9': ['ok', 'ok', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 1],
        '5.13': ['ok', 'ok', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 0],
        '5.19': ['ok', 'ok', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 0],
      },
    },
  ]));

describe('§4 state rejections by version', () =>
  conformance([
    {
      section: '§4 state rejections row 1',
      title: 'answer start while RUNNING with EBUSY before 5.19, and stack a reference on 5.19',
      ops: [op.start(), op.start(), op.read(), op.power(), op.stop(), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'EBUSY', 'running\n', 1, 'ok', 'offline\n', 0],
        '5.13': ['ok', 'EBUSY', 'running\n', 1, 'ok', 'offline\n', 0],
        '5.19': ['ok', 'ok', 'running\n', 2, 'ok', 'running\n', 1],
      },
    },
    {
      section: '§4 state rejections row 1',
      // The pre-5.19 check reads the state without the lock: during the boot it is still OFFLINE.
      title: 'stack a reference on every profile when start races a boot in progress',
      ops: [noWait(op.start()), op.start(), op.read(), op.power()],
      expect: ['ok', 'ok', 'running\n', 2],
    },
    {
      section: '§4 state rejections row 2',
      title:
        'answer start while ATTACHED with EBUSY before 5.19 (5.9 reads it as running), and stack on 5.19',
      processors: DETACHED,
      ops: [op.start(), op.read(), op.start(), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'running\n', 'EBUSY', 'running\n', 1],
        '5.13': ['ok', 'attached\n', 'EBUSY', 'attached\n', 1],
        '5.19': ['ok', 'attached\n', 'ok', 'attached\n', 2],
      },
    },
    {
      section: '§4 state rejections row 3',
      title: 'return 0 on start while CRASHED and add a reference without booting',
      processors: STAYS_CRASHED,
      ops: [op.start(), op.crash(), op.start(), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'crashed\n', 2],
    },
    {
      section: '§4 state rejections row 3',
      title: 'return 0 on start while SUSPENDED and add a reference without booting',
      ops: [op.start(), { op: 'suspend', rproc: 'm4' }, op.read(), op.start(), op.read(), op.power()],
      expect: ['ok', 'ok', 'suspended\n', 'ok', 'suspended\n', 2],
    },
    {
      section: '§4 state rejections row 4',
      title: 'reject stop while OFFLINE with EINVAL',
      ops: [op.stop(), op.read(), op.power()],
      expect: ['EINVAL', 'offline\n', 0],
    },
    {
      section: '§4 state rejections row 4',
      title: 'reject stop while CRASHED with EINVAL, keeping the reference (7.3: stop it to offline)',
      processors: STAYS_CRASHED,
      ops: [op.start(), op.crash(), op.stop(), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'EINVAL', 'crashed\n', 1],
        '5.13': ['ok', 'ok', 'EINVAL', 'crashed\n', 1],
        '5.19': ['ok', 'ok', 'EINVAL', 'crashed\n', 1],
        '7.3': ['ok', 'ok', 'ok', 'offline\n', 0],
      },
    },
    {
      section: '§4 state rejections row 4',
      title: 'reject stop while SUSPENDED with EINVAL, keeping the reference',
      ops: [op.start(), { op: 'suspend', rproc: 'm4' }, op.stop(), op.read(), op.power()],
      expect: ['ok', 'ok', 'EINVAL', 'suspended\n', 1],
    },
    {
      section: '§4 state rejections row 4',
      title: 'reject stop while DETACHED with EINVAL',
      processors: DETACHED,
      ops: [op.stop(), op.read(), op.power()],
      expect: ['EINVAL', 'detached\n', 0],
    },
    {
      section: '§4 state rejections row 4',
      title: 'power an ATTACHED processor off on stop',
      processors: DETACHED,
      ops: [op.start(), op.stop(), op.read(), op.power()],
      expect: ['ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§4 state rejections row 4',
      // Before 5.19 the layer sees OFFLINE during the boot; on 5.19 the core waits for the lock, then stops.
      title: 'check stop against the state under the lock only on 5.19',
      ops: [noWait(op.start()), op.stop(), op.advance(100), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'EINVAL', 'ok', 'running\n', 1],
        '5.13': ['ok', 'EINVAL', 'ok', 'running\n', 1],
        '5.19': ['ok', 'ok', 'ok', 'offline\n', 0],
      },
    },
    {
      section: '§4 state rejections row 5',
      // rproc_shutdown returned void until v5.18 (kernel-semantics §4, §7), so 5.13 still reports success.
      title: 'report a failed driver stop only on 5.19',
      processors: [{ name: 'm4', canStop: false }],
      ops: [op.start(), op.stop(), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'running\n', 1],
        '5.13': ['ok', 'ok', 'running\n', 1],
        '5.19': ['ok', 'EINVAL', 'running\n', 1],
      },
    },
    {
      section: '§4 state rejections row 6',
      title: 'reject detach while RUNNING with EINVAL (an unknown word on 5.9)',
      ops: [op.start(), detachWord(), op.read(), op.power()],
      expect: ['ok', 'EINVAL', 'running\n', 1],
    },
    {
      section: '§4 state rejections row 6',
      title: 'detach an ATTACHED processor from 5.13, and reject detach as an unknown word on 5.9',
      processors: DETACHED,
      ops: [op.start(), detachWord('detach\n'), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'EINVAL', 'running\n', 1],
        '5.13': ['ok', 'ok', 'detached\n', 0],
        '5.19': ['ok', 'ok', 'detached\n', 0],
      },
    },
    {
      section: '§4 state rejections row 6',
      title: 'reject detach with EINVAL when the driver has no ops->detach, keeping the reference',
      processors: [{ name: 'm4', initial: 'detached', canDetach: false }],
      ops: [op.start(), detachWord(), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'EINVAL', 'running\n', 1],
        '5.13': ['ok', 'EINVAL', 'attached\n', 1],
        '5.19': ['ok', 'EINVAL', 'attached\n', 1],
      },
    },
    {
      section: '§4 state rejections row 6',
      title: 'reject detach while OFFLINE with EINVAL',
      ops: [detachWord(), op.read(), op.power()],
      expect: ['EINVAL', 'offline\n', 0],
    },
  ]));
