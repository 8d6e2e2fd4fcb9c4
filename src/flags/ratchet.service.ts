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
/** In a Redis Cluster a flag's sets spread over this many slots (by bucket): at 1bn enabled users, ≈ 8 GB / 64 per slot. */
const SLABS = 64;
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

/** Cluster form of WRITE_SETS for one slab: KEYS: sets; ARGV: the user id to add to each. */
const ADD_ALL = `for i = 1, #KEYS do redis.call('SADD', KEYS[i], ARGV[i]) end return #KEYS`;
/** KEYS: the bucket bitmap; ARGV: buckets whose bit to set. */
const SET_BITS = `for i = 1, #ARGV do redis.call('SETBIT', KEYS[1], tonumber(ARGV[i]), 1) end return #ARGV`;

/**
 * KEYS: the slab's synced marker (the flag's on a single Redis), then sets; ARGV: the user id to look for in each set. -1 while
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

  /**
   * Key groups (docs/operations.md "Redis Cluster"): the flag's bitmap, marker and rebuild lock
   * form one group; its sets are split over SLABS groups by bucket, each with its own marker and
   * lock in the same slot, so a lookup script only touches keys of one slot and a cluster node
   * that loses its data takes the marker of what it lost with it. On a single Redis there is one
   * group per flag and the key names stay what they always were.
   */
  private flagGroup(flagId: bigint | string): Array<string | bigint> {
    return ['ratchet', flagId];
  }

  private slabGroup(flagId: bigint | string, bucket: number): Array<string | bigint> {
    return this.redis.cluster ? ['ratchet', flagId, `s${bucket % SLABS}`] : this.flagGroup(flagId);
  }

  private slabGroups(flagId: bigint | string): Array<Array<string | bigint>> {
    if (!this.redis.cluster) return [this.flagGroup(flagId)];
    return Array.from({ length: SLABS }, (_, slab) => this.slabGroup(flagId, slab));
  }

  private setKey(flagId: bigint | string, bucket: number, userId: bigint): string {
    return this.redis.groupKey(this.slabGroup(flagId, bucket), 'u', bucket, Number(userId % BigInt(SHARDS)));
  }

  private bitmapKey(flagId: bigint | string): string {
    return this.redis.groupKey(this.flagGroup(flagId), 'buckets');
  }

  /** Every "synced" marker of the flag: its own, then one per slab (the same key on a single Redis). */
  private syncedKeys(flagId: bigint | string): string[] {
    const keys = [this.redis.groupKey(this.flagGroup(flagId), 'synced'), ...this.slabGroups(flagId).map((g) => this.redis.groupKey(g, 'synced'))];
    return [...new Set(keys)];
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
   * the script from the flag's prefix, which a single Redis allows; in a cluster each slab's
   * sets go in one script with declared keys, and the bits after them (a set before its bit).
   */
  private async write(flagId: bigint, users: ReadonlyArray<EnabledUser>): Promise<void> {
    try {
      if (!this.redis.cluster) {
        const packed = users.map((u) => `${u.bucket}:${u.userId % BIGINT_SHARDS}:${u.userId}`).join(',');
        await this.redis.client.eval(WRITE_SETS, 1, this.bitmapKey(flagId), `${this.redis.key('ratchet', flagId, 'u')}:`, packed);
        return;
      }
      await Promise.all(
        [...this.bySlab(flagId, users).values()].map((slab) =>
          this.redis.client.eval(ADD_ALL, slab.length, ...slab.map((u) => this.setKey(flagId, u.bucket, u.userId)), ...slab.map((u) => u.userId.toString())),
        ),
      );
      await this.redis.client.eval(SET_BITS, 1, this.bitmapKey(flagId), ...new Set(users.map((u) => u.bucket)));
    } catch (err) {
      throw new Error('ratchet write to Redis failed', { cause: err });
    }
  }

  /** Users by slab (keyed by the slab's marker), with their positions in `users`. */
  private bySlab<T extends EnabledUser>(flagId: bigint, users: ReadonlyArray<T>): Map<string, Array<T & { at: number }>> {
    const groups = new Map<string, Array<T & { at: number }>>();
    users.forEach((u, at) => {
      const key = this.redis.groupKey(this.slabGroup(flagId, u.bucket), 'synced');
      const g = groups.get(key) ?? [];
      g.push({ ...u, at });
      groups.set(key, g);
    });
    return groups;
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
   * Which of these users are enabled: one script call (one per slab in a cluster), so a single
   * round trip whatever their number and less client CPU than a pipeline. Buckets are the
   * flag's, computed by the caller. PostgreSQL answers instead when the flag's sets
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

  /** One script call: on a single Redis for all the users, in a cluster one per slab they fall in. */
  private async lookupInRedis(flagId: bigint, users: ReadonlyArray<EnabledUser>): Promise<boolean[] | 'unsynced'> {
    if (!this.redis.cluster) {
      const reply = await this.areMembers(this.redis.groupKey(this.flagGroup(flagId), 'synced'), flagId, users);
      return Array.isArray(reply) ? reply.map((n) => n === 1) : 'unsynced';
    }
    const out = new Array<boolean>(users.length);
    const complete = await Promise.all(
      [...this.bySlab(flagId, users)].map(async ([marker, slab]) => {
        const reply = await this.areMembers(marker, flagId, slab);
        if (!Array.isArray(reply)) return false;
        slab.forEach((u, i) => (out[u.at] = reply[i] === 1));
        return true;
      }),
    );
    return complete.every(Boolean) ? out : 'unsynced';
  }

  private async areMembers(marker: string, flagId: bigint, users: ReadonlyArray<EnabledUser>): Promise<number[] | number> {
    const client = this.redis.failFast();
    const args = [marker, ...users.map((u) => this.setKey(flagId, u.bucket, u.userId)), ...users.map((u) => u.userId.toString())];
    return (await client.evalsha(ARE_MEMBERS_SHA, users.length + 1, ...args).catch((err: unknown) => {
      if (!String(err).includes('NOSCRIPT')) throw err;
      return client.eval(ARE_MEMBERS, users.length + 1, ...args); // first call, or Redis restarted: loads the script
    })) as number[] | number;
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
    if (!(await this.isSynced(BigInt(flagId)))) return false;
    await this.loadBitmap(flagId);
    this.suspects.delete(flagId);
    this.log.log(`the ratchet of flag ${flagId} is complete in Redis again; lookups left PostgreSQL`);
    return true;
  }

  /** Whether the flag's sets are marked complete in Redis (a replica starting checks before it serves). */
  async isSynced(flagId: bigint): Promise<boolean> {
    const found = await Promise.all(this.syncedKeys(flagId).map((k) => this.redis.client.exists(k)));
    return found.every((n) => n === 1);
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
    if (await this.isSynced(flagId)) return false;
    const lock = this.redis.groupKey(this.flagGroup(flagId), 'rebuild-lock');
    const token = randomUUID();
    if ((await this.redis.client.set(lock, token, 'PX', 120_000, 'NX')) !== 'OK') return false;
    // in a cluster each slab's marker is set under a lock in its own slot (see syncedKeys)
    const marks = this.syncedKeys(flagId).map((marker) => ({ marker, lock: marker.replace(/:synced$/, ':rebuild-lock') }));
    const locks = marks.map((m) => m.lock);
    try {
      await Promise.all(locks.filter((k) => k !== lock).map((k) => this.redis.client.set(k, token, 'PX', 120_000)));
      let total = 0;
      for (const campaignId of await this.repo.campaignIdsOfFlag(flagId)) {
        for (let after = 0n; ; ) {
          const page = await this.repo.enabledUsersPage(campaignId, after, REBUILD_PAGE);
          if (page.length === 0) break;
          await this.write(flagId, page);
          await Promise.all(locks.map((k) => this.redis.client.pexpire(k, 120_000)));
          total += page.length;
          after = page[page.length - 1].userId;
        }
      }
      const marked = await Promise.all(marks.map((m) => this.redis.client.eval(MARK_IF_LOCKED, 2, m.lock, m.marker, token, String(Date.now()))));
      if (marked.some((n) => n !== 1)) {
        this.log.warn(`the ratchet of flag ${flagId} lost its rebuild lock mid-rebuild (Redis flushed?); the next pass rebuilds it`);
        return false;
      }
      if (total > 0) this.log.log(`rebuilt the ratchet of flag ${flagId} from PostgreSQL (${total} enabled users)`);
      await this.redis.client.publish(this.channel, JSON.stringify({ f: String(flagId) } satisfies RatchetNotice));
      return true;
    } finally {
      await Promise.all(locks.map((k) => this.redis.client.eval(DEL_IF_LOCKED, 1, k, token)));
    }
  }
}

function bitSet(bm: Uint8Array | undefined, bucket: number): boolean {
  return bm !== undefined && (bm[bucket >> 3] & (0x80 >> (bucket & 7))) !== 0;
}
