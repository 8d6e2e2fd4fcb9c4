import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { cutoverMetrics } from '../core/metrics/metrics';
import { RedisService } from '../core/redis/redis.service';
import { BatchedLookup } from './batched-lookup';
import { PPM, bucketOf } from './bucketing';
import { FlagsRepository } from './flags.repository';
import { RatchetRepository, type EnabledUser } from './ratchet.repository';

/** Sets per (flag, bucket) are split by the low user-id bits so each stays a compact intset (≤ 512 members) up to ~2bn users. */
const SHARDS = 4;
const REBUILD_PAGE = 10_000;
const BITMAP_BYTES = PPM / 8;

export interface RatchetNotice {
  /** flag id */
  f: string;
  /** buckets that gained an enabled user; absent when the whole bitmap should be reloaded */
  b?: number[];
}

const USER_ID = /^[0-9]{1,19}$/;

const BIGINT_SHARDS = BigInt(SHARDS);

/**
 * KEYS: the bucket bitmap; ARGV: the set-key prefix, then `bucket:shard:userId,…`. Adds each
 * user to its (bucket, shard) set and sets its bucket's bit (setKey() names the same keys).
 */
const WRITE_SETS = `
for b, s, u in string.gmatch(ARGV[2], '(%d+):(%d+):(%d+)') do
  redis.call('SADD', ARGV[1] .. b .. ':' .. s, u)
  redis.call('SETBIT', KEYS[1], tonumber(b), 1)
end
return 1`;

/**
 * KEYS: the flag's synced marker, then sets; ARGV: the user id to look for in each set. -1 while
 * the marker is missing: the sets may be incomplete (Redis lost them, a rebuild is under way).
 */
const ARE_MEMBERS = `if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local out = {} for i = 2, #KEYS do out[i - 1] = redis.call('SISMEMBER', KEYS[i], ARGV[i - 1]) end return out`;
const ARE_MEMBERS_SHA = createHash('sha1').update(ARE_MEMBERS).digest('hex');

/** KEYS: lock, synced; ARGV: token, stamp. Sets the marker only while the lock is still ours. */
const MARK_IF_LOCKED = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[2], ARGV[2]) return 1 end return 0`;
/** KEYS: lock; ARGV: token. Releases the lock only if it is still ours. */
const DEL_IF_LOCKED = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * The one-way ratchet for evaluation (docs/flags.md "Ratchet"): which users of a flag are
 * already `enabled` in PostgreSQL. Redis holds the exact sets (per flag, bucket and shard)
 * plus a 125 KB bitmap of occupied buckets; each API replica keeps a copy of that bitmap, so
 * most evaluations rule the ratchet out in memory and only users in an occupied bucket cost
 * one lookup. PostgreSQL stays the truth: a lost Redis is rebuilt from `user_migrations`, and
 * until the rebuild is complete (or while Redis does not answer) lookups go to PostgreSQL,
 * for the buckets its batch records say may hold enabled users (`suspect` flags).
 */
@Injectable()
export class RatchetService {
  private readonly log = new Logger(RatchetService.name);
  private readonly bitmaps = new Map<string, Uint8Array>();
  /** flags whose Redis sets may be incomplete: the buckets PostgreSQL says may hold enabled users */
  private readonly suspects = new Map<string, Uint8Array>();
  private readonly fallback: BatchedLookup;
  readonly channel: string;

  constructor(
    private readonly redis: RedisService,
    private readonly repo: RatchetRepository,
    private readonly flags: FlagsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.channel = redis.key('ratchet', 'changed');
    this.fallback = new BatchedLookup((flagId, ids) => repo.enabledAmong(flagId, ids), config.flags.ratchetFallbackConcurrency);
  }

  private setKey(flagId: bigint | string, bucket: number, userId: bigint): string {
    return this.redis.key('ratchet', flagId, 'u', bucket, Number(userId % BigInt(SHARDS)));
  }

  private bitmapKey(flagId: bigint | string): string {
    return this.redis.key('ratchet', flagId, 'buckets');
  }

  private syncedKey(flagId: bigint | string): string {
    return this.redis.key('ratchet', flagId, 'synced');
  }

  /** Called right after a batch commit that enabled `users` (idempotent: sets and bits). */
  async recordEnabled(flagId: bigint, users: ReadonlyArray<EnabledUser>): Promise<void> {
    if (users.length === 0) return;
    await this.write(flagId, users);
    const buckets = [...new Set(users.map((u) => u.bucket))];
    this.setBits(String(flagId), buckets);
    await this.redis.client.publish(this.channel, JSON.stringify({ f: String(flagId), b: buckets } satisfies RatchetNotice));
  }

  /**
   * One EVAL per batch: the users travel packed in one argument (`bucket:shard:userId,…`) and
   * the script does the SADDs and SETBITs: a command per user (a batch lands about one user
   * per bucket) would cost the worker more CPU than the batch's SQL. The set keys are built in
   * the script from the flag's prefix, so they are not declared in KEYS: fine on the single
   * Redis (or primary) Cutover supports, not on a Cluster.
   */
  private async write(flagId: bigint, users: ReadonlyArray<EnabledUser>): Promise<void> {
    const packed = users.map((u) => `${u.bucket}:${u.userId % BIGINT_SHARDS}:${u.userId}`).join(',');
    try {
      await this.redis.client.eval(WRITE_SETS, 1, this.bitmapKey(flagId), `${this.redis.key('ratchet', flagId, 'u')}:`, packed);
    } catch (err) {
      throw new Error('ratchet write to Redis failed', { cause: err });
    }
  }

  /** Exact answer (one Redis round trip). `bucket` saves a flag lookup when the caller knows it. */
  async isEnabled(flagId: bigint, targetingKey: string, bucket?: number): Promise<boolean> {
    if (!USER_ID.test(targetingKey)) return false;
    const userId = BigInt(targetingKey);
    if (bucket === undefined) {
      const flag = await this.flags.findById(flagId);
      if (!flag) return false;
      bucket = bucketOf(flag.salt, targetingKey);
    }
    return (await this.enabledAmong(flagId, [{ userId, bucket }]))[0];
  }

  /**
   * Which of these users are enabled: one script call, so a single Redis round trip whatever
   * their number and less client CPU than a pipeline. Buckets are the flag's, computed by the
   * caller. Single Redis only, like WRITE_SETS. PostgreSQL answers instead when the flag's sets
   * are incomplete or Redis does not answer.
   */
  async enabledAmong(flagId: bigint, users: ReadonlyArray<EnabledUser>): Promise<boolean[]> {
    if (users.length === 0) return [];
    const fromRedis = await this.lookupInRedis(flagId, users).catch((err: unknown) => {
      this.log.debug(`ratchet lookup in Redis failed, asking PostgreSQL: ${String(err)}`);
      return null;
    });
    if (Array.isArray(fromRedis)) return fromRedis;
    if (fromRedis === 'unsynced') void this.suspect(String(flagId));
    const found = await this.fallback.lookup(flagId, users.map((u) => u.userId)).catch((err: unknown) => {
      throw new Error('ratchet lookup failed in Redis and in PostgreSQL', { cause: err });
    });
    for (const on of found) cutoverMetrics.ratchetFallbacks.inc({ result: on ? 'enabled' : 'not_enabled' });
    return found;
  }

  private async lookupInRedis(flagId: bigint, users: ReadonlyArray<EnabledUser>): Promise<boolean[] | 'unsynced'> {
    const client = this.redis.failFast();
    const args = [this.syncedKey(flagId), ...users.map((u) => this.setKey(flagId, u.bucket, u.userId)), ...users.map((u) => u.userId.toString())];
    const reply = (await client.evalsha(ARE_MEMBERS_SHA, users.length + 1, ...args).catch((err: unknown) => {
      if (!String(err).includes('NOSCRIPT')) throw err;
      return client.eval(ARE_MEMBERS, users.length + 1, ...args); // first call, or Redis restarted: loads the script
    })) as number[] | number;
    return Array.isArray(reply) ? reply.map((n) => n === 1) : 'unsynced';
  }

  /** Whether any user of this flag may be enabled at all (this replica's copy of the bitmap, or a suspect flag). */
  hasAny(flagId: string): boolean {
    return this.bitmaps.has(flagId) || this.suspects.has(flagId);
  }

  /** In memory, no I/O: false means "certainly not enabled"; true means "ask isEnabled". */
  mayBeEnabled(flagId: string, bucket: number): boolean {
    return bitSet(this.bitmaps.get(flagId), bucket) || bitSet(this.suspects.get(flagId), bucket);
  }

  /** Whether this replica treats the flag's Redis sets as possibly incomplete. */
  isSuspect(flagId: string): boolean {
    return this.suspects.has(flagId);
  }

  /**
   * Until the flag's rebuild completes, the buckets PostgreSQL's batch records say may hold
   * enabled users count as occupied, so nobody of them is answered from a partial bitmap.
   * Marks the flag at once with what this replica knows, then widens it from PostgreSQL.
   */
  suspect(flagId: string): Promise<void> {
    if (this.suspects.has(flagId)) return Promise.resolve();
    const bm = new Uint8Array(BITMAP_BYTES);
    const known = this.bitmaps.get(flagId);
    if (known) bm.set(known);
    else bm.fill(0xff); // nothing known yet: every bucket may hold someone until PostgreSQL says which
    this.suspects.set(flagId, bm);
    return this.repo.occupiedBuckets(BigInt(flagId)).then(
      ({ rangeBelow, buckets }) => {
        const exact = new Uint8Array(BITMAP_BYTES);
        if (known) exact.set(known);
        for (let b = 0; b < rangeBelow; b++) exact[b >> 3] |= 0x80 >> (b & 7);
        for (const b of buckets) exact[b >> 3] |= 0x80 >> (b & 7);
        if (this.suspects.get(flagId) === bm) this.suspects.set(flagId, exact);
      },
      (err: unknown) => this.log.warn(`could not read which buckets of flag ${flagId} hold enabled users; treating all as occupied until the rebuild: ${String(err)}`),
    );
  }

  /** Ends the PostgreSQL fallback of a flag once Redis says its sets are complete and the bitmap is loaded. */
  async settleIfSynced(flagId: string): Promise<boolean> {
    if (!this.suspects.has(flagId)) return true;
    if (!(await this.redis.client.exists(this.syncedKey(flagId)))) return false;
    await this.loadBitmap(flagId);
    this.suspects.delete(flagId);
    this.log.log(`the ratchet of flag ${flagId} is complete in Redis again; lookups left PostgreSQL`);
    return true;
  }

  /** Whether the flag's sets are marked complete in Redis (a replica starting checks before it serves). */
  async isSynced(flagId: bigint): Promise<boolean> {
    return (await this.redis.client.exists(this.syncedKey(flagId))) === 1;
  }

  private setBits(flagId: string, buckets: readonly number[]): void {
    let bm = this.bitmaps.get(flagId);
    if (!bm) this.bitmaps.set(flagId, (bm = new Uint8Array(BITMAP_BYTES)));
    for (const b of buckets) bm[b >> 3] |= 0x80 >> (b & 7);
  }

  /** Applies a notice from another process (bits only ever get set: the ratchet is one-way). */
  async applyNotice(notice: RatchetNotice): Promise<void> {
    if (notice.b) this.setBits(notice.f, notice.b);
    else if (this.suspects.has(notice.f)) await this.settleIfSynced(notice.f);
    else await this.loadBitmap(notice.f);
  }

  /** ORs Redis' bucket bitmap into the local copy (startup and periodic healing). */
  async loadBitmap(flagId: string): Promise<void> {
    const buf = await this.redis.client.getBuffer(this.bitmapKey(flagId));
    if (!buf || buf.length === 0) return;
    let bm = this.bitmaps.get(flagId);
    if (!bm) this.bitmaps.set(flagId, (bm = new Uint8Array(BITMAP_BYTES)));
    for (let i = 0; i < buf.length && i < BITMAP_BYTES; i++) bm[i] |= buf[i];
  }

  /**
   * Self-healing: when the flag's "synced" marker is missing (new flag, flushed or lost
   * Redis), rebuilds the sets from PostgreSQL under a lock. Batches committing meanwhile also
   * write through recordEnabled, so the union is complete. The marker is set only while this
   * rebuild still holds its lock: if Redis loses the keys mid-rebuild (the lock with them),
   * the marker stays missing and the next pass starts over. Returns whether it rebuilt.
   */
  async ensureSynced(flagId: bigint): Promise<boolean> {
    if (await this.redis.client.exists(this.syncedKey(flagId))) return false;
    const lock = this.redis.key('ratchet', flagId, 'rebuild-lock');
    const token = randomUUID();
    if ((await this.redis.client.set(lock, token, 'PX', 120_000, 'NX')) !== 'OK') return false;
    try {
      let total = 0;
      for (const campaignId of await this.repo.campaignIdsOfFlag(flagId)) {
        for (let after = 0n; ; ) {
          const page = await this.repo.enabledUsersPage(campaignId, after, REBUILD_PAGE);
          if (page.length === 0) break;
          await this.write(flagId, page);
          await this.redis.client.pexpire(lock, 120_000);
          total += page.length;
          after = page[page.length - 1].userId;
        }
      }
      const marked = await this.redis.client.eval(MARK_IF_LOCKED, 2, lock, this.syncedKey(flagId), token, String(Date.now()));
      if (marked !== 1) {
        this.log.warn(`the ratchet of flag ${flagId} lost its rebuild lock mid-rebuild (Redis flushed?); the next pass rebuilds it`);
        return false;
      }
      if (total > 0) this.log.log(`rebuilt the ratchet of flag ${flagId} from PostgreSQL (${total} enabled users)`);
      await this.redis.client.publish(this.channel, JSON.stringify({ f: String(flagId) } satisfies RatchetNotice));
      return true;
    } finally {
      await this.redis.client.eval(DEL_IF_LOCKED, 1, lock, token);
    }
  }
}

function bitSet(bm: Uint8Array | undefined, bucket: number): boolean {
  return bm !== undefined && (bm[bucket >> 3] & (0x80 >> (bucket & 7))) !== 0;
}
