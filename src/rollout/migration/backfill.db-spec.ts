import type { AppConfig } from '../../config/config.schema';
import { PrismaService } from '../../core/database/prisma.service';
import { createTestDatabase } from '../../../test/support/test-env';
import { BackfillRepository } from './backfill.repository';

const NAME = 'user_migrations.e2ee_capable';

/**
 * The data backfill of `user_migrations.e2ee_capable` (real PostgreSQL): chunk by chunk in
 * key order, each chunk recording its position, only rows still NULL, resumable from the
 * recorded position by any process, finished when a chunk comes back short.
 */
describe('BackfillRepository: the e2ee_capable backfill (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaService;
  const sql = <T = Record<string, unknown>>(text: string, ...params: unknown[]) => prisma.client.$queryRawUnsafe<T[]>(text, ...params);
  const nulls = async () => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM user_migrations WHERE e2ee_capable IS NULL`))[0].n;
  const wrong = async () =>
    (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM user_migrations um JOIN users u ON u.id = um.user_id WHERE um.e2ee_capable IS DISTINCT FROM u.e2ee_capable`))[0].n;

  // 30 users (every third not capable) in two campaigns: 55 rows, their copies not filled in yet
  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ database: { url: db.url, poolSize: 4 } } as AppConfig);
    await sql(`INSERT INTO flags (key, kind, variants, off_variant, rollout_variant, salt) VALUES ('f', 'boolean', '{"on":true,"off":false}', 'off', 'on', 's')`);
    await sql(`INSERT INTO campaigns (key, name, flag_id, status, pacing, planned_ppm) SELECT k, k, (SELECT id FROM flags), 'running', '{}', 0 FROM unnest(ARRAY['a', 'b']) k`);
    await sql(`INSERT INTO users (id, country, platform, app_version, e2ee_capable) SELECT g, 'DE', 'ios', '1.0.0', g % 3 <> 0 FROM generate_series(1, 30) g`);
    await sql(`INSERT INTO user_migrations (campaign_id, user_id, bucket) SELECT c.id, u.id, u.id FROM campaigns c, users u WHERE c.key = 'a' OR u.id <= 25`);
  });
  afterAll(async () => {
    await prisma.onModuleDestroy();
    await db.drop();
  });

  it('starts unfinished on a fresh schema, where the column is nullable', async () => {
    expect(await sql(`SELECT name, rows_done::int AS rows, finished_at FROM data_backfills`)).toEqual([{ name: NAME, rows: 0, finished_at: null }]);
    expect(await new BackfillRepository(prisma).open(60_000)).toEqual([expect.objectContaining({ name: NAME, started: false })]);
    expect(await nulls()).toBe(55);
  });

  it('fills chunk by chunk in key order, recording the position, only rows still NULL', async () => {
    // a copy that a user write already set (PATCH, import) is left as it is
    await sql(`UPDATE user_migrations SET e2ee_capable = false WHERE user_id = 2 AND campaign_id = (SELECT id FROM campaigns WHERE key = 'a')`);
    const first = await new BackfillRepository(prisma).chunk(NAME, 20);
    const [a] = await sql<{ id: bigint }>(`SELECT id FROM campaigns WHERE key = 'a'`);
    expect(first).toEqual({ copied: 19, rowsDone: 19n, position: `${a.id}-20`, done: false });
    expect(await nulls()).toBe(35);
    expect(await sql(`SELECT e2ee_capable FROM user_migrations WHERE user_id = 2 AND campaign_id = $1`, a.id)).toEqual([{ e2ee_capable: false }]);
  });

  it('resumes from the recorded position in another process, and finishes on a short chunk', async () => {
    const restarted = new BackfillRepository(prisma);
    const second = await restarted.chunk(NAME, 20);
    expect(second).toMatchObject({ copied: 20, done: false });
    const third = await restarted.chunk(NAME, 20);
    expect(third).toMatchObject({ copied: 15, rowsDone: 54n, done: true });
    expect(await nulls()).toBe(0);
    // every copy equals users, except the one the user write set on purpose
    expect(await wrong()).toBe(1);
    expect(await restarted.chunk(NAME, 20)).toBeNull();
    expect(await restarted.open(0)).toEqual([]);
  });

  it('lets two concurrent chunks take different ranges (the position row is locked)', async () => {
    await sql(`UPDATE data_backfills SET finished_at = NULL, last_campaign_id = -9223372036854775808, last_user_id = -9223372036854775808, rows_done = 0`);
    await sql(`UPDATE user_migrations SET e2ee_capable = NULL`);
    const repo = new BackfillRepository(prisma);
    const [x, y] = await Promise.all([repo.chunk(NAME, 30), repo.chunk(NAME, 30)]);
    expect(x!.copied + y!.copied).toBe(55);
    expect([x!.done, y!.done].sort()).toEqual([false, true]);
    expect(await nulls()).toBe(0);
  });
});
