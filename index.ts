// rproc-supervisor: the platform-neutral entry (machines and the in-process kernel twin). Re-exports only.

export * from './actors/kernel/cdevCommand.js';
export * from './actors/kernel/KernelTwin.js';
export * from './actors/kernel/kernelDocument.js';
export * from './actors/kernel/PendingCall.js';
export * from './actors/kernel/processorSchema.js';
export * from './actors/kernel/runKernelDocument.js';
export * from './actors/kernel/sysfsAttributes.js';
export * from './actors/os/SimOs.js';
export * from './actors/trace.js';
export * from './actors/VirtualClock.js';
export * from './machines/errno.js';
export * from './machines/leaseMachine.js';
export * from './machines/profile.js';
export * from './machines/restartIntensity.js';
export * from './machines/rprocCore.js';
export * from './machines/rprocMachine.js';
export * from './machines/rprocTypes.js';
export * from './machines/supervisorMachine.js';
export * from './scenarios/checkExpect.js';
export * from './scenarios/metrics.js';
export * from './scenarios/runScenario.js';
export * from './scenarios/scenarioBuilder.js';
export * from './scenarios/scenarioSchema.js';
export * from './scenarios/World.js';
export * from './supervisors/Strategy.js';
export * from './supervisors/strategies.js';
