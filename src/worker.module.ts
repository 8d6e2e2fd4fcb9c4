import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import type { AppConfig } from './config/config.schema';
import { CoreModule } from './core/core.module';
import { ProgressWorkerModule } from './progress/progress.module';
import { MigrationWorkerModule } from './rollout/migration/migration.module';
import { RampWorkerModule } from './rollout/campaigns/ramp.module';
import { WebhooksWorkerModule } from './webhooks/webhooks.module';
import { WorkerHeartbeat } from './worker-heartbeat';
import { WorkerHttpServer } from './worker-http.server';
import { WorkerDrain } from './worker-shutdown';

/**
 * The worker process: BullMQ processors only (planner, migrator, ramp, reaper, reconciler),
 * plus its own HTTP port (metrics and the heartbeat liveness). WorkerDrain sits in this root
 * module so that closing the application drains the queues before the modules below close
 * PostgreSQL and Redis.
 */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule.forRoot(config), CoreModule, ProgressWorkerModule, MigrationWorkerModule, RampWorkerModule, WebhooksWorkerModule],
      providers: [WorkerDrain, WorkerHeartbeat, WorkerHttpServer],
    };
  }
}
