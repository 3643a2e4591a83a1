// Conformance: /dev/remoteprocN (kernel-semantics §5), on every kernel profile.
//
// Where the spec and the kernel sources disagree, the expectation follows the source (docs/abi.md, "Where the spec and the sources differ"):
// `rproc_shutdown` returned void until v5.18, so on 5.13 a failed `stop` still returns the byte count.

import { describe } from 'vitest';
import type { KernelOp } from '../../actors/kernel/kernelDocument.js';
import type { ProcessorJson } from '../../actors/kernel/processorSchema.js';
import { conformance, op } from './harness.js';

/** Recovery disabled, so a crashed processor stays CRASHED. */
const STAYS_CRASHED: ProcessorJson[] = [{ name: 'm4', recovery: 'disabled' }];
/** Booted by another entity before Linux: `start` attaches. */
const DETACHED: ProcessorJson[] = [{ name: 'm4', initial: 'detached' }];

const A = 100;
const B = 200;
const CHILD = 101;

const noWait = (o: KernelOp): KernelOp => ({ ...o, wait: false });
const openReadOnly = (fd: string, pid: number): KernelOp => ({
  op: 'cdev.open',
  rproc: 'm4',
  pid,
  fd,
  mode: 'r',
});
const ioctl = (fd: string, request: number, value?: number): KernelOp =>
  value === undefined ? { op: 'cdev.ioctl', fd, request } : { op: 'cdev.ioctl', fd, request, value };
const cdevRead = (fd: string): KernelOp => ({ op: 'cdev.read', fd });
const closeIn = (fd: string, pid: number): KernelOp => ({ op: 'cdev.close', fd, pid });
const fork = (pid: number, child: number): KernelOp => ({ op: 'fork', pid, child });
const suspend: KernelOp = { op: 'suspend', rproc: 'm4' };

/** `_IOW(0xB7, 1, __s32)` and `_IOR(0xB7, 2, __s32)`, as numbers (kernel-semantics §5.3). */
const SET = 0x4004b701;
const GET = 0x8004b702;
const GET_SIGNED = -2147174654;

describe('§5.2 write parsing', () =>
  conformance([
    {
      section: '§5.2 parsing',
      title: 'start on the exact word without a newline',
      ops: [op.open('a', A), op.cdev('a', 'start'), op.read(), op.power()],
      expect: ['ok', 'ok', 'running\n', 1],
    },
    {
      section: '§5.2 parsing',
      title: 'reject a trailing newline with EINVAL (echo start > /dev/remoteproc0 fails)',
      ops: [op.open('a', A), op.cdev('a', 'start\n'), op.read(), op.power()],
      expect: ['ok', 'EINVAL', 'offline\n', 0],
    },
    ...['s', 'st', 'sta', 'star'].map((prefix) => ({
      section: '§5.2 parsing',
      title: `take the prefix "${prefix}" as start`,
      ops: [op.open('a', A), op.cdev('a', prefix), op.read(), op.power()],
      expect: ['ok', 'ok', 'running\n', 1],
    })),
    {
      section: '§5.2 parsing',
      title: 'take the prefix "sto" as stop',
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'sto'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§5.2 parsing',
      title: 'stop on the exact word',
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'stop'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§5.2 parsing',
      title: 'reject an empty write with EINVAL',
      ops: [op.open('a', A), op.cdev('a', ''), op.read()],
      expect: ['ok', 'EINVAL', 'offline\n'],
    },
    {
      section: '§5.2 parsing',
      title: 'accept exactly 10 bytes and reject 11 with EINVAL',
      ops: [
        op.open('a', A),
        op.cdev('a', 'start\u0000\u0000\u0000\u0000\u0000\u0000'),
        op.read(),
        op.cdev('a', 'start\u0000\u0000\u0000\u0000\u0000'),
        op.read(),
      ],
      expect: ['ok', 'EINVAL', 'offline\n', 'ok', 'running\n'],
    },
    {
      section: '§5.2 parsing',
      title: 'reject a word over 10 bytes with EINVAL',
      ops: [op.open('a', A), op.cdev('a', 'startstart1'), op.read()],
      expect: ['ok', 'EINVAL', 'offline\n'],
    },
    {
      section: '§5.2 parsing',
      title: 'take "stop\\0x" as stop (strncmp stops at the NUL)',
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'stop\u0000x'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§5.2 parsing',
      title: 'reject characters after a word with EINVAL',
      ops: [op.open('a', A), op.cdev('a', 'startx'), op.cdev('a', 'start'), op.cdev('a', 'stopp'), op.read()],
      expect: ['ok', 'EINVAL', 'ok', 'EINVAL', 'running\n'],
    },
    {
      section: '§5.2 parsing',
      title: 'reject an unknown word with EINVAL',
      ops: [op.open('a', A), op.cdev('a', 'go'), op.cdev('a', 'Start'), op.read()],
      expect: ['ok', 'EINVAL', 'EINVAL', 'offline\n'],
    },
    {
      section: '§5.2 parsing',
      title: 'reject detach as an unknown word on 5.9, and detach an attached processor from 5.13',
      processors: DETACHED,
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'detach'), op.read()],
      expect: {
        '5.9': ['ok', 'ok', 'EINVAL', 'running\n'],
        '5.13': ['ok', 'ok', 'ok', 'detached\n'],
        '5.19': ['ok', 'ok', 'ok', 'detached\n'],
      },
    },
    ...['d', 'detac'].map((prefix) => ({
      section: '§5.2 parsing',
      title: `take the prefix "${prefix}" as detach from 5.13`,
      processors: DETACHED,
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', prefix), op.read()],
      expect: {
        '5.9': ['ok', 'ok', 'EINVAL', 'running\n'],
        '5.13': ['ok', 'ok', 'ok', 'detached\n'],
        '5.19': ['ok', 'ok', 'ok', 'detached\n'],
      },
    })),
  ]));

describe('§5.2 commands by version', () =>
  conformance([
    {
      section: '§5.2 commands start',
      title: 'boot an offline processor on start',
      ops: [op.open('a', A), op.cdev('a', 'start'), op.read(), op.power()],
      expect: ['ok', 'ok', 'running\n', 1],
    },
    {
      section: '§5.2 commands start',
      title: 'answer start while RUNNING with EBUSY before 5.19, and stack a reference on 5.19',
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'start'), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'EBUSY', 'running\n', 1],
        '5.13': ['ok', 'ok', 'EBUSY', 'running\n', 1],
        '5.19': ['ok', 'ok', 'ok', 'running\n', 2],
      },
    },
    {
      section: '§5.2 commands start',
      title:
        'answer start while ATTACHED with EBUSY before 5.19 (5.9 reads it as running), and stack on 5.19',
      processors: DETACHED,
      ops: [op.open('a', A), op.cdev('a', 'start'), op.read(), op.cdev('a', 'start'), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'running\n', 'EBUSY', 1],
        '5.13': ['ok', 'ok', 'attached\n', 'EBUSY', 1],
        '5.19': ['ok', 'ok', 'attached\n', 'ok', 2],
      },
    },
    {
      section: '§5.2 commands start',
      title: 'return success on start while CRASHED and add a reference without booting',
      processors: STAYS_CRASHED,
      ops: [op.open('a', A), op.cdev('a', 'start'), op.crash(), op.cdev('a', 'start'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'ok', 'crashed\n', 2],
    },
    {
      section: '§5.2 commands start',
      title: 'return success on start while SUSPENDED and add a reference without booting',
      ops: [op.open('a', A), op.cdev('a', 'start'), suspend, op.cdev('a', 'start'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'ok', 'suspended\n', 2],
    },
    {
      section: '§5.2 commands stop',
      title: 'stop a running processor',
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'stop'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§5.2 commands stop',
      title: 'reject stop while OFFLINE with EINVAL',
      ops: [op.open('a', A), op.cdev('a', 'stop'), op.read(), op.power()],
      expect: ['ok', 'EINVAL', 'offline\n', 0],
    },
    {
      section: '§5.2 commands stop',
      // 7.3: "remoteproc: Allow shutdown of crashed processors" (v7.3, stable 6.1.188 and 6.12.110).
      title: 'reject stop while CRASHED with EINVAL, keeping the reference (7.3: stop it to offline)',
      processors: STAYS_CRASHED,
      ops: [op.open('a', A), op.cdev('a', 'start'), op.crash(), op.cdev('a', 'stop'), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 'EINVAL', 'crashed\n', 1],
        '5.13': ['ok', 'ok', 'ok', 'EINVAL', 'crashed\n', 1],
        '5.19': ['ok', 'ok', 'ok', 'EINVAL', 'crashed\n', 1],
        '7.3': ['ok', 'ok', 'ok', 'ok', 'offline\n', 0],
      },
    },
    {
      section: '§5.2 commands stop',
      title: 'power an ATTACHED processor off on stop',
      processors: DETACHED,
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'stop'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§5.2 commands stop',
      // rproc_shutdown returned void until v5.18 (kernel-semantics §5.2, §7), so 5.13 still returns the byte count.
      title: 'report a failed driver stop only on 5.19',
      processors: [{ name: 'm4', canStop: false }],
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'stop'), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 'running\n', 1],
        '5.13': ['ok', 'ok', 'ok', 'running\n', 1],
        '5.19': ['ok', 'ok', 'EINVAL', 'running\n', 1],
      },
    },
    {
      section: '§5.2 commands stop',
      // Before 5.19 the cdev checks the state without the lock and sees OFFLINE during the boot.
      title: 'check stop against the state under the lock only on 5.19',
      ops: [
        op.open('a', A),
        noWait(op.cdev('a', 'start')),
        op.cdev('a', 'stop'),
        op.advance(100),
        op.read(),
        op.power(),
      ],
      expect: {
        '5.9': ['ok', 'ok', 'EINVAL', 'ok', 'running\n', 1],
        '5.13': ['ok', 'ok', 'EINVAL', 'ok', 'running\n', 1],
        '5.19': ['ok', 'ok', 'ok', 'ok', 'offline\n', 0],
      },
    },
    {
      section: '§5.2 commands detach',
      title: 'reject detach while RUNNING with EINVAL (an unknown word on 5.9)',
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'detach'), op.read(), op.power()],
      expect: ['ok', 'ok', 'EINVAL', 'running\n', 1],
    },
    {
      section: '§5.2 commands detach',
      title: 'detach an ATTACHED processor and drop its reference from 5.13',
      processors: DETACHED,
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'detach'), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'EINVAL', 'running\n', 1],
        '5.13': ['ok', 'ok', 'ok', 'detached\n', 0],
        '5.19': ['ok', 'ok', 'ok', 'detached\n', 0],
      },
    },
    {
      section: '§5.2 commands detach',
      title: 'reject detach with EINVAL when the driver has no ops->detach, keeping the reference',
      processors: [{ name: 'm4', initial: 'detached', canDetach: false }],
      ops: [op.open('a', A), op.cdev('a', 'start'), op.cdev('a', 'detach'), op.read(), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'EINVAL', 'running\n', 1],
        '5.13': ['ok', 'ok', 'EINVAL', 'attached\n', 1],
        '5.19': ['ok', 'ok', 'EINVAL', 'attached\n', 1],
      },
    },
    {
      section: '§5.2 commands detach',
      title: 'reject detach while DETACHED with EINVAL',
      processors: DETACHED,
      ops: [op.open('a', A), op.cdev('a', 'detach'), op.read(), op.power()],
      expect: ['ok', 'EINVAL', 'detached\n', 0],
    },
    {
      section: '§5.2 sysfs and cdev',
      title: 'act on the same processor and count as sysfs: each can stop what the other started',
      ops: [
        op.open('a', A),
        op.cdev('a', 'start'),
        op.stop(),
        op.read(),
        op.start(),
        op.cdev('a', 'stop'),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'ok', 'offline\n', 'ok', 'ok', 'offline\n', 0],
    },
  ]));

describe('§5.3 ioctls', () =>
  conformance([
    {
      section: '§5.3 ioctl GET',
      title: 'read the shutdown-on-release flag as 0 by default',
      ops: [op.open('a', A), op.getFlag('a')],
      expect: ['ok', 0],
    },
    {
      section: '§5.3 ioctl SET/GET',
      title: 'round-trip the flag through SET and GET, any nonzero value setting it',
      ops: [
        op.open('a', A),
        op.setFlag('a', 1),
        op.getFlag('a'),
        op.setFlag('a', 0),
        op.getFlag('a'),
        op.setFlag('a', 7),
        op.getFlag('a'),
        op.setFlag('a', -1),
        op.getFlag('a'),
      ],
      expect: ['ok', 'ok', 1, 'ok', 0, 'ok', 1, 'ok', 1],
    },
    {
      section: '§5.3 ioctl numbers',
      title: 'accept the numeric requests, GET in its unsigned and signed forms',
      ops: [op.open('a', A), ioctl('a', GET), ioctl('a', SET, 1), ioctl('a', GET), ioctl('a', GET_SIGNED)],
      expect: ['ok', 0, 'ok', 1, 1],
    },
    {
      section: '§5.3 ioctl unknown',
      title: 'reject an unknown request with EINVAL, not ENOTTY',
      ops: [
        op.open('a', A),
        ioctl('a', 0x5401),
        ioctl('a', 0x4004b703, 1),
        ioctl('a', 0x4008b701, 1),
        ioctl('a', 0),
        op.getFlag('a'),
      ],
      expect: ['ok', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 0],
    },
    {
      section: '§5.3 ioctl SET',
      title: 'fail SET without an argument with EFAULT and keep the flag',
      ops: [
        op.open('a', A),
        op.setFlag('a', 1),
        { op: 'cdev.ioctl', fd: 'a', request: 'RPROC_SET_SHUTDOWN_ON_RELEASE' },
        op.getFlag('a'),
      ],
      expect: ['ok', 'ok', 'EFAULT', 1],
    },
    {
      section: '§5.3 ioctl mode',
      title: 'allow ioctls on an fd opened read-only',
      ops: [openReadOnly('r', A), op.setFlag('r', 1), op.getFlag('r')],
      expect: ['ok', 'ok', 1],
    },
    {
      section: '§5.3 fd mode',
      title: 'reject a write on an fd opened read-only with EBADF',
      ops: [openReadOnly('r', A), op.cdev('r', 'start'), op.read(), op.power()],
      expect: ['ok', 'EBADF', 'offline\n', 0],
    },
    {
      section: '§5.3 read',
      title: 'reject read with EINVAL (no read operation)',
      ops: [op.open('a', A), cdevRead('a'), openReadOnly('r', B), cdevRead('r')],
      expect: ['ok', 'EINVAL', 'ok', 'EINVAL'],
    },
  ]));

describe('§5.4 release', () =>
  conformance([
    {
      section: '§5.4 release flag clear',
      title: 'do nothing on close when the flag is clear',
      ops: [op.open('a', A), op.cdev('a', 'start'), op.close('a'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'running\n', 1],
    },
    {
      section: '§5.4 release RUNNING',
      title: 'stop a running processor on the last close when the flag is set',
      ops: [op.open('a', A), op.setFlag('a'), op.cdev('a', 'start'), op.close('a'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§5.4 release OFFLINE',
      title: 'do nothing on close when the flag is set but the processor is offline',
      ops: [op.open('a', A), op.setFlag('a'), op.close('a'), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§5.4 release ATTACHED',
      // 5.9 handles RUNNING only, but an attached processor reads RUNNING there, so release stops it.
      title: 'detach an attached processor on close from 5.13, and stop it on 5.9',
      processors: DETACHED,
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        op.read(),
        op.close('a'),
        op.read(),
        op.power(),
      ],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 'running\n', 'ok', 'offline\n', 0],
        '5.13': ['ok', 'ok', 'ok', 'attached\n', 'ok', 'detached\n', 0],
        '5.19': ['ok', 'ok', 'ok', 'attached\n', 'ok', 'detached\n', 0],
      },
    },
    {
      section: '§5.4 release fork',
      title: 'keep the processor running until a forked child also closes the shared description',
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        fork(A, CHILD),
        op.close('a'),
        op.read(),
        op.power(),
        closeIn('a', CHILD),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'ok', 'ok', 'ok', 'running\n', 1, 'ok', 'offline\n', 0],
    },
    {
      section: '§5.4 release fork',
      title: 'keep the processor running after the parent dies until the forked child dies',
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        fork(A, CHILD),
        op.kill(A),
        op.read(),
        op.kill(CHILD),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'ok', 'ok', 'ok', 'running\n', 'ok', 'offline\n', 0],
    },
    {
      section: '§5.4 release SIGKILL',
      title: 'release on SIGKILL exactly as on close',
      ops: [op.open('a', A), op.setFlag('a'), op.cdev('a', 'start'), op.kill(A), op.read(), op.power()],
      expect: ['ok', 'ok', 'ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§5.4 flag per processor',
      title:
        'share the flag between openers: set by A, the close of a read-only B that never started stops it',
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        openReadOnly('b', B),
        op.getFlag('b'),
        op.close('b'),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'ok', 'ok', 1, 'ok', 'offline\n', 0],
    },
    {
      section: '§5.4 flag persists',
      title: 'keep the flag across close, boot and stop',
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.close('a'),
        op.open('b', B),
        op.getFlag('b'),
        op.cdev('b', 'start'),
        op.cdev('b', 'stop'),
        op.getFlag('b'),
      ],
      expect: ['ok', 'ok', 'ok', 'ok', 1, 'ok', 'ok', 1],
    },
  ]));

describe('§5.4 multi-open scenarios', () =>
  conformance([
    {
      section: '§5.4 multi-open row 1',
      title: "stop A's processor when B, who never started it, closes",
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        op.open('b', B),
        op.close('b'),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'ok', 'ok', 'ok', 'offline\n', 0],
    },
    {
      section: '§5.4 multi-open row 2',
      title: "answer B's start after A's with EBUSY before 5.19, and stack it on 5.19",
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        op.open('b', B),
        op.cdev('b', 'start'),
        op.read(),
        op.power(),
      ],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 'ok', 'EBUSY', 'running\n', 1],
        '5.13': ['ok', 'ok', 'ok', 'ok', 'EBUSY', 'running\n', 1],
        '5.19': ['ok', 'ok', 'ok', 'ok', 'ok', 'running\n', 2],
      },
    },
    {
      section: '§5.4 multi-open row 3',
      title: "stop under A when B closes before 5.19; on 5.19 keep running until A's close",
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        op.open('b', B),
        op.cdev('b', 'start'),
        op.close('b'),
        op.read(),
        op.power(),
        op.close('a'),
        op.read(),
        op.power(),
      ],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 'ok', 'EBUSY', 'ok', 'offline\n', 0, 'ok', 'offline\n', 0],
        '5.13': ['ok', 'ok', 'ok', 'ok', 'EBUSY', 'ok', 'offline\n', 0, 'ok', 'offline\n', 0],
        '5.19': ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'running\n', 1, 'ok', 'offline\n', 0],
      },
    },
    {
      section: '§5.4 multi-open row 4',
      title: 'stop on exit after a rejected second start before 5.19; on 5.19 leak the second reference',
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        op.cdev('a', 'start'),
        op.kill(A),
        op.read(),
        op.power(),
      ],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 'EBUSY', 'ok', 'offline\n', 0],
        '5.13': ['ok', 'ok', 'ok', 'EBUSY', 'ok', 'offline\n', 0],
        '5.19': ['ok', 'ok', 'ok', 'ok', 'ok', 'running\n', 1],
      },
    },
    {
      section: '§5.4 multi-open row 5',
      title:
        'do nothing when A exits while crashed with recovery pending, leaving the recovered processor unowned',
      // A slow stop keeps the recovery pending while a real process dies (the lab kills a real one).
      processors: [{ name: 'm4', stopMs: 100 }],
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        op.crash(),
        op.read(),
        op.kill(A),
        op.read(),
        op.advance(250),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'ok', 'ok', 'crashed\n', 'ok', 'crashed\n', 'ok', 'running\n', 1],
    },
    {
      section: '§5.4 multi-open row 5',
      title: "do nothing when A exits while crashed with recovery disabled, leaking A's reference",
      processors: STAYS_CRASHED,
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        op.crash(),
        op.kill(A),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'ok', 'ok', 'ok', 'ok', 'crashed\n', 1],
    },
    {
      section: '§5.4 multi-open row 6',
      title: 'stop an auto-booted processor when A sets the flag and closes without a start',
      processors: [{ name: 'm4', autoBoot: true }],
      ops: [
        op.advance(100),
        op.read(),
        op.power(),
        op.open('a', A),
        op.setFlag('a'),
        op.close('a'),
        op.read(),
        op.power(),
      ],
      expect: ['ok', 'running\n', 1, 'ok', 'ok', 'ok', 'offline\n', 0],
    },
  ]));

describe('§5.5 unregistration while an fd is open', () =>
  conformance([
    {
      section: '§5.5 unbind open',
      // Since v5.14 devtmpfs removes /dev/remoteprocN with the device (ENOENT); a static node gives ENXIO.
      title: 'refuse a new open after unbind (ENOENT: devtmpfs removed the node; ENXIO before 5.14)',
      ops: [op.open('a', A), op.unbind(), op.open('b', B)],
      expect: { '5.9': ['ok', 'ok', 'ENXIO'], '5.13': ['ok', 'ok', 'ENXIO'], '5.19': ['ok', 'ok', 'ENOENT'] },
    },
    {
      section: '§5.5 unbind start',
      // rproc_del's shutdown: none on 5.9 (no auto-boot); on 5.13 unconditional and with no state check,
      // so atomic_dec_and_test takes an unused count to -1; on 5.19 EINVAL (not RUNNING) leaves it at 0.
      title: 'fail start on an fd opened before unbind with ENODEV, without taking a reference',
      ops: [op.open('a', A), op.unbind(), op.cdev('a', 'start'), op.power()],
      expect: {
        '5.9': ['ok', 'ok', 'ENODEV', 0],
        '5.13': ['ok', 'ok', 'ENODEV', -1],
        '5.19': ['ok', 'ok', 'ENODEV', 0],
      },
    },
    {
      section: '§5.5 unbind stop',
      title: 'fail stop on an fd opened before unbind with EINVAL',
      ops: [op.open('a', A), op.cdev('a', 'start'), op.unbind(), op.cdev('a', 'stop')],
      expect: ['ok', 'ok', 'ok', 'EINVAL'],
    },
    {
      section: '§5.5 unbind release',
      // Before v5.13 rproc_del shuts down only auto-boot processors, so on 5.9 the reference stays.
      title: 'do nothing on release after unbind, even with the flag set',
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        op.unbind(),
        op.power(),
        op.close('a'),
        op.power(),
      ],
      expect: {
        '5.9': ['ok', 'ok', 'ok', 'ok', 1, 'ok', 1],
        '5.13': ['ok', 'ok', 'ok', 'ok', 0, 'ok', 0],
        '5.19': ['ok', 'ok', 'ok', 'ok', 0, 'ok', 0],
      },
    },
    {
      section: '§10 unbind with two references',
      // rproc_del's one shutdown only decrements. 5.19: DELETED, so the old descriptor's stop is
      // EINVAL; 7.3 ("Prevent crash handling to race with rproc_del()"): the state stays, stop works.
      title: 'keep running after unbind at power 2; the old descriptor stops it only on 7.3',
      profiles: ['5.19', '7.3'],
      ops: [
        op.open('a', A),
        op.cdev('a', 'start'),
        op.start(),
        op.unbind(),
        op.power(),
        op.cdev('a', 'start'),
        op.cdev('a', 'stop'),
        op.power(),
      ],
      expect: {
        '5.19': ['ok', 'ok', 'ok', 'ok', 1, 'ENODEV', 'EINVAL', 1],
        '7.3': ['ok', 'ok', 'ok', 'ok', 1, 'ENODEV', 'ok', 0],
      },
    },
    {
      section: '§10 unbind with two references',
      title: 'shut down on the flagged close after unbind at power 2 only on 7.3',
      profiles: ['5.19', '7.3'],
      ops: [
        op.open('a', A),
        op.setFlag('a'),
        op.cdev('a', 'start'),
        op.start(),
        op.unbind(),
        op.close('a'),
        op.power(),
      ],
      expect: {
        '5.19': ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 1],
        '7.3': ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 0],
      },
    },
    {
      section: '§10 crash after unbind',
      // Before the 2026 changes the crash worker overwrote DELETED with CRASHED and recovered the
      // processor, after which the old descriptor works again; 7.3 drops the report.
      title: 'recover a crash reported after unbind before 7.3; drop it on 7.3',
      profiles: ['5.19', '7.3'],
      ops: [
        op.open('a', A),
        op.cdev('a', 'start'),
        op.start(),
        op.unbind(),
        op.crash(),
        op.advance(200),
        op.cdev('a', 'stop'),
        op.power(),
      ],
      expect: {
        '5.19': ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 0],
        '7.3': ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 0],
      },
    },
  ]));
