// cdev front end: write, ioctl and release of /dev/remoteprocN (kernel-semantics §5).

import { fail, ok, type Result } from '../../machines/errno.js';
import { profileFeatures } from '../../machines/profile.js';
import {
  parseCdevCommand,
  RPROC_GET_SHUTDOWN_ON_RELEASE,
  RPROC_SET_SHUTDOWN_ON_RELEASE,
} from './cdevCommand.js';
import { PendingCall } from './PendingCall.js';
import { layerCommand, type Processor } from './Processor.js';

const OP = 'cdev.write';

/** `rproc_cdev_write`: settles with the byte count, or the kernel's errno. */
export function cdevWrite(p: Processor, bytes: Uint8Array): PendingCall<number> {
  const cmd = parseCdevCommand(bytes, profileFeatures(p.profile).detachCommand);
  if (cmd === 'EINVAL') return PendingCall.settled(fail('EINVAL', OP, 'Unrecognized option'));
  return layerCommand(p, cmd, OP, bytes.length);
}

/**
 * `rproc_device_ioctl`. `arg` is the int32 the pointer points at (for SET); `undefined` stands for a bad
 * pointer (EFAULT). SET returns 0; GET returns the flag as 0 or 1; any other request is EINVAL.
 */
export function cdevIoctl(p: Processor, request: number, arg: number | undefined): Result<number> {
  switch (request >>> 0) {
    case RPROC_SET_SHUTDOWN_ON_RELEASE:
      if (arg === undefined) return fail('EFAULT', 'cdev.ioctl', 'bad argument pointer');
      p.set({ shutdownOnRelease: arg !== 0 });
      return ok(0);
    case RPROC_GET_SHUTDOWN_ON_RELEASE:
      return ok(p.context.shutdownOnRelease ? 1 : 0);
    default:
      return fail('EINVAL', 'cdev.ioctl', `Unsupported ioctl 0x${(request >>> 0).toString(16)}`);
  }
}

/**
 * `rproc_cdev_release`, on the last close of an open file description. Acts only when the per-processor
 * flag is set: RUNNING → shutdown, ATTACHED → detach (v5.13+), anything else → nothing. Its result is
 * discarded; the returned call settles when the release has finished.
 */
export function cdevRelease(p: Processor): PendingCall<undefined> {
  const ctx = p.context;
  if (!ctx.shutdownOnRelease) return PendingCall.settled(ok());
  // The state is read without the lock, as the kernel does.
  if (ctx.state === 'running') return p.call('shutdown').map(() => ok());
  if (ctx.state === 'attached' && profileFeatures(p.profile).detachCommand) {
    return p.call('detach').map(() => ok());
  }
  return PendingCall.settled(ok());
}
