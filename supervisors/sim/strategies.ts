// The strategies, by name.

import { cdev } from './cdev.js';
import { hybrid, hybridFdStore, sysfsMonitor } from './monitorStrategy.js';
import { parentScript } from './parentScript.js';
import type { Strategy, StrategyName } from './Strategy.js';
import { sysfsDirect } from './sysfsDirect.js';

/** Every strategy, by its scenario name. */
export const STRATEGIES: Record<StrategyName, Strategy> = {
  'sysfs-direct': sysfsDirect,
  'parent-script': parentScript,
  'sysfs-monitor': sysfsMonitor,
  cdev,
  hybrid,
  'hybrid-fdstore': hybridFdStore,
};
