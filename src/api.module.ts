import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ConfigModule } from './config/config.module';
import type { AppConfig } from './config/config.schema';
import { AuditController } from './core/audit/audit.controller';
import { ApiKeysController } from './core/auth/api-keys.controller';
import { WhoAmIController } from './core/auth/whoami.controller';
import { AuthGuard } from './core/auth/auth.guard';
import { CoreModule } from './core/core.module';
import { AllErrorsFilter } from './core/errors/error.filter';
import { HealthController } from './core/health/health.controller';
import { WritesNeedRedisGuard } from './core/health/readiness';
import { UsersModule } from './users/users.module';
import { ProgressModule } from './progress/progress.module';
import { FlagsHttpModule } from './flags/flags-http.module';
import { CampaignsModule } from './rollout/campaigns/campaigns.module';
import { MigrationModule } from './rollout/migration/migration.module';
import { RampModule } from './rollout/campaigns/ramp.module';
import { AlertsModule } from './alerts/alerts.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/** The API process: HTTP controllers and job producers, never job consumers. */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [ConfigModule.forRoot(config), CoreModule, FlagsHttpModule, ProgressModule, UsersModule, CampaignsModule, MigrationModule, RampModule, AlertsModule, WebhooksModule],
      controllers: [HealthController, ApiKeysController, WhoAmIController, AuditController],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: WritesNeedRedisGuard },
        { provide: APP_FILTER, useClass: AllErrorsFilter },
      ],
    };
  }
}
