import { DynamicModule, Module, type Type } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import type { AppConfig } from './config/config.schema';
import { CoreModule } from './core/core.module';
import { ProgressWorkerModule } from './progress/progress.module';
import { MigrationWorkerModule } from './rollout/migration/migration.module';
import { RampWorkerModule } from './rollout/campaigns/ramp.module';
import { WebhooksWorkerModule } from './webhooks/webhooks.module';
import { WorkerHeartbeat } from './worker-heartbeat';
import { WorkerHttpServer } from './worker-http.server';
import { WORKER_PROCESSORS, workerProcessors } from './worker-processors';
import { WorkerDrain } from './worker-shutdown';

/**
 * The worker process: BullMQ processors only (planner, migrator, ramp, reaper, reconciler),
 * plus its own HTTP port (metrics and the heartbeat liveness). WorkerDrain sits in this root
 * module so that closing the application drains the queues before the modules below close
 * PostgreSQL and Redis.
 */
/** The feature modules whose jobs the worker runs; their processors are found, not listed. */
export const WORKER_FEATURES: ReadonlyArray<Type<unknown>> = [ProgressWorkerModule, MigrationWorkerModule, RampWorkerModule, WebhooksWorkerModule];

@Module({})
export class WorkerModule {
  /** Throws before anything starts when the features' processors do not run every registered job exactly once. */
  static forRoot(config: AppConfig, features: ReadonlyArray<Type<unknown> | DynamicModule> = WORKER_FEATURES): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule.forRoot(config), CoreModule, ...features],
      providers: [{ provide: WORKER_PROCESSORS, useValue: workerProcessors(features) }, WorkerDrain, WorkerHeartbeat, WorkerHttpServer],
    };
  }
}
