import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/campaigns.module';
import { FlagsModule } from '../../flags/flags.module';
import { backendProvider } from './backend/backend.provider';
import { BackfillRepository } from './backfill.repository';
import { BackfillService } from './backfill.service';
import { BatchesRepository } from './batches.repository';
import { ControlProcessor, MigrationSchedules } from './control.processor';
import { EnrolmentRepository } from './enrolment.repository';
import { EnrolmentService } from './enrolment.service';
import { OptInRateLimiter } from './opt-in-rate-limiter';
import { RetryFailedService } from './retry-failed.service';
import { UserBatches } from './user-batches.service';
import { MaintenanceRepository } from './maintenance.repository';
import { MaintenanceService } from './maintenance.service';
import { MaterializeRepository } from './materialize.repository';
import { MaterializerService } from './materializer.service';
import { EnrolmentController, RecoveryController } from './migration.controller';
import { MigrationProcessor } from './migration.processor';
import { MigratorService } from './migrator.service';
import { Pacer } from './pacer';
import { PlannerRepository } from './planner.repository';
import { PlannerService } from './planner.service';

/** The per-user services both processes use: opt-in, retry-failed, user batches, the planner's and materialiser's repositories. */
@Module({
  imports: [CampaignsModule],
  providers: [EnrolmentRepository, EnrolmentService, RetryFailedService, UserBatches, OptInRateLimiter, MaterializeRepository, PlannerRepository],
  exports: [EnrolmentRepository, EnrolmentService, RetryFailedService, UserBatches, OptInRateLimiter, MaterializeRepository, PlannerRepository],
})
export class MigrationServicesModule {}

/** API side: opt-in, retry-failed, recovery. Produces jobs, never consumes them. */
@Module({
  imports: [MigrationServicesModule],
  controllers: [EnrolmentController, RecoveryController],
  exports: [MigrationServicesModule],
})
export class MigrationModule {}

/** Worker side: planner, materialiser, batch migrator, reaper, reconciler, reassessment, data backfills. */
@Module({
  imports: [MigrationServicesModule, CampaignsModule, FlagsModule],
  providers: [
    backendProvider,
    BackfillRepository,
    BackfillService,
    BatchesRepository,
    MaintenanceRepository,
    MaintenanceService,
    MaterializerService,
    MigratorService,
    Pacer,
    PlannerService,
    MigrationProcessor,
    ControlProcessor,
    MigrationSchedules,
  ],
  exports: [MaintenanceService, PlannerService, MigratorService],
})
export class MigrationWorkerModule {}
