import { Prisma } from '../generated/prisma/client';

/**
 * Every statement the progress feature issues, as builders. None of them reads
 * `user_migrations` or `users`: progress costs the same at any population
 * (src/progress/progress-plans.db-spec.ts checks their plans at 1M users).
 */

const COUNTER_SUMS = Prisma.sql`
  coalesce(sum(legacy), 0)::bigint AS legacy, coalesce(sum(ineligible), 0)::bigint AS ineligible,
  coalesce(sum(eligible), 0)::bigint AS eligible, coalesce(sum(enrolling), 0)::bigint AS enrolling,
  coalesce(sum(enabled), 0)::bigint AS enabled, coalesce(sum(failed), 0)::bigint AS failed,
  coalesce(sum(held), 0)::bigint AS held,
  coalesce(sum(recovery_prompted), 0)::bigint AS "recoveryPrompted", coalesce(sum(recovery_pin), 0)::bigint AS "recoveryPin",
  coalesce(sum(recovery_code), 0)::bigint AS "recoveryCode", coalesce(sum(recovery_cloud), 0)::bigint AS "recoveryCloud",
  coalesce(sum(recovery_keychain), 0)::bigint AS "recoveryKeychain"`;

const CAMPAIGN_COLUMNS = Prisma.sql`
  id, key, name, status::text AS status, version, flag_id AS "flagId", pacing, ramp_plan AS "rampPlan", guardrails,
  guardrail_state AS "guardrailState", current_step AS "currentStep", step_entered_at AS "stepEnteredAt",
  approved_step AS "approvedStep", admitted_ppm AS "admittedPpm", planned_ppm AS "plannedPpm",
  pace_users_per_second AS "paceUsersPerSecond", population_size AS "populationSize", started_at AS "startedAt",
  completed_at AS "completedAt", halted_at AS "haltedAt", halt_reason AS "haltReason",
  halt_to_last_commit_ms AS "haltToLastCommitMs", last_enabled_at AS "lastEnabledAt", updated_at AS "updatedAt"`;

const SAMPLE_COLUMNS = Prisma.sql`
  campaign_id AS "campaignId", at, resolution, legacy, ineligible, eligible, enrolling, enabled, failed, held,
  throughput_per_second AS "throughputPerSecond", pace_users_per_second AS "paceUsersPerSecond", admitted_ppm AS "admittedPpm"`;

export const progressSql = {
  campaign: (ref: { id: bigint } | { key: string }) =>
    Prisma.sql`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE ${'id' in ref ? Prisma.sql`id = ${ref.id}` : Prisma.sql`key = ${ref.key}`}`,

  /**
   * Everything one progress reading needs, in ONE statement (one round trip, one pool
   * connection): the campaign row, its 16 counter shards, its queued/running batches, the
   * batches it finished since `batchesSince` (index on campaign_id, finished_at), the
   * histogram bins below its admitted ceiling (the last bin pro rata) and the raw samples
   * the rates need: the newest at least 1 and 5 minutes old, and the oldest since
   * `samplesSince` (what throughputOver picks from the full list), the capable users per
   * histogram bin, and the ramp's recent batches (bucket ranges, not opt-in lists: their
   * users processed and the union of their running times). No row when the campaign does
   * not exist.
   */
  progressInputs: (ref: { id: bigint } | { key: string }, now: Date, batchesSince: Date, samplesSince: Date) => Prisma.sql`
    WITH c AS (SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE ${'id' in ref ? Prisma.sql`id = ${ref.id}` : Prisma.sql`key = ${ref.key}`})
    SELECT
      (SELECT id::text FROM c) AS "campaignId",
      (SELECT row_to_json(c) FROM c) AS campaign,
      (SELECT row_to_json(x) FROM (SELECT ${COUNTER_SUMS} FROM progress_counters WHERE campaign_id = (SELECT id FROM c)) x) AS counters,
      (SELECT row_to_json(x) FROM (
         SELECT count(*) FILTER (WHERE status = 'queued')::int AS queued, count(*) FILTER (WHERE status = 'running')::int AS running,
                min(queued_at) FILTER (WHERE status = 'queued') AS "oldestQueuedAt"
         FROM migration_batches WHERE campaign_id = (SELECT id FROM c) AND status IN ('queued', 'running')) x) AS backlog,
      (SELECT row_to_json(x) FROM (
         SELECT coalesce(sum(claimed), 0)::bigint AS claimed, coalesce(sum(enabled), 0)::bigint AS enabled,
                coalesce(sum(failed), 0)::bigint AS failed, coalesce(sum(backend_errors), 0)::bigint AS "backendErrors"
         FROM migration_batches WHERE campaign_id = (SELECT id FROM c) AND finished_at >= ${batchesSince}) x) AS "recentBatches",
      (SELECT row_to_json(x) FROM (
         SELECT coalesce(sum(CASE WHEN h.bin < c."admittedPpm" / 1000 THEN h.total ELSE h.total * (c."admittedPpm" % 1000) / 1000.0 END), 0)::float8 AS users,
                coalesce(sum(CASE WHEN h.bin < c."admittedPpm" / 1000 THEN h.capable ELSE h.capable * (c."admittedPpm" % 1000) / 1000.0 END), 0)::float8 AS capable
         FROM c JOIN bucket_histograms h ON h.campaign_id = c.id AND h.bin <= c."admittedPpm" / 1000) x) AS admitted,
      (SELECT coalesce(json_agg(h.capable ORDER BY h.bin), '[]'::json) FROM bucket_histograms h WHERE h.campaign_id = (SELECT id FROM c)) AS "capableBins",
      (SELECT row_to_json(x) FROM (
         SELECT coalesce(sum(n), 0)::float8 AS processed,
                coalesce(sum(greatest(0, extract(epoch FROM f - greatest(s, coalesce(prev_f, s))))), 0)::float8 AS "busySeconds"
         FROM (SELECT started_at AS s, finished_at AS f, enabled + failed AS n,
                      max(finished_at) OVER (ORDER BY started_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_f
               FROM migration_batches WHERE campaign_id = (SELECT id FROM c) AND finished_at >= ${batchesSince}
                 AND status = 'done' AND started_at IS NOT NULL AND cardinality(user_ids) = 0) b) x) AS "rampBusy",
      (SELECT coalesce(json_agg(x ORDER BY x.at), '[]'::json) FROM (
         (SELECT ${SAMPLE_COLUMNS} FROM progress_samples WHERE campaign_id = (SELECT id FROM c) AND resolution = 'raw'
            AND at >= ${samplesSince} AND at <= ${now}::timestamptz - interval '1 minute' ORDER BY at DESC LIMIT 1)
         UNION
         (SELECT ${SAMPLE_COLUMNS} FROM progress_samples WHERE campaign_id = (SELECT id FROM c) AND resolution = 'raw'
            AND at >= ${samplesSince} AND at <= ${now}::timestamptz - interval '5 minutes' ORDER BY at DESC LIMIT 1)
         UNION
         (SELECT ${SAMPLE_COLUMNS} FROM progress_samples WHERE campaign_id = (SELECT id FROM c) AND resolution = 'raw'
            AND at >= ${samplesSince} ORDER BY at LIMIT 1)) x) AS samples
    FROM c`,

  /** newest first (the caller reverses); one resolution, or all ('mixed': they cover disjoint periods) */
  history: (campaignId: bigint, resolutions: readonly string[], since: Date, limit: number) => Prisma.sql`
    SELECT ${SAMPLE_COLUMNS} FROM progress_samples
    WHERE campaign_id = ${campaignId} AND resolution = ANY(${resolutions as string[]}::text[]) AND at >= ${since}
    ORDER BY at DESC LIMIT ${limit}`,

  /** keyset page of campaigns, newest first, each with its counters summed */
  overview: (beforeId: bigint | null, limit: number) => Prisma.sql`
    SELECT c.id, c.key, c.name, c.status::text AS status, c.version, c.current_step AS "currentStep",
           c.admitted_ppm AS "admittedPpm", c.population_size AS "populationSize", c.updated_at AS "updatedAt", s.*
    FROM campaigns c CROSS JOIN LATERAL (SELECT ${COUNTER_SUMS} FROM progress_counters pc WHERE pc.campaign_id = c.id) s
    WHERE (${beforeId}::bigint IS NULL OR c.id < ${beforeId}::bigint)
    ORDER BY c.id DESC LIMIT ${limit}`,

  /** scrape time: users per state of every started campaign */
  metricsCampaigns: () => Prisma.sql`
    SELECT c.key, c.status::text AS status, c.current_step AS "currentStep", c.pace_users_per_second AS "paceUsersPerSecond",
           c.admitted_ppm AS "admittedPpm", coalesce(c.guardrail_state->>'verdict', 'ok') AS "guardrailVerdict", s.*
    FROM campaigns c CROSS JOIN LATERAL (SELECT ${COUNTER_SUMS} FROM progress_counters pc WHERE pc.campaign_id = c.id) s
    WHERE c.status <> 'draft'`,

  /**
   * One raw sample per campaign that is running or paused, or changed in the last two
   * minutes (so that the final numbers of a halt or completion are recorded). Throughput is
   * measured against the campaign's previous raw sample.
   */
  insertSamples: (now: Date) => Prisma.sql`
    INSERT INTO progress_samples (campaign_id, at, resolution, legacy, ineligible, eligible, enrolling, enabled, failed, held,
                                  throughput_per_second, pace_users_per_second, admitted_ppm, capable)
    SELECT c.id, ${now}, 'raw', s.legacy, s.ineligible, s.eligible, s.enrolling, s.enabled, s.failed, s.held,
           CASE WHEN prev.at IS NOT NULL AND prev.at < ${now}
                THEN greatest(0, (s.enabled - prev.enabled)::float8 / extract(epoch FROM (${now}::timestamptz - prev.at))::float8)
                ELSE 0 END,
           c.pace_users_per_second, c.admitted_ppm, hc.capable
    FROM campaigns c
    CROSS JOIN LATERAL (SELECT ${COUNTER_SUMS} FROM progress_counters pc WHERE pc.campaign_id = c.id) s
    CROSS JOIN LATERAL (SELECT coalesce(sum(h.capable), 0)::bigint AS capable FROM bucket_histograms h WHERE h.campaign_id = c.id) hc
    LEFT JOIN LATERAL (SELECT at, enabled FROM progress_samples ps
                       WHERE ps.campaign_id = c.id AND ps.resolution = 'raw' ORDER BY at DESC LIMIT 1) prev ON true
    WHERE c.status IN ('running', 'paused') OR c.updated_at >= ${now}::timestamptz - interval '2 minutes'`,

  /**
   * Moves complete periods older than `cutoff` (aligned to `unit`) from one resolution to the
   * next in one statement: the last counts of the period, the mean throughput. Rows are
   * deleted as they are summarised, so a period is summarised exactly once.
   */
  downsample: (from: 'raw' | 'minute', to: 'minute' | 'hour', unit: 'minute' | 'hour', cutoff: Date) => Prisma.sql`
    WITH moved AS (
      DELETE FROM progress_samples WHERE resolution = ${from} AND at < ${cutoff}
      RETURNING campaign_id, at, legacy, ineligible, eligible, enrolling, enabled, failed, held,
                throughput_per_second, pace_users_per_second, admitted_ppm, capable, date_trunc(${unit}, at) AS period)
    INSERT INTO progress_samples (campaign_id, at, resolution, legacy, ineligible, eligible, enrolling, enabled, failed, held,
                                  throughput_per_second, pace_users_per_second, admitted_ppm, capable)
    SELECT DISTINCT ON (campaign_id, period) campaign_id, period, ${to}, legacy, ineligible, eligible, enrolling, enabled,
           failed, held, avg(throughput_per_second) OVER (PARTITION BY campaign_id, period), pace_users_per_second, admitted_ppm, capable
    FROM moved ORDER BY campaign_id, period, at DESC`,

  /** one sampler at a time across workers (transaction-scoped) */
  samplerLock: () => Prisma.sql`SELECT pg_advisory_xact_lock(hashtext('cutover.progress.sampler'))::text AS locked`,
};
