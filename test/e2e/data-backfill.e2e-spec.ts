import type { INestApplicationContext } from '@nestjs/common';
import { BackfillService } from '../../src/rollout/migration/backfill.service';
import { createTestEnvironment, startTestWorker, type TestEnvironment } from '../support/app';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 25_000;

/**
 * A data backfill runs in the workers, not in the migration hook: a worker that starts queues
 * the backfill the schema migration recorded, and the chain of chunk jobs fills every row; a
 * chain that broke (its job lost with Redis, say) resumes from the recorded position.
 */
describe('data backfill of user_migrations.e2ee_capable, run by the worker', () => {
  let env: TestEnvironment;
  let db: TestDb;
  let worker: INestApplicationContext;
  const progress = async () => {
    const [b] = await db.query<{ rows: number; finished: boolean }>(`SELECT rows_done::int AS rows, finished_at IS NOT NULL AS finished FROM data_backfills`);
    const [n] = await db.query<{ nulls: number; wrong: number }>(
      `SELECT count(*) FILTER (WHERE um.e2ee_capable IS NULL)::int AS nulls, count(*) FILTER (WHERE um.e2ee_capable IS DISTINCT FROM u.e2ee_capable)::int AS wrong
       FROM user_migrations um JOIN users u ON u.id = um.user_id`,
    );
    return { ...b, ...n };
  };

  beforeAll(async () => {
    env = await createTestEnvironment();
    db = await TestDb.connect(env);
    await db.seedUsers(USERS);
    await db.query(`INSERT INTO flags (key, kind, variants, off_variant, rollout_variant, salt) VALUES ('f', 'boolean', '{"on":true,"off":false}', 'off', 'on', 's')`);
    await db.query(`INSERT INTO campaigns (key, name, flag_id, status, pacing, planned_ppm) SELECT 'c', 'c', id, 'draft', '{}', 0 FROM flags`);
    // rows as a schema-only migration leaves them: the copy not filled in yet
    await db.query(`INSERT INTO user_migrations (campaign_id, user_id, bucket) SELECT c.id, u.id, u.id % 1000000 FROM campaigns c, users u`);
  }, 120_000);
  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await env?.dropDatabase();
  }, 120_000);

  it('is started by the worker and fills every row in chunks', async () => {
    expect(await progress()).toEqual({ rows: 0, finished: false, nulls: USERS, wrong: USERS });
    worker = await startTestWorker(env);
    const done = await waitFor('the backfill to finish', progress, (p) => p.finished, 120_000, 250);
    expect(done).toEqual({ rows: USERS, finished: true, nulls: 0, wrong: 0 });
  }, 180_000);

  it('resumes from its recorded position when its chain of jobs broke', async () => {
    // as if Redis had lost the next chunk's job a while ago, two thirds of the way
    const [{ c }] = await db.query<{ c: string }>(`SELECT id::text AS c FROM campaigns`);
    await db.query(`UPDATE user_migrations SET e2ee_capable = NULL WHERE user_id > 16000`);
    await db.query(`UPDATE data_backfills SET finished_at = NULL, last_campaign_id = $1, last_user_id = 16000, updated_at = now() - interval '5 minutes'`, [c]);
    // what the data-backfill-tick job does every minute
    expect(await worker.get(BackfillService).resume()).toBe('done');
    const done = await waitFor('the resumed backfill to finish', progress, (p) => p.finished, 120_000, 250);
    expect(done).toMatchObject({ finished: true, nulls: 0, wrong: 0, rows: USERS + USERS - 16000 });
  }, 180_000);
});
