import { SystemClock } from '../core/clock/clock';
import { PrismaService } from '../core/database/prisma.service';
import type { AppConfig } from '../config/config.schema';
import type { Prisma } from '../generated/prisma/client';
import { createTestDatabase } from '../../test/support/test-env';
import { ProgressRepository } from './progress.repository';
import { ProgressService } from './progress.service';
import { retentionCutoffs } from './sampler.service';
import { StatementLog } from './statement-log';

const USERS = 1_000_000;
const USER_TABLES = ['user_migrations', 'users'];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function relationsScanned(node: PlanNode, out: Array<{ type: string; relation: string }> = []) {
  if (node['Relation Name']) out.push({ type: node['Node Type'], relation: node['Relation Name'] });
  for (const child of node.Plans ?? []) relationsScanned(child, out);
  return out;
}

describe('progress query plans at 1M users (cost does not grow with the population)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaService;
  let log: StatementLog;
  let repo: ProgressRepository;
  let service: ProgressService;
  let campaignId: bigint;

  async function explain(sql: Prisma.Sql) {
    const [row] = await prisma.client.$queryRawUnsafe<Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>>(
      `EXPLAIN (FORMAT JSON) ${sql.text}`,
      ...sql.values,
    );
    return relationsScanned(row['QUERY PLAN'][0].Plan);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ database: { url: db.url, poolSize: 4 } } as AppConfig);
    log = new StatementLog();
    repo = new ProgressRepository(prisma, log);
    service = new ProgressService(repo, new SystemClock());
    const c = prisma.client;
    await c.$executeRawUnsafe(`INSERT INTO flags (key, kind, variants, off_variant, rollout_variant, salt)
      VALUES ('e2ee', 'boolean', '{"on":true,"off":false}', 'off', 'on', 's') `);
    // a few hundred campaigns, so that the planner sees realistic small tables around the big one
    await c.$executeRawUnsafe(`INSERT INTO campaigns (key, name, flag_id, status, pacing, admitted_ppm)
      SELECT 'c' || g, 'campaign ' || g, 1, (CASE WHEN g % 3 = 0 THEN 'running' ELSE 'completed' END)::campaign_status, '{}', 500000
      FROM generate_series(1, 300) g`);
    campaignId = 1n;
    await c.$executeRawUnsafe(`INSERT INTO users (id, country, platform, app_version, e2ee_capable)
      SELECT g, 'DE', 'android', '9.1.0', g % 10 <> 0 FROM generate_series(1, ${USERS}) g`);
    await c.$executeRawUnsafe(`INSERT INTO user_migrations (campaign_id, user_id, bucket, state)
      SELECT 1, g, ((g::bigint * 7919) % 1000000)::int, (CASE WHEN g % 3 = 0 THEN 'enabled' WHEN g % 10 = 0 THEN 'ineligible' ELSE 'eligible' END)::migration_state
      FROM generate_series(1, ${USERS}) g`);
    await c.$executeRawUnsafe(`INSERT INTO progress_counters (campaign_id, shard, eligible, enabled)
      SELECT c.id, s, 40000, 20000 FROM campaigns c CROSS JOIN generate_series(0, 15) s`);
    await c.$executeRawUnsafe(`INSERT INTO bucket_histograms (campaign_id, bin, total, capable)
      SELECT c.id, b, 1000, 900 FROM campaigns c CROSS JOIN generate_series(0, 999) b WHERE c.id <= 10`);
    await c.$executeRawUnsafe(`INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket, status, queued_at, finished_at, claimed, enabled)
      SELECT 1 + g % 300, g, g + 1, (CASE WHEN g % 200 = 0 THEN 'queued' ELSE 'done' END)::batch_status,
             now() - g * interval '1 second', now() - g * interval '1 second', 1000, 990
      FROM generate_series(1, 100000) g`);
    await c.$executeRawUnsafe(`INSERT INTO progress_samples (campaign_id, at, resolution, enabled)
      SELECT 1 + g % 300, now() - (g / 300) * interval '5 seconds', 'raw', g FROM generate_series(1, 200000) g`);
    await c.$executeRawUnsafe('ANALYZE');
  });

  afterAll(async () => {
    await prisma.onModuleDestroy();
    await db.drop();
  });

  it('issues only statements that never touch user_migrations or users', async () => {
    log.capture();
    await service.getProgress(campaignId);
    await service.getProgress('c1');
    await service.history('c1', { resolution: 'mixed', limit: 2000 });
    await service.overview({ limit: 50 });
    await repo.metricsCampaigns();
    await repo.sampleAndDownsample(new Date(), retentionCutoffs(new Date()));
    const statements = log.stop();

    // progress ×2 (one statement each), history (campaign + samples), overview, metrics, and
    // the sampler's lock, insert and two downsampling statements
    expect(statements).toHaveLength(10);
    const seen = new Set<string>();
    for (const sql of statements) {
      const scans = await explain(sql);
      for (const s of scans) seen.add(s.relation);
      expect({ sql: sql.text, touchesUserTables: scans.filter((s) => USER_TABLES.includes(s.relation)) }).toEqual({
        sql: sql.text,
        touchesUserTables: [],
      });
    }
    expect([...seen].sort()).toEqual(['bucket_histograms', 'campaigns', 'migration_batches', 'progress_counters', 'progress_samples']);
  });

  it('reads one campaign\'s counters, batches and samples through their indexes', async () => {
    log.capture();
    await service.getProgress(campaignId);
    const statements = log.stop();
    const byTable = new Map<string, string[]>();
    for (const sql of statements) for (const s of await explain(sql)) byTable.set(s.relation, [...(byTable.get(s.relation) ?? []), s.type]);
    for (const table of ['progress_counters', 'migration_batches', 'progress_samples', 'bucket_histograms']) {
      const types = byTable.get(table) ?? [];
      expect(types.length).toBeGreaterThan(0);
      expect({ table, types }).toEqual({ table, types: expect.not.arrayContaining(['Seq Scan']) });
    }
  });

  it('would catch a count over user_migrations (the check itself works)', async () => {
    const scans = await explain({ text: 'SELECT state, count(*) FROM user_migrations WHERE campaign_id = $1 GROUP BY state', values: [campaignId] } as Prisma.Sql);
    expect(scans.map((s) => s.relation)).toContain('user_migrations');
  });
});
