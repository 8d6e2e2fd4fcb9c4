import type { AppConfig } from '../config/config.schema';
import { PrismaService } from '../core/database/prisma.service';
import { EnrolmentRepository } from '../rollout/migration/enrolment.repository';
import { createTestDatabase } from '../../test/support/test-env';
import { UsersRepository } from './users.repository';

/**
 * `user_migrations.e2ee_capable` is a copy of `users.e2ee_capable` that the range claim reads
 * instead of a users lookup per user. Every write of a user's capability keeps it in step in
 * every campaign (real PostgreSQL): PATCH (`update`), import (`upsertFromStaging`), and the
 * reassess job mends a copy that went stale (a materialisation read racing a change).
 */
describe('the migration rows’ copy of the capability (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaService;
  let users: UsersRepository;
  let enrolment: EnrolmentRepository;
  const sql = <T = Record<string, unknown>>(text: string, ...params: unknown[]) => prisma.client.$queryRawUnsafe<T[]>(text, ...params);
  /** `campaign:user` → the copy, for every migration row. */
  const copies = async () =>
    Object.fromEntries(
      (await sql<{ k: string; capable: boolean }>(`SELECT campaign_id || ':' || user_id AS k, e2ee_capable AS capable FROM user_migrations ORDER BY 1`)).map((r) => [
        r.k,
        r.capable,
      ]),
    );
  const truth = async () =>
    (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM user_migrations um JOIN users u ON u.id = um.user_id WHERE um.e2ee_capable <> u.e2ee_capable`))[0].n;

  // users 1-4 (4 not capable), in two running campaigns; user 3 only in campaign 1
  beforeAll(async () => {
    db = await createTestDatabase();
    const config = { database: { url: db.url, poolSize: 4 } } as AppConfig;
    prisma = new PrismaService(config);
    users = new UsersRepository(prisma, config);
    enrolment = new EnrolmentRepository(prisma);
    await sql(`INSERT INTO flags (key, kind, variants, off_variant, rollout_variant, salt) VALUES ('f', 'boolean', '{"on":true,"off":false}', 'off', 'on', 's')`);
    await sql(`INSERT INTO campaigns (key, name, flag_id, status, pacing, planned_ppm) SELECT k, k, (SELECT id FROM flags), 'running', '{}', 0 FROM unnest(ARRAY['a', 'b']) k`);
    await sql(`INSERT INTO users (id, country, platform, app_version, e2ee_capable) SELECT g, 'DE', 'ios', '1.0.0', g < 4 FROM generate_series(1, 4) g`);
    await sql(
      `INSERT INTO user_migrations (campaign_id, user_id, bucket, e2ee_capable)
       SELECT c.id, u.id, u.id * 10, u.e2ee_capable FROM campaigns c, users u WHERE c.key = 'a' OR u.id <> 3`,
    );
  });
  afterAll(async () => {
    await prisma.onModuleDestroy();
    await db.drop();
  });

  it('PATCH copies a changed capability to the user’s rows in every campaign, and only to them', async () => {
    expect(await copies()).toEqual({ '1:1': true, '1:2': true, '1:3': true, '1:4': false, '2:1': true, '2:2': true, '2:4': false });
    await prisma.transaction((tx) => users.update(1n, { e2eeCapable: false }, tx));
    await prisma.transaction((tx) => users.update(4n, { e2eeCapable: true }, tx));
    // a patch of another attribute leaves the copy alone
    await prisma.transaction((tx) => users.update(2n, { appVersion: '2.0.0' }, tx));
    expect(await copies()).toEqual({ '1:1': false, '1:2': true, '1:3': true, '1:4': true, '2:1': false, '2:2': true, '2:4': true });
    expect(await truth()).toBe(0);
  });

  it('an import copies changed capabilities; unchanged and new users leave the rows alone', async () => {
    const staging = await users.openStaging();
    try {
      // user 1 capable again, 2 unchanged, 3 not capable any more, 9 new
      for (const [id, capable] of [
        [1, 't'],
        [2, 't'],
        [3, 'f'],
        [9, 'f'],
      ] as const) {
        staging.add(`${id}\tDE\tios\t${id === 2 ? '2.0.0' : '1.0.0'}\t${capable}\t{}\t${id}\n`);
      }
      expect(await staging.finish()).toBe(4);
      await staging.close();
      const counts = await prisma.transaction((tx) => users.upsertFromStaging(staging.name, tx));
      expect(counts).toMatchObject({ inserted: 1, updated: 2 });
      // the users to reassess: those whose rows' copy changed (1 in both campaigns, 3 in one)
      expect(counts.reassess.sort()).toEqual([1n, 3n]);
    } finally {
      await staging.close();
      await users.dropStaging(staging.name);
    }
    expect(await copies()).toEqual({ '1:1': true, '1:2': true, '1:3': false, '1:4': true, '2:1': true, '2:2': true, '2:4': true });
    expect(await truth()).toBe(0);
  });

  it('reassess mends a stale copy', async () => {
    // as if materialisation had copied a capability read before a concurrent change
    await sql(`UPDATE user_migrations SET e2ee_capable = NOT e2ee_capable WHERE user_id = 2`);
    expect(await truth()).toBe(2);
    await prisma.transaction((tx) => enrolment.reassess([2n], tx));
    expect(await truth()).toBe(0);
    expect(await copies()).toMatchObject({ '1:2': true, '2:2': true });
  });
});
