import type { INestApplicationContext } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { createTestEnvironment, type TestEnvironment } from '../../test/support/app';
import { ConfigModule } from '../config/config.module';
import { CoreModule } from '../core/core.module';
import { deleteRedisMatching, matchingKeys } from '../core/redis/delete-prefix';
import { RedisService } from '../core/redis/redis.service';
import { bucketOf } from './bucketing';
import { FlagsModule } from './flags.module';
import { FlagsService } from './flags.service';
import { RatchetService } from './ratchet.service';
import { RatchetRepository } from './ratchet.repository';
import { SYSTEM_ACTOR } from '../core/auth/auth.types';

/** The ratchet as the worker sees it: FlagsModule alone (no HTTP, no snapshot), real PostgreSQL and Redis. */
describe('RatchetService (FlagsModule without the HTTP side)', () => {
  let env: TestEnvironment;
  let app: INestApplicationContext;
  let pg: Client;
  let ratchet: RatchetService;
  let flagId: bigint;
  let salt: string;
  const ENABLED = 25_000;

  beforeAll(async () => {
    env = await createTestEnvironment();
    @Module({ imports: [ConfigModule.forRoot(env.config), CoreModule, FlagsModule] })
    class WorkerLike {}
    app = await NestFactory.createApplicationContext(WorkerLike, { logger: false });
    ratchet = app.get(RatchetService);
    const flag = await app.get(FlagsService).create({ key: 'admission', kind: 'boolean', rolloutPpm: 1_000_000 }, SYSTEM_ACTOR('test'));
    flagId = flag.id;
    salt = flag.salt;
    pg = new Client({ connectionString: env.config.database.url });
    await pg.connect();
    const { rows } = await pg.query(`INSERT INTO campaigns (key, name, flag_id, status, pacing) VALUES ('c1', 'c1', $1, 'running', '{}') RETURNING id`, [flagId]);
    // sparse 64-bit ids: every 7th of 30,000 is still eligible, the rest enabled
    const ids = Array.from({ length: 30_000 }, (_, i) => (4611686018427387904n + BigInt(i + 1) * 982451653n).toString());
    await pg.query(
      `INSERT INTO user_migrations (campaign_id, user_id, bucket, state)
       SELECT $1, u, b, s FROM unnest($2::bigint[], $3::int[], $4::migration_state[]) AS t(u, b, s)`,
      [rows[0].id, ids, ids.map((id) => bucketOf(salt, id)), ids.map((_, i) => ((i + 1) % 7 === 0 ? 'eligible' : 'enabled'))],
    );
  }, 120_000);
  afterAll(async () => {
    await pg.end();
    await app.close();
    await env.dropDatabase();
  });

  // every key of the flag's ratchet, on a single Redis (`p:ratchet:F:…`) or a cluster (`p:{ratchet:F…}…`)
  const flagPattern = () => `${env.config.redis.prefix}:*ratchet:${flagId}[:}]*`;
  const loseFlag = () => deleteRedisMatching(env.config.redis.url, flagPattern());

  const sample = async (state: string, n: number) =>
    (await pg.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE state = $1 ORDER BY user_id LIMIT $2`, [state, n])).rows.map((r) => r.id);

  it('rebuilds from PostgreSQL across keyset pages when the marker is missing, exactly', async () => {
    expect(await ratchet.ensureSynced(flagId)).toBe(true);
    expect(await ratchet.ensureSynced(flagId)).toBe(false);
    const enabled = (await pg.query(`SELECT count(*)::int AS n FROM user_migrations WHERE state = 'enabled'`)).rows[0].n as number;
    expect(enabled).toBeGreaterThan(ENABLED);
    for (const id of await sample('enabled', 300)) expect(await ratchet.isEnabled(flagId, id)).toBe(true);
    for (const id of await sample('eligible', 300)) expect(await ratchet.isEnabled(flagId, id)).toBe(false);
    expect(await ratchet.isEnabled(flagId, 'not-a-user-id')).toBe(false);
  });

  it('does not mark the ratchet synced when Redis loses its keys mid-rebuild, and the next pass rebuilds it', async () => {
    const redisService = app.get(RedisService);
    await loseFlag();
    const repo = app.get(RatchetRepository);
    const real = repo.enabledUsersPage.bind(repo);
    let flushed = false;
    const spy = jest.spyOn(repo, 'enabledUsersPage').mockImplementation(async (...args) => {
      const page = await real(...args);
      if (!flushed) {
        flushed = true;
        await loseFlag(); // Redis loses everything between two pages
      }
      return page;
    });
    try {
      expect(await ratchet.ensureSynced(flagId)).toBe(false);
      expect(await ratchet.isSynced(flagId)).toBe(false);
      expect(await matchingKeys(env.config.redis.url, `${env.config.redis.prefix}:*ratchet:${flagId}[:}]*rebuild-lock`)).toEqual([]);
      expect(await redisService.client.exists(redisService.groupKey(['ratchet', flagId], 'synced'))).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(await ratchet.ensureSynced(flagId)).toBe(true);
    for (const id of await sample('enabled', 300)) expect(await ratchet.isEnabled(flagId, id)).toBe(true);
  });

  it('recordEnabled after a batch commit makes the users enabled at once, idempotently, and keeps sets compact', async () => {
    const newly = (await sample('eligible', 50)).map((id) => ({ userId: BigInt(id), bucket: bucketOf(salt, id) }));
    await pg.query(`UPDATE user_migrations SET state = 'enabled' WHERE user_id = ANY($1::bigint[])`, [newly.map((u) => u.userId.toString())]);
    await ratchet.recordEnabled(flagId, newly);
    await ratchet.recordEnabled(flagId, newly);
    for (const u of newly) {
      expect(await ratchet.isEnabled(flagId, u.userId.toString(), u.bucket)).toBe(true);
      expect(ratchet.mayBeEnabled(String(flagId), u.bucket)).toBe(true);
    }
    const redis = app.get(RedisService).client;
    const someSet = (await matchingKeys(env.config.redis.url, `${env.config.redis.prefix}:*ratchet:${flagId}[:}]*u:[0-9]*`))[0];
    expect(await redis.object('ENCODING', someSet)).toBe('intset');
  });

  it('enabledAmong answers exact membership for many users in one call, in their order', async () => {
    const on = (await sample('enabled', 20)).map((id) => ({ userId: BigInt(id), bucket: bucketOf(salt, id) }));
    const off = (await sample('eligible', 12)).map((id) => ({ userId: BigInt(id), bucket: bucketOf(salt, id) }));
    const mixed = on.flatMap((u, i) => (i < off.length ? [u, off[i]] : [u]));
    const expected = on.flatMap((_, i) => (i < off.length ? [true, false] : [true]));
    expect(await ratchet.enabledAmong(flagId, mixed)).toEqual(expected);
    expect(await ratchet.enabledAmong(flagId, [])).toEqual([]);
  });

  it('answers from PostgreSQL, exactly, while its sets are lost, for the buckets the batch records name, until the rebuild', async () => {
    const [campaign] = (await pg.query<{ id: string }>(`SELECT id::text FROM campaigns WHERE key = 'c1'`)).rows;
    const optedIn = (await pg.query<{ id: string; bucket: number }>(`SELECT user_id::text AS id, bucket FROM user_migrations WHERE state = 'enabled' AND bucket >= 400000 ORDER BY user_id LIMIT 1`)).rows[0];
    await pg.query(`INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket, status, enabled) VALUES ($1, 0, 400000, 'done', 5)`, [campaign.id]);
    await pg.query(`INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket, user_ids, status, enabled) VALUES ($1, 0, 1000000, $2::bigint[], 'done', 1)`, [campaign.id, [optedIn.id]]);
    await loseFlag();
    await ratchet.suspect(String(flagId));
    for (const b of [0, 123_456, 399_999, optedIn.bucket]) expect(ratchet.mayBeEnabled(String(flagId), b)).toBe(true);

    const on = (await sample('enabled', 30)).map((id) => ({ userId: BigInt(id), bucket: bucketOf(salt, id) }));
    const off = (await sample('eligible', 10)).map((id) => ({ userId: BigInt(id), bucket: bucketOf(salt, id) }));
    expect(await ratchet.enabledAmong(flagId, [...on, ...off])).toEqual([...on.map(() => true), ...off.map(() => false)]);
    expect(await ratchet.isEnabled(flagId, optedIn.id)).toBe(true);
    expect(ratchet.isSuspect(String(flagId))).toBe(true);

    expect(await ratchet.ensureSynced(flagId)).toBe(true);
    expect(await ratchet.settleIfSynced(String(flagId))).toBe(true);
    expect(ratchet.isSuspect(String(flagId))).toBe(false);
    expect(await ratchet.enabledAmong(flagId, [...on, ...off])).toEqual([...on.map(() => true), ...off.map(() => false)]);
  });

  it('when one part of the sets is lost with its marker (a cluster node, or the whole single Redis), its users are answered by PostgreSQL, never off', async () => {
    const redisService = app.get(RedisService);
    const on = (await sample('enabled', 200)).map((id) => ({ userId: BigInt(id), bucket: bucketOf(salt, id) }));
    const off = (await sample('eligible', 20)).map((id) => ({ userId: BigInt(id), bucket: bucketOf(salt, id) }));
    // in a cluster a flag's sets live in 64 slot groups by bucket (docs/operations.md "Redis Cluster"); lose the first user's
    const lost = redisService.cluster ? `${env.config.redis.prefix}:{ratchet:${flagId}:s${on[0].bucket % 64}}*` : flagPattern();
    expect(await deleteRedisMatching(env.config.redis.url, lost)).toBeGreaterThan(0);
    expect(await ratchet.isSynced(flagId)).toBe(false);
    expect(await ratchet.enabledAmong(flagId, [...on, ...off])).toEqual([...on.map(() => true), ...off.map(() => false)]);
    expect(await ratchet.ensureSynced(flagId)).toBe(true);
    expect(await ratchet.isSynced(flagId)).toBe(true);
    expect(await ratchet.enabledAmong(flagId, [...on, ...off])).toEqual([...on.map(() => true), ...off.map(() => false)]);
  });
});
