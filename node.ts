// rproc-supervisor/node: the Node-only entry (the command line and its file I/O). Re-exports only.

export * from './actors/drivers/cdevDriver.js';
export * from './actors/drivers/ioctl.js';
export * from './actors/drivers/RprocDriver.js';
export * from './actors/drivers/simDriver.js';
export * from './actors/drivers/sysfsDriver.js';
export * from './actors/RealClock.js';
export * from './cli/io.js';
export * from './cli/main.js';
export * from './supervisors/runtime/createSupervisor.js';
