import { Global, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { Clock, SystemClock } from './clock/clock';
import { DatabaseModule } from './database/database.module';
import { DependencyChecks } from './health/dependency-checks';
import { QueueModule } from './queue/queue.module';
import { RedisModule } from './redis/redis.module';

/** Everything every process needs: database, Redis, queues, clock, audit, API keys, dependency checks. */
@Global()
@Module({
  imports: [DatabaseModule, RedisModule, QueueModule, AuditModule, AuthModule],
  providers: [{ provide: Clock, useClass: SystemClock }, DependencyChecks],
  exports: [DatabaseModule, RedisModule, QueueModule, AuditModule, AuthModule, Clock, DependencyChecks],
})
export class CoreModule {}
