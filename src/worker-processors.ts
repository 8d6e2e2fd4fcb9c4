import type { WorkerHost } from '@nestjs/bullmq';
import type { DynamicModule, Type } from '@nestjs/common';
import { checkJobRegistry, processorsOf } from './core/queue/job-processor';

/** The worker's BullMQ processors, found in its feature modules: what the drain and the heartbeat watch. */
export const WORKER_PROCESSORS = Symbol('WORKER_PROCESSORS');
export type WorkerProcessors = ReadonlyArray<Type<WorkerHost>>;

/**
 * The processors these modules provide, after checking them against the job registry: throws
 * (the worker does not start) when a registered job has no processor or more than one.
 */
export function workerProcessors(features: ReadonlyArray<Type<unknown> | DynamicModule>): WorkerProcessors {
  const processors = processorsOf(features);
  checkJobRegistry(processors);
  return processors;
}
