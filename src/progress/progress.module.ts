import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard/dashboard.controller';
import { MetricsController } from './metrics.controller';
import { MetricsHttpServer } from './metrics-http.server';
import { MetricsLeader } from './metrics-leader';
import { MetricsService } from './metrics.service';
import { ProgressStreamHub } from './progress-stream.hub';
import { ProgressController } from './progress.controller';
import { ProgressRepository } from './progress.repository';
import { ProgressService } from './progress.service';
import { SamplerProcessor, SamplerScheduler } from './sampler.processor';
import { SamplerService } from './sampler.service';
import { StatementLog } from './statement-log';

/** The progress read model both processes use: counters, samples and the statement log. */
@Module({ providers: [StatementLog, ProgressRepository], exports: [StatementLog, ProgressRepository] })
export class ProgressReadModule {}

/** API side: progress JSON, SSE, /metrics and the dashboard page. */
@Module({
  imports: [ProgressReadModule],
  controllers: [ProgressController, MetricsController, DashboardController],
  providers: [ProgressService, ProgressStreamHub, MetricsService, MetricsLeader, MetricsHttpServer],
  exports: [ProgressService],
})
export class ProgressModule {}

/** Worker side: the sampler (job scheduler + processor). */
@Module({
  imports: [ProgressReadModule],
  providers: [SamplerService, SamplerProcessor, SamplerScheduler],
})
export class ProgressWorkerModule {}
