/** The public surface of scheduler/: what cli/ wires and tests use. See README.md. */
export { Cache } from './cache.ts';
export { type Diagnosis, Framework, fitErrorMessage } from './framework.ts';
export { NodeInfo } from './node-info.ts';
export { defaultPlugins } from './plugins/index.ts';
export { type QueuedPod, SchedulingQueue } from './queue.ts';
export { defaultSchedulerName, Scheduler, type SchedulerOptions } from './scheduler.ts';
export { type RunningScheduler, type StartSchedulerOptions, startScheduler } from './start.ts';
export type { Plugin, Snapshot, Status } from './types.ts';
