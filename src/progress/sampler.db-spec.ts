import { FakeClock } from '../core/clock/clock';
import { PrismaService } from '../core/database/prisma.service';
import type { AppConfig } from '../config/config.schema';
import { createTestDatabase } from '../../test/support/test-env';
import { ProgressFixtures } from '../../test/e2e/progress.fixtures';
import { ProgressRepository } from './progress.repository';
import { SamplerService } from './sampler.service';
import { StatementLog } from './statement-log';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

describe('progress sampler: raw samples, throughput, downsampling with bounded retention', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaService;
  let fx: ProgressFixtures;
  let clock: FakeClock;
  let sampler: SamplerService;

  const samples = (campaignId: bigint, resolution: string) =>
    prisma.client.progressSample.findMany({ where: { campaignId, resolution }, orderBy: { at: 'asc' } });

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ database: { url: db.url, poolSize: 3 } } as AppConfig);
    fx = new ProgressFixtures(db.url);
  });
  beforeEach(async () => {
    await prisma.client.progressSample.deleteMany();
    await prisma.client.campaign.updateMany({ data: { status: 'completed', updatedAt: new Date(0) } });
    clock = new FakeClock(T0);
    sampler = new SamplerService(new ProgressRepository(prisma, new StatementLog()), clock);
  });
  afterAll(async () => {
    await fx.close();
    await prisma.onModuleDestroy();
    await db.drop();
  });

  it('samples running and paused campaigns, and the final numbers of one halted just now', async () => {
    const running = await fx.campaign({ status: 'running', admittedPpm: 1000, paceUsersPerSecond: 40 });
    const paused = await fx.campaign({ status: 'paused' });
    const halted = await fx.campaign({ status: 'halted' });
    const old = await fx.campaign({ status: 'completed' });
    await prisma.client.campaign.updateMany({ where: { id: { in: [halted.id] } }, data: { updatedAt: new Date(T0 - MIN) } });
    await prisma.client.campaign.updateMany({ where: { id: { in: [old.id] } }, data: { updatedAt: new Date(T0 - HOUR) } });
    await fx.addCounters(running.id, { enabled: 100, eligible: 900 });

    expect(await sampler.sample()).toBe('done');
    const [first] = await samples(running.id, 'raw');
    expect(first).toMatchObject({ at: new Date(T0), enabled: 100n, eligible: 900n, throughputPerSecond: 0, paceUsersPerSecond: 40, admittedPpm: 1000 });
    expect((await samples(paused.id, 'raw')).length).toBe(1);
    expect((await samples(halted.id, 'raw')).length).toBe(1);
    expect((await samples(old.id, 'raw')).length).toBe(0);

    await fx.addCounters(running.id, { enabled: 50, eligible: -50 });
    clock.advance(5_000);
    await sampler.sample();
    const rows = await samples(running.id, 'raw');
    expect(rows.map((r) => [r.enabled, r.throughputPerSecond])).toEqual([[100n, 0], [150n, 10]]);
  });

  it('summarises raw samples older than an hour per minute, and minutes older than a day per hour, once', async () => {
    const c = await fx.campaign({ status: 'running' });
    // 2 hours of raw samples every 5 s, enabled = seconds since start, throughput alternating 1 and 3
    await prisma.client.$executeRaw`INSERT INTO progress_samples (campaign_id, at, resolution, enabled, throughput_per_second)
      SELECT ${c.id}, ${new Date(T0 - 2 * HOUR)}::timestamptz + k * interval '5 seconds', 'raw', k * 5, CASE WHEN k % 2 = 0 THEN 1 ELSE 3 END
      FROM generate_series(0, 1439) k`;
    // 2 days of minute samples before that
    await prisma.client.$executeRaw`INSERT INTO progress_samples (campaign_id, at, resolution, enabled, throughput_per_second)
      SELECT ${c.id}, ${new Date(T0 - 50 * HOUR)}::timestamptz + k * interval '1 minute', 'minute', 1, 2
      FROM generate_series(0, 48 * 60 - 1) k`;

    await sampler.sample();
    const raw = await samples(c.id, 'raw');
    expect(raw[0].at.getTime()).toBe(T0 - HOUR);
    expect(raw.length).toBe(720 + 1);
    const minutes = await samples(c.id, 'minute');
    const fromRaw = minutes.filter((m) => m.at.getTime() >= T0 - 2 * HOUR);
    expect(fromRaw.length).toBe(60);
    expect(fromRaw[0]).toMatchObject({ at: new Date(T0 - 2 * HOUR), enabled: 55n, throughputPerSecond: 2 });
    expect(minutes[0].at.getTime()).toBe(T0 - 24 * HOUR);
    const hours = await samples(c.id, 'hour');
    expect(hours.length).toBe(26);
    expect(hours[0]).toMatchObject({ at: new Date(T0 - 50 * HOUR), enabled: 1n, throughputPerSecond: 2 });

    const before = await prisma.client.progressSample.count({ where: { campaignId: c.id } });
    await sampler.sample();
    const after = await prisma.client.progressSample.count({ where: { campaignId: c.id } });
    expect(after).toBe(before + 1);
    expect((await samples(c.id, 'hour')).length).toBe(26);
  });

  it('keeps history bounded as time passes: about 720 raw, 1,440 minute and 24 hour rows per day', async () => {
    const c = await fx.campaign({ status: 'running' });
    await prisma.client.$executeRaw`INSERT INTO progress_samples (campaign_id, at, resolution)
      SELECT ${c.id}, ${new Date(T0 - 3 * 24 * HOUR)}::timestamptz + k * interval '1 minute', 'raw' FROM generate_series(0, 3 * 24 * 60 - 1) k`;
    await sampler.sample();
    expect(await samples(c.id, 'raw').then((r) => r.length)).toBe(60 + 1);
    expect(await samples(c.id, 'minute').then((r) => r.length)).toBe(23 * 60);
    expect(await samples(c.id, 'hour').then((r) => r.length)).toBe(48);
  });
});
