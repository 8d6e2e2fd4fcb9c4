import { Injectable } from '@nestjs/common';
import { toJsonSafe } from '../core/json';
import { RedisService } from '../core/redis/redis.service';
import type { FlagView } from './flags.types';

export interface FlagChangeNotice {
  key: string;
  version: number;
  /** the committed flag itself, so that replicas apply it without a database round trip */
  flag?: Record<string, unknown>;
}

/** Rebuilds the FlagView carried by a notice (JSON: id as string, dates as ISO strings). */
export function flagFromNotice(n: FlagChangeNotice): FlagView | null {
  const f = n.flag;
  if (!f || typeof f.id !== 'string' || f.key !== n.key || f.version !== n.version) return null;
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : null);
  return { ...(f as unknown as FlagView), id: BigInt(f.id), killedAt: date(f.killedAt), archivedAt: date(f.archivedAt), createdAt: date(f.createdAt)!, updatedAt: date(f.updatedAt)! };
}

/** Tells every API replica that a flag changed (Redis pub/sub), carrying the committed row. */
@Injectable()
export class FlagsNotifier {
  readonly channel: string;

  constructor(private readonly redis: RedisService) {
    this.channel = redis.key('flags', 'changed');
  }

  async changed(flag: FlagView): Promise<void> {
    const notice: FlagChangeNotice = { key: flag.key, version: flag.version, flag: toJsonSafe(flag) as Record<string, unknown> };
    await this.redis.client.publish(this.channel, JSON.stringify(notice));
  }
}
