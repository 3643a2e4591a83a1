// rproc-supervisor: the platform-neutral entry (machines and the in-process kernel twin). Re-exports only.

export * from './actors/kernel/cdevCommand.js';
export * from './actors/kernel/KernelTwin.js';
export * from './actors/kernel/kernelDocument.js';
export * from './actors/kernel/PendingCall.js';
export * from './actors/kernel/processorSchema.js';
export * from './actors/kernel/runKernelDocument.js';
export * from './actors/kernel/sysfsAttributes.js';
export * from './actors/VirtualClock.js';
export * from './machines/errno.js';
export * from './machines/profile.js';
export * from './machines/rprocCore.js';
export * from './machines/rprocMachine.js';
export * from './machines/rprocTypes.js';
