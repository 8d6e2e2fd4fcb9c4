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

/**
 * Tells every API replica that a flag changed (Redis pub/sub), carrying the committed row. The
 * replica that made the change applies it at once, before the publish: its next answer must
 * not wait for the message to come back (on a Redis Cluster it travels through another node).
 */
@Injectable()
export class FlagsNotifier {
  readonly channel: string;
  private readonly local = new Set<(notice: FlagChangeNotice) => void>();

  constructor(private readonly redis: RedisService) {
    this.channel = redis.key('flags', 'changed');
  }

  /** Listens to this process' own changes (the snapshot); returns the function that stops it. */
  onLocalChange(listener: (notice: FlagChangeNotice) => void): () => void {
    this.local.add(listener);
    return () => this.local.delete(listener);
  }

  async changed(flag: FlagView): Promise<void> {
    const notice: FlagChangeNotice = { key: flag.key, version: flag.version, flag: toJsonSafe(flag) as Record<string, unknown> };
    for (const listener of this.local) listener(notice);
    await this.redis.client.publish(this.channel, JSON.stringify(notice));
  }
}
