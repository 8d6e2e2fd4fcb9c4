import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { Prisma } from '../generated/prisma/client';
import { PrismaService, type Db } from '../core/database/prisma.service';
import { appVersionExpr, countryExpr, INCAPABLE_RATIO, platformExpr } from './seed-population';
import { StagingTable } from './users-staging';
import type { Platform, UserAttributes, UserRecord } from './users.types';

type UserRow = {
  id: bigint;
  country: string;
  platform: string;
  appVersion: string;
  e2eeCapable: boolean;
  attributes: unknown;
  createdAt: Date;
  updatedAt: Date;
};

function toRecord(r: UserRow): UserRecord {
  return { ...r, platform: r.platform as Platform, attributes: (r.attributes ?? {}) as Record<string, unknown> };
}

export interface UpsertCounts {
  inserted: number;
  updated: number;
  distinct: number;
}

export interface UpsertResult extends UpsertCounts {
  /** users whose capability changed while they are in a campaign: they need a reassessment */
  reassess: bigint[];
}

export interface SeededRange {
  added: number;
  fromId: bigint | null;
  toId: bigint | null;
  incapable: number;
}

/** A uniform number in [0,1) from hash(seed, id): reproducible per (seed, id). */
const uniform = (k: number) => `((hashint8extended(id, $2::bigint * 8 + ${k}) & 2147483647)::float8 / 2147483648)`;

const SEED_SQL = `
  WITH g AS (
    SELECT m.max_id + s AS id FROM (SELECT coalesce(max(id), 0) AS max_id FROM users) m, generate_series(1::bigint, $1::bigint) s
  ), r AS (
    SELECT id, ${uniform(1)} AS r1, ${uniform(2)} AS r2, ${uniform(3)} AS r3, ${uniform(4)} AS r4, ${uniform(5)} AS r5 FROM g
  ), ins AS (
    INSERT INTO users (id, country, platform, app_version, e2ee_capable, attributes)
    SELECT id, ${countryExpr('r1')}, ${platformExpr('r2')}, ${appVersionExpr('r2', 'r3')}, r4 >= ${INCAPABLE_RATIO},
           jsonb_build_object('devices', 1 + floor(r5 * 3)::int, 'source', 'seed', 'seed', $2::int)
    FROM r
    ON CONFLICT (id) DO NOTHING
    RETURNING id, e2ee_capable
  )
  SELECT count(*)::int AS added, min(id) AS "fromId", max(id) AS "toId", (count(*) FILTER (WHERE NOT e2ee_capable))::int AS incapable FROM ins`;

/**
 * A capability change moves its users' bins of the campaigns' bucket histograms (capability
 * floors and forecasts read them), in the statement that copies it to the migration rows.
 */
const HISTOGRAM_FROM_COPIES = Prisma.sql`hist AS (
        UPDATE bucket_histograms h SET capable = h.capable + d.delta
        FROM (SELECT campaign_id, bucket / 1000 AS bin, sum(CASE WHEN capable THEN 1 ELSE -1 END) AS delta FROM copies GROUP BY 1, 2) d
        WHERE h.campaign_id = d.campaign_id AND h.bin = d.bin)`;

const COLUMNS = Prisma.sql`id, country, platform, app_version AS "appVersion", e2ee_capable AS "e2eeCapable", attributes, created_at AS "createdAt", updated_at AS "updatedAt"`;

/** An import of 10M rows upserts for minutes; the default transaction timeout is for requests. */
const IMPORT_UPSERT_TIMEOUT_MS = 30 * 60_000;

@Injectable()
export class UsersRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async findById(id: bigint, db: Db = this.prisma.client, forUpdate = false): Promise<UserRecord | null> {
    const lock = forUpdate ? Prisma.sql`FOR UPDATE` : Prisma.empty;
    const [row] = await db.$queryRaw<UserRow[]>`SELECT ${COLUMNS} FROM users WHERE id = ${id} ${lock}`;
    return row ? toRecord(row) : null;
  }

  /**
   * Writes the given attributes and moves `updated_at` (callers skip a patch that changes
   * nothing). A patch that names the capability copies it, in the same statement, to the
   * user's migration rows (`user_migrations.e2ee_capable`, read by the range claim): one
   * primary-key probe per campaign; other patches skip that part (a constant filter).
   */
  async update(id: bigint, patch: Partial<UserAttributes>, db: Db): Promise<UserRecord | null> {
    const [row] = await db.$queryRaw<UserRow[]>`
      WITH u AS (
        UPDATE users SET
          country = coalesce(${patch.country ?? null}::char(2), country),
          platform = coalesce(${patch.platform ?? null}::text, platform),
          app_version = coalesce(${patch.appVersion ?? null}::text, app_version),
          e2ee_capable = coalesce(${patch.e2eeCapable ?? null}::boolean, e2ee_capable),
          attributes = coalesce(${patch.attributes === undefined ? null : JSON.stringify(patch.attributes)}::jsonb, attributes),
          updated_at = now()
        WHERE id = ${id}
        RETURNING ${COLUMNS}),
      copies AS (
        UPDATE user_migrations um SET e2ee_capable = u."e2eeCapable"
        FROM u, campaigns c
        WHERE ${patch.e2eeCapable ?? null}::boolean IS NOT NULL
          AND um.campaign_id = c.id AND um.user_id = u.id AND um.e2ee_capable IS DISTINCT FROM u."e2eeCapable"
        RETURNING um.campaign_id, um.bucket, um.e2ee_capable AS capable),
      ${HISTOGRAM_FROM_COPIES}
      SELECT * FROM u`;
    return row ? toRecord(row) : null;
  }

  /** Adds `count` users after the current maximum id, in one statement; concurrent bulk writes queue. */
  async seed(count: number, seed: number, tx: Db): Promise<SeededRange> {
    await this.lockBulkWrites(tx);
    const [r] = await tx.$queryRawUnsafe<SeededRange[]>(SEED_SQL, count, seed);
    return r;
  }

  /** Opens a staging table fed by COPY over a raw connection of its own. */
  openStaging(): Promise<StagingTable> {
    return StagingTable.open(this.config.database.url);
  }

  async dropStaging(name: string): Promise<void> {
    await this.prisma.client.$executeRawUnsafe(`DROP TABLE IF EXISTS ${stagingName(name)}`);
  }

  /**
   * Moves the staged rows into `users` in one statement: the last line of an id wins, users
   * that differ are updated, missing ones inserted, identical ones left alone (re-running an
   * import changes nothing). Not `INSERT … ON CONFLICT DO UPDATE`: its speculative insertion
   * costs an extra WAL record per row and measured twice as slow for new users
   * (docs/benchmarks.md). The plain INSERT is safe because the bulk writers of `users`
   * (import, seed) queue on one advisory lock, and the primary key still refuses a duplicate.
   */
  async upsertFromStaging(name: string, tx: Db): Promise<UpsertResult> {
    const t = stagingName(name);
    await this.lockBulkWrites(tx);
    // the sort of DISTINCT ON and the materialised CTE in memory rather than in temp files
    await tx.$executeRawUnsafe(`SET LOCAL work_mem = '256MB'`);
    await tx.$executeRawUnsafe(`ANALYZE ${t}`);
    const [r] = await tx.$queryRawUnsafe<Array<UpsertCounts & { reassess: string | null }>>(`
      WITH src AS MATERIALIZED (
        SELECT DISTINCT ON (id) id, country, platform, app_version, e2ee_capable, attributes FROM ${t} ORDER BY id, line DESC
      ), upd AS (
        UPDATE users u SET country = s.country, platform = s.platform, app_version = s.app_version,
          e2ee_capable = s.e2ee_capable, attributes = s.attributes, updated_at = now()
        FROM src s
        WHERE u.id = s.id AND (u.country, u.platform, u.app_version, u.e2ee_capable, u.attributes)
          IS DISTINCT FROM (s.country, s.platform, s.app_version, s.e2ee_capable, s.attributes)
        RETURNING u.id, u.e2ee_capable
      ), copies AS (
        -- a changed capability reaches the users' migration rows (read by the range claim);
        -- only updated users are probed, one primary-key lookup per campaign
        UPDATE user_migrations um SET e2ee_capable = d.e2ee_capable
        FROM upd d, campaigns c
        WHERE um.campaign_id = c.id AND um.user_id = d.id AND um.e2ee_capable IS DISTINCT FROM d.e2ee_capable
        RETURNING um.user_id, um.campaign_id, um.bucket, um.e2ee_capable AS capable
      ), ${HISTOGRAM_FROM_COPIES.sql}, ins AS (
        INSERT INTO users (id, country, platform, app_version, e2ee_capable, attributes)
        SELECT id, country, platform, app_version, e2ee_capable, attributes FROM src s
        WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.id)
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT count(*) FROM upd)::int AS updated,
             (SELECT count(*) FROM src)::int AS distinct, (SELECT string_agg(DISTINCT user_id::text, ',') FROM copies) AS reassess`);
    return { inserted: r.inserted, updated: r.updated, distinct: r.distinct, reassess: r.reassess ? r.reassess.split(',').map(BigInt) : [] };
  }

  /** Imports and seeds insert users; they take turns (per transaction). */
  private async lockBulkWrites(tx: Db): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('cutover.users.bulk_write'))`;
  }

  upsertTimeoutMs(): number {
    return IMPORT_UPSERT_TIMEOUT_MS;
  }
}

function stagingName(name: string): string {
  if (!/^users_import_[0-9a-f]{32}$/.test(name)) throw new Error(`not a staging table name: ${name}`);
  return name;
}
