import { BullModule } from '@nestjs/bullmq';
import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { createRedis } from '../redis/redis.service';
import { bullPrefix } from '../redis/redis-topology';
import { ALL_QUEUES } from './queue.constants';
import { JobsService } from './jobs.service';

/**
 * BullMQ's connection. A single Redis is given as options (each queue and worker opens its
 * own). BullMQ takes a cluster only as a connection object, shared by every queue and
 * duplicated by each worker for its blocking reads; BullMQ leaves a shared one open, so it is
 * closed here, after the queues and workers (this module shuts down after the Bull modules it imports).
 */
@Injectable()
export class BullConnection implements OnApplicationShutdown {
  private cluster?: Redis;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  options(): ConnectionOptions {
    if (!this.config.redis.cluster) return { url: this.config.redis.url, maxRetriesPerRequest: null };
    this.cluster ??= createRedis(this.config.redis.url, { enableAutoPipelining: false });
    return this.cluster;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cluster?.quit().catch(() => this.cluster?.disconnect());
  }
}

@Module({ providers: [BullConnection], exports: [BullConnection] })
class BullConnectionModule {}

@Global()
@Module({
  imports: [
    BullConnectionModule,
    BullModule.forRootAsync({
      imports: [BullConnectionModule],
      inject: [APP_CONFIG, BullConnection],
      useFactory: (config: AppConfig, connection: BullConnection) => ({
        connection: connection.options(),
        prefix: bullPrefix(config.redis.cluster, config.redis.prefix),
      }),
    }),
    BullModule.registerQueue(...ALL_QUEUES.map((name) => ({ name }))),
  ],
  providers: [JobsService],
  exports: [JobsService, BullModule],
})
export class QueueModule {}
