import type { AppConfig } from '../../config/config.schema';
import { PrismaService } from '../../core/database/prisma.service';
import { createTestDatabase } from '../../../test/support/test-env';
import { PlannerRepository } from './planner.repository';

/** The planner's round guard against real PostgreSQL: one round per campaign, from the ceiling read. */
describe('PlannerRepository.beginRound (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaService;
  let repo: PlannerRepository;
  const ids: bigint[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ database: { url: db.url, poolSize: 4 } } as AppConfig);
    repo = new PlannerRepository(prisma);
    await prisma.client.$executeRawUnsafe(
      `INSERT INTO flags (key, kind, variants, off_variant, rollout_variant, salt) VALUES ('f', 'boolean', '{"on":true,"off":false}', 'off', 'on', 's')`,
    );
    for (const key of ['a', 'b']) {
      const [c] = await prisma.client.$queryRawUnsafe<Array<{ id: bigint }>>(
        `INSERT INTO campaigns (key, name, flag_id, status, pacing, planned_ppm) SELECT $1, $1, id, 'running', '{}', 1000 FROM flags RETURNING id`,
        key,
      );
      ids.push(c.id);
    }
  });
  afterAll(async () => {
    await prisma.onModuleDestroy();
    await db.drop();
  });

  it('lets one round per campaign run at a time, other campaigns unaffected, and refuses a stale ceiling', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let first!: boolean;
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const round = prisma.transaction(async (tx) => {
      first = await repo.beginRound(ids[0], 1000, tx);
      ready();
      await held;
    });
    await started;
    expect(first).toBe(true);
    // while the first round is open: the same campaign is refused, another one is not
    expect(await prisma.transaction((tx) => repo.beginRound(ids[0], 1000, tx))).toBe(false);
    expect(await prisma.transaction((tx) => repo.beginRound(ids[1], 1000, tx))).toBe(true);
    release();
    await round;
    // the lock went with the first transaction; a planner that read an old ceiling is refused
    expect(await prisma.transaction((tx) => repo.beginRound(ids[0], 1000, tx))).toBe(true);
    expect(await prisma.transaction((tx) => repo.beginRound(ids[0], 999, tx))).toBe(false);
  });
});
