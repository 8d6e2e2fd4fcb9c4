import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { adminQuery, baseDatabaseUrl, withDatabase } from '../support/test-env';

const ROOT = join(__dirname, '..', '..');
const REWRITTEN = '20261127120000_user_migrations_e2ee_capable';
const BACKFILLS = '20261207200000_data_backfills';

/** 20261127120000 as installations applied it before it became schema only (it backfilled in the hook). */
const OLD_REWRITTEN = `-- A copy of users.e2ee_capable on each migration row, read by the range claim instead of a
-- users lookup per user (docs/architecture.md). Kept in step by every write of a user
-- capability (PATCH, import) and by the reassess job. Adding a column with a constant
-- default does not rewrite the table, only the rows of incapable users are updated here.
ALTER TABLE "user_migrations" ADD COLUMN "e2ee_capable" BOOLEAN NOT NULL DEFAULT true;

UPDATE "user_migrations" um SET "e2ee_capable" = false
FROM "users" u WHERE u."id" = um."user_id" AND NOT u."e2ee_capable";
`;

/**
 * The real `prisma migrate deploy` (the chart's hook command) over the migrations as they are
 * now, for a new installation and for one that applied 20261127120000 while it still
 * backfilled: `deploy` applies pending migrations only and does not compare the files of
 * applied ones with their recorded checksums, so the rewrite is harmless there, and both
 * installations end with the same schema.
 */
describe('upgrading the schema with prisma migrate deploy (real PostgreSQL, Prisma CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-migrations-'));
  const created: string[] = [];
  afterAll(async () => {
    for (const db of created) await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A private copy of prisma/, with 20261127120000 as given and the later migrations left out or in. */
  function migrations(rewritten: string, withBackfills: boolean): string {
    const target = join(dir, randomBytes(4).toString('hex'));
    cpSync(join(ROOT, 'prisma'), target, { recursive: true });
    writeFileSync(join(target, 'migrations', REWRITTEN, 'migration.sql'), rewritten);
    if (!withBackfills) rmSync(join(target, 'migrations', BACKFILLS), { recursive: true });
    return join(target, 'schema.prisma');
  }
  function prisma(url: string, ...args: string[]): string {
    return execFileSync('bash', [join(ROOT, 'scripts', 'prisma.sh'), ...args], { env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8', stdio: 'pipe' });
  }
  async function database(): Promise<{ url: string; query: <T>(sql: string) => Promise<T[]>; close: () => Promise<void> }> {
    const name = `cutover_t_upgrade_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    created.push(name);
    const url = withDatabase(baseDatabaseUrl(), name);
    const client = new Client({ connectionString: url });
    await client.connect();
    return { url, query: async <T>(sql: string) => (await client.query(sql)).rows as T[], close: () => client.end() };
  }
  const column = `SELECT is_nullable, column_default FROM information_schema.columns WHERE table_name = 'user_migrations' AND column_name = 'e2ee_capable'`;

  it('an installation that applied the old 20261127120000 upgrades, keeps its data and records the backfill as done', async () => {
    const db = await database();
    try {
      prisma(db.url, 'migrate', 'deploy', '--schema', migrations(OLD_REWRITTEN, false));
      await db.query(`INSERT INTO flags (key, kind, variants, off_variant, rollout_variant, salt) VALUES ('f', 'boolean', '{"on":true,"off":false}', 'off', 'on', 's')`);
      await db.query(`INSERT INTO campaigns (key, name, flag_id, status, pacing, planned_ppm) SELECT 'c', 'c', id, 'running', '{}', 0 FROM flags`);
      await db.query(`INSERT INTO users (id, country, platform, app_version, e2ee_capable) SELECT g, 'DE', 'ios', '1.0.0', g % 2 = 0 FROM generate_series(1, 10) g`);
      await db.query(`INSERT INTO user_migrations (campaign_id, user_id, bucket, e2ee_capable) SELECT c.id, u.id, u.id, u.e2ee_capable FROM campaigns c, users u`);
      expect(await db.query(column)).toEqual([{ is_nullable: 'NO', column_default: 'true' }]);

      const schema = migrations(readCurrent(), true);
      // only the new migration runs; the rewritten one counts as applied
      const upgrade = prisma(db.url, 'migrate', 'deploy', '--schema', schema);
      expect(upgrade).toContain(`${BACKFILLS}/`);
      expect(upgrade).not.toContain(`${REWRITTEN}/`);
      expect(prisma(db.url, 'migrate', 'status', '--schema', schema)).toContain('Database schema is up to date');
      expect(await db.query(column)).toEqual([{ is_nullable: 'YES', column_default: null }]);
      expect(await db.query(`SELECT name, finished_at IS NOT NULL AS done FROM data_backfills`)).toEqual([{ name: 'user_migrations.e2ee_capable', done: true }]);
      expect(await db.query(`SELECT count(*)::int AS n FROM user_migrations um JOIN users u ON u.id = um.user_id WHERE um.e2ee_capable IS DISTINCT FROM u.e2ee_capable`)).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  }, 120_000);

  it('a new installation gets the nullable column and a backfill for the workers to run', async () => {
    const db = await database();
    try {
      prisma(db.url, 'migrate', 'deploy', '--schema', migrations(readCurrent(), true));
      expect(await db.query(column)).toEqual([{ is_nullable: 'YES', column_default: null }]);
      expect(await db.query(`SELECT name, finished_at IS NOT NULL AS done FROM data_backfills`)).toEqual([{ name: 'user_migrations.e2ee_capable', done: false }]);
    } finally {
      await db.close();
    }
  }, 120_000);
});

function readCurrent(): string {
  return readFileSync(join(ROOT, 'prisma', 'migrations', REWRITTEN, 'migration.sql'), 'utf8');
}
