import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { adminQuery, baseDatabaseUrl, newTemplateName, withDatabase } from './test-env';

/**
 * Builds the migrated template database once per test run. Each test file then clones it
 * (`CREATE DATABASE x TEMPLATE y`). Migrations are applied in order, as `migrate deploy` does.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.CUTOVER_TEST_TEMPLATE) return;
  await dropStaleTemplates();
  const tpl = newTemplateName();
  await adminQuery(`CREATE DATABASE ${tpl}`);
  const c = new Client({ connectionString: withDatabase(baseDatabaseUrl(), tpl) });
  await c.connect();
  try {
    const dir = join(__dirname, '../../prisma/migrations');
    for (const m of readdirSync(dir).filter((d) => /^\d{14}_/.test(d)).sort()) {
      await c.query(readFileSync(join(dir, m, 'migration.sql'), 'utf8'));
    }
  } finally {
    await c.end();
  }
  // Workers are spawned after the global setup and inherit this.
  process.env.CUTOVER_TEST_TEMPLATE = tpl;
}

/** Templates and test databases of runs that died more than two hours ago. */
async function dropStaleTemplates(): Promise<void> {
  const c = new Client({ connectionString: withDatabase(baseDatabaseUrl(), 'postgres') });
  await c.connect();
  try {
    const r = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname ~ '^cutover_(tpl|t)_'
         AND (pg_stat_file('base/' || oid || '/PG_VERSION', true)).modification < now() - interval '2 hours'`,
    );
    for (const { datname } of r.rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
  } finally {
    await c.end();
  }
}
