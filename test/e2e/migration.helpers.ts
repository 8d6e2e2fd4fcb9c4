import { Client } from 'pg';
import { createRedis } from '../../src/core/redis/redis.service';
import { SimulatedBackend } from '../../src/migration/backend/simulated-backend';
import type { TestApi, TestEnvironment } from '../support/app';

/** Direct SQL against the test database: fixtures in bulk and table truth for assertions. */
export class TestDb {
  private constructor(readonly client: Client) {}

  static async connect(env: TestEnvironment): Promise<TestDb> {
    const client = new Client({ connectionString: env.config.database.url });
    await client.connect();
    return new TestDb(client);
  }

  /** n users with ids from..from+n-1; every 33rd cannot do E2EE yet (about 3%). */
  async seedUsers(n: number, from = 1): Promise<void> {
    await this.client.query(
      `INSERT INTO users (id, country, platform, app_version, e2ee_capable)
       SELECT g, (ARRAY['US','DE','BR','IN','FR'])[1 + g % 5], (ARRAY['ios','android','web'])[1 + g % 3], '5.2.0', g % 33 <> 0
       FROM generate_series($1::bigint, $2::bigint) g`,
      [from, from + n - 1],
    );
  }

  async truth(campaignId: string): Promise<Record<string, number>> {
    const r = await this.client.query<{ state: string; n: string }>(
      `SELECT state::text AS state, count(*) AS n FROM user_migrations WHERE campaign_id = $1 GROUP BY state`,
      [campaignId],
    );
    return Object.fromEntries(r.rows.map((x) => [x.state, Number(x.n)]));
  }

  async counters(campaignId: string): Promise<Record<string, number>> {
    const r = await this.client.query(
      `SELECT sum(legacy) legacy, sum(ineligible) ineligible, sum(eligible) eligible, sum(enrolling) enrolling, sum(enabled) enabled,
              sum(failed) failed, sum(held) held, sum(recovery_prompted) recovery_prompted, sum(recovery_pin) recovery_pin
       FROM progress_counters WHERE campaign_id = $1`,
      [campaignId],
    );
    return Object.fromEntries(Object.entries(r.rows[0]).map(([k, v]) => [k, Number(v ?? 0)]));
  }

  async query<T extends Record<string, unknown> = Record<string, any>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query<T>(sql, params)).rows;
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

/** The same simulated backend the worker uses, reading the effects it recorded in Redis. */
export function backendProbe(env: TestEnvironment) {
  const redis = createRedis(env.config.redis.url);
  const backend = new SimulatedBackend(redis, { ...env.config.backend.sim, keyPrefix: env.config.redis.prefix });
  return { backend, close: () => redis.quit() };
}

export async function createFlag(api: TestApi, key: string, rolloutPpm: number): Promise<{ key: string; etag: string }> {
  const r = await api.request('POST', '/api/v1/flags', { body: { key, rolloutPpm } });
  if (r.status !== 201 && r.status !== 200) throw new Error(`flag create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { key, etag: r.headers.get('etag')! };
}

export async function setRollout(api: TestApi, key: string, rolloutPpm: number): Promise<void> {
  const cur = await api.request('GET', `/api/v1/flags/${key}`);
  const r = await api.request('POST', `/api/v1/flags/${key}/rollout`, { body: { rolloutPpm }, headers: { 'if-match': cur.headers.get('etag')! } });
  if (r.status !== 200) throw new Error(`set rollout failed: ${r.status} ${JSON.stringify(r.body)}`);
}

export async function createCampaign(api: TestApi, body: Record<string, unknown>): Promise<{ id: string; etag: string }> {
  const r = await api.request('POST', '/api/v1/campaigns', { body });
  if (r.status !== 201) throw new Error(`campaign create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.id, etag: r.headers.get('etag')! };
}

/** Applies a lifecycle action with the current ETag. */
export async function act(api: TestApi, id: string, action: string, body: Record<string, unknown> = {}) {
  const cur = await api.request('GET', `/api/v1/campaigns/${id}`);
  return api.request('POST', `/api/v1/campaigns/${id}/${action}`, { body, headers: { 'if-match': cur.headers.get('etag')! } });
}

export async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
    last = await fn();
  }
  return last;
}
