import { Client } from 'pg';

export const STATES = ['legacy', 'ineligible', 'eligible', 'enrolling', 'enabled', 'failed', 'held'] as const;

/** Direct SQL against a test's own database: fixtures in bulk, and table truth for assertions. */
export class TestDb {
  private constructor(readonly client: Client) {}

  /** `target` is a connection string or anything holding the test environment's config. */
  static async connect(target: string | { config: { database: { url: string } } }): Promise<TestDb> {
    const client = new Client({ connectionString: typeof target === 'string' ? target : target.config.database.url });
    await client.connect();
    return new TestDb(client);
  }

  async query<T extends Record<string, unknown> = Record<string, any>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query<T>(sql, params)).rows;
  }

  /** n users with ids from..from+n-1; every 33rd cannot do E2EE yet (about 3%). */
  async seedUsers(n: number, from = 1): Promise<void> {
    await this.query(
      `INSERT INTO users (id, country, platform, app_version, e2ee_capable)
       SELECT g, (ARRAY['US','DE','BR','IN','FR'])[1 + g % 5], (ARRAY['ios','android','web'])[1 + g % 3], '5.2.0', g % 33 <> 0
       FROM generate_series($1::bigint, $2::bigint) g`,
      [from, from + n - 1],
    );
  }

  /** The progress counters (sum of the shards), every state and two recovery columns. */
  async counters(campaignId: string): Promise<Record<string, number>> {
    const [r] = await this.query(
      `SELECT sum(legacy) legacy, sum(ineligible) ineligible, sum(eligible) eligible, sum(enrolling) enrolling, sum(enabled) enabled,
              sum(failed) failed, sum(held) held, sum(recovery_prompted) recovery_prompted, sum(recovery_pin) recovery_pin
       FROM progress_counters WHERE campaign_id = $1`,
      [campaignId],
    );
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v ?? 0)]));
  }

  /** Table truth, counted the expensive way on purpose: users per state, the states that have any. */
  async truth(campaignId: string): Promise<Record<string, number>> {
    const rows = await this.query<{ state: string; n: string }>(`SELECT state::text AS state, count(*) AS n FROM user_migrations WHERE campaign_id = $1 GROUP BY state`, [campaignId]);
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Enabled users still prompted for a recovery method, counted in the table. */
  async recoveryPrompted(campaignId: string): Promise<number> {
    const [p] = await this.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled' AND recovery_state = 'prompted'`, [campaignId]);
    return p.n;
  }

  /** Terminates every other connection to this database (the API's and the worker's). */
  async terminateOthers(): Promise<number> {
    const rows = await this.query<{ pid: number }>(`SELECT pg_terminate_backend(pid) AS ok, pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    return rows.length;
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
