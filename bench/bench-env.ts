import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Client } from 'pg';

/** What every benchmark shares: where the checkout is, the servers, scratch databases, ports. */

/** The compiled tree the benches run from (.cutover/bench when built by `npm run bench:*`). */
export const DIST = resolve(__dirname, '..');

function repoRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'prisma/schema.prisma')) && existsSync(resolve(dir, 'package.json'))) return dir;
  }
  throw new Error(`no Cutover checkout above ${from}`);
}

/** The checkout (scripts/prisma.sh, prisma/migrations). */
export const ROOT = repoRoot(DIST);
export const BASE_DB = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs one statement on the server's maintenance database (CREATE/DROP DATABASE). */
export async function adminSql(sql: string): Promise<void> {
  const c = new Client({ connectionString: withDatabase(BASE_DB, 'postgres') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Runs one statement on its own connection and returns its rows. */
export async function sql<T extends Record<string, any> = Record<string, any>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}
