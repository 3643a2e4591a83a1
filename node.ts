// rproc-supervisor/node: the Node-only entry (the command line and its file I/O). Re-exports only.

export { type ClientRequest, DaemonClient } from './actors/daemon/DaemonClient.js';
export {
  type LeaseLostReason,
  leaseLostReason,
  type PushedEvent,
  type Reply,
  type StatusBody,
} from './actors/daemon/protocol.js';
export * from './actors/drivers/cdevDriver.js';
export * from './actors/drivers/ioctl.js';
export * from './actors/drivers/RprocDriver.js';
export * from './actors/drivers/simDriver.js';
export * from './actors/drivers/sysfsDriver.js';
export { type MountedTwin, type MountTwinOptions, mountTwin } from './actors/fuse/mountTwin.js';
export * from './actors/RealClock.js';
export * from './cli/io.js';
export * from './cli/main.js';
export * from './supervisors/runtime/createSupervisor.js';
export {
  type Daemon,
  type DaemonLog,
  type DaemonOptions,
  startDaemon,
} from './supervisors/runtime/startDaemon.js';
