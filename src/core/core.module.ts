import { Global, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { Clock, SystemClock } from './clock/clock';
import { DatabaseModule } from './database/database.module';
import { DependencyChecks } from './health/dependency-checks';
import { Readiness } from './health/readiness';
import { QueueModule } from './queue/queue.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RedisModule } from './redis/redis.module';

/** Everything every process needs: database, Redis, rate limits, queues, clock, audit, API keys, dependency checks. */
@Global()
@Module({
  imports: [DatabaseModule, RedisModule, RateLimitModule, QueueModule, AuditModule, AuthModule],
  providers: [{ provide: Clock, useClass: SystemClock }, DependencyChecks, Readiness],
  exports: [DatabaseModule, RedisModule, RateLimitModule, QueueModule, AuditModule, AuthModule, Clock, DependencyChecks, Readiness],
})
export class CoreModule {}
