import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { cutoverMetrics } from '../core/metrics/metrics';
import { RedisService } from '../core/redis/redis.service';

/** Long enough to outlast a few missed scrapes of the exporter (Prometheus scrapes every 15–60 s). */
export const LEADER_TTL_MS = 120_000;

/** KEYS: the lease; ARGV: this replica's id, ttl. Takes a free lease or renews our own; 1 when we hold it. */
const CLAIM = `local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

/**
 * Which API replica exports the installation-wide gauges (users per state, campaign figures,
 * queue depth): the holder of a Redis lease, renewed at each of its scrapes. The others export
 * only their own metrics, so a `sum` over pods counts every user once. When the holder stops
 * being scraped its lease runs out and the next replica scraped takes over. While Redis does
 * not answer, a replica keeps the role it last had.
 */
@Injectable()
export class MetricsLeader {
  private readonly log = new Logger(MetricsLeader.name);
  private readonly id = randomUUID();
  private leading = false;
  private readonly key: string;

  constructor(private readonly redis: RedisService) {
    this.key = redis.key('metrics', 'exporter');
  }

  async claim(): Promise<boolean> {
    try {
      const held = await this.redis.failFast().eval(CLAIM, 1, this.key, this.id, LEADER_TTL_MS);
      if ((held === 1) !== this.leading) this.log.log(held === 1 ? 'this replica now exports the installation-wide gauges' : 'another replica exports the installation-wide gauges');
      this.leading = held === 1;
    } catch (err) {
      this.log.debug(`metrics exporter lease not renewed (keeping the last role): ${String(err)}`);
    }
    cutoverMetrics.globalExporter.set(this.leading ? 1 : 0);
    return this.leading;
  }
}
