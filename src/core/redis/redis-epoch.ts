import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { cutoverMetrics } from '../metrics/metrics';
import { RedisService } from './redis.service';
import { bullPrefix } from './redis-topology';

/** KEYS: the epoch key; ARGV: a candidate epoch. Sets it when absent, returns the one in force. */
const CLAIM = `redis.call('SET', KEYS[1], ARGV[1], 'NX') return redis.call('GET', KEYS[1])`;

export type RedisLossListener = (epoch: string) => Promise<void> | void;

/**
 * Detects a Redis that lost its data (a FLUSHALL, a restart without persistence, a failover to
 * an empty replica): an epoch key is written once and read back every
 * REDIS_EPOCH_CHECK_INTERVAL_MS. A missing key, or one another process already replaced, means
 * everything Redis held is gone, and each listener rebuilds its part from PostgreSQL (job
 * schedules, queued batches' jobs, the flag ratchet). An unreachable Redis is not a loss: the
 * check waits for the connection to come back and then compares.
 */
@Injectable()
export class RedisEpoch implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(RedisEpoch.name);
  private readonly listeners: RedisLossListener[] = [];
  private epoch: string | null = null;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<boolean>;
  readonly key: string;

  constructor(
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // in a cluster a node can lose its slots alone: the epoch shares the slot of BullMQ's keys
    // (bullPrefix), whose loss is the one that stalls the engine (schedules, queued jobs)
    this.key = redis.cluster ? `${bullPrefix(true, redis.prefix)}:epoch` : redis.key('epoch');
  }

  /** Register in onModuleInit or earlier: the first check runs at application bootstrap. */
  onLoss(listener: RedisLossListener): void {
    this.listeners.push(listener);
  }

  get current(): string | null {
    return this.epoch;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.check().catch((err: unknown) => this.log.warn(`Redis epoch check failed: ${String(err)}`));
    this.timer = setInterval(() => {
      this.check().catch((err: unknown) => this.log.warn(`Redis epoch check failed: ${String(err)}`));
    }, this.config.redis.epochCheckIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One check at a time (a check waits while Redis is unreachable); true when it found a loss. */
  check(): Promise<boolean> {
    this.checking ??= this.compare().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async compare(): Promise<boolean> {
    const current = String(await this.redis.client.eval(CLAIM, 1, this.key, randomUUID()));
    const previous = this.epoch;
    this.epoch = current;
    if (previous === null || previous === current) return false;
    this.log.warn(`Redis lost its data (epoch ${previous} is gone, now ${current}); rebuilding schedules, queued jobs and the ratchet from PostgreSQL`);
    cutoverMetrics.redisDataLosses.inc();
    for (const listener of this.listeners) {
      await Promise.resolve(listener(current)).catch((err: unknown) => this.log.error(`recovering from the Redis data loss failed (the periodic upkeep retries): ${String(err)}`));
    }
    return true;
  }
}
