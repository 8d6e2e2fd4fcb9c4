import { z } from 'zod';
import { parseRedisUrl } from './redis-url';

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');
const apiKey = z.string().regex(/^co_[a-z0-9]{8}_[A-Za-z0-9_-]{20,}$/, 'must look like co_<8 lowercase alnum>_<20+ chars>');
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** Every environment variable Cutover reads. Grouped by prefix; see docs/configuration.md. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: z.string().url(),
  DATABASE_POOL_SIZE: int(10, 1, 200),
  DATABASE_POOL_TIMEOUT_MS: int(30_000, 1000, 600_000),
  REDIS_URL: z.string().superRefine((v, ctx) => {
    const t = parseRedisUrl(v);
    if (typeof t === 'string') ctx.addIssue({ code: 'custom', message: t });
  }),
  // Cutover places the Redis Cluster hash tags itself: a brace in the prefix would move them.
  REDIS_PREFIX: z.string().regex(/^[a-z0-9_-]+$/i, 'letters, digits, _ and - only (no { } hash tag: Cutover sets the hash tags of its keys itself)').default('cutover'),
  REDIS_EPOCH_CHECK_INTERVAL_MS: int(1000, 50, 60_000),

  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: int(3000, 0, 65535),
  HTTP_METRICS_PORT: int(0, 0, 65535),
  HTTP_BODY_LIMIT_BYTES: int(1_048_576, 1024, 100 * 1_048_576),
  HTTP_CORS_ORIGINS: z.string().default(''),
  HTTP_TRUST_PROXY: bool.default(false),

  AUTH_ADMIN_KEY: apiKey.optional(),
  AUTH_EVALUATOR_KEY: apiKey.optional(),
  AUTH_FAILED_LIMIT_PER_MINUTE: int(30, 1, 100_000),

  WORKER_CONCURRENCY: int(4, 1, 256),
  WORKER_SHUTDOWN_GRACE_MS: int(25_000, 0, 600_000),
  WORKER_METRICS_PORT: int(0, 0, 65535),
  WORKER_HEARTBEAT_TIMEOUT_MS: int(120_000, 1000, 3_600_000),

  MIGRATION_BATCH_SIZE: int(1000, 1, 50_000),
  MIGRATION_MAX_ATTEMPTS: int(5, 1, 100),
  MIGRATION_BACKLOG_BATCHES: int(8, 1, 10_000),
  MIGRATION_LEASE_MS: int(60_000, 1000, 3_600_000),
  MIGRATION_RETRY_BACKOFF_MS: int(1000, 0, 3_600_000),
  MIGRATION_MATERIALIZE_CHUNK: int(20_000, 100, 500_000),
  MIGRATION_PLANNER_INTERVAL_MS: int(2000, 100, 3_600_000),
  MIGRATION_REAPER_INTERVAL_MS: int(10_000, 100, 3_600_000),
  MIGRATION_RECONCILER_INTERVAL_MS: int(300_000, 1000, 86_400_000),
  MIGRATION_OPT_IN_LIMIT_PER_USER_PER_MINUTE: int(5, 1, 100_000),
  MIGRATION_OPT_IN_LIMIT_PER_SECOND: int(500, 1, 1_000_000),
  MIGRATION_GROUP_COMMIT_WINDOW_MS: int(2, 0, 1000),
  MIGRATION_GROUP_COMMIT_MAX: int(500, 1, 10_000),

  BACKEND_KIND: z.enum(['simulated', 'http']).default('simulated'),
  BACKEND_SIM_LATENCY_MS: z.coerce.number().min(0).max(60_000).default(20),
  BACKEND_SIM_TRANSIENT_FAILURE_RATIO: z.coerce.number().min(0).max(1).default(0),
  BACKEND_SIM_PERMANENT_FAILURE_RATIO: z.coerce.number().min(0).max(1).default(0),
  BACKEND_SIM_MAX_USERS_PER_SECOND: int(0, 0, 100_000_000),
  BACKEND_HTTP_URL: z.string().url().optional(),
  BACKEND_HTTP_TIMEOUT_MS: int(10_000, 1, 600_000),

  USERS_IMPORT_MAX_LINE_BYTES: int(65_536, 256, 16 * 1_048_576),
  USERS_IMPORT_REJECTED_SAMPLE: int(100, 0, 10_000),

  FLAGS_SYNC_INTERVAL_MS: int(1000, 50, 600_000),
  FLAGS_RATCHET_HEAL_INTERVAL_MS: int(5000, 100, 3_600_000),
  FLAGS_RATCHET_FALLBACK_CONCURRENCY: int(4, 1, 256),

  RAMP_TICK_INTERVAL_MS: int(5000, 50, 3_600_000),
  RAMP_ADVANCE_MAX_BACKLOG_BATCHES: int(0, 0, 100_000),
  RAMP_PACE_CEILING_USERS_PER_SECOND: int(5000, 1, 100_000_000),
  RAMP_PACE_MIN_USERS_PER_SECOND: int(10, 1, 100_000_000),
  RAMP_PACE_INCREASE_RATIO: z.coerce.number().gt(0).max(1).default(0.1),
  RAMP_PACE_DECREASE_FACTOR: z.coerce.number().gt(0).lt(1).default(0.5),
  RAMP_PACE_TARGET_QUEUE_AGE_SECONDS: int(30, 1, 86_400),

  GUARDRAILS_PROMETHEUS_URL: z.string().url().optional(),
  GUARDRAILS_PROMETHEUS_TIMEOUT_MS: int(5000, 100, 120_000),

  WEBHOOKS_DISPATCH_INTERVAL_MS: int(1000, 50, 600_000),
  WEBHOOKS_MAX_ATTEMPTS: int(8, 1, 50),
  WEBHOOKS_BACKOFF_MS: int(1000, 0, 3_600_000),
  WEBHOOKS_TIMEOUT_MS: int(5000, 100, 120_000),
});

export type Env = z.infer<typeof envSchema>;

export interface AppConfig {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  database: { url: string; poolSize: number; poolTimeoutMs: number };
  redis: { url: string; prefix: string; epochCheckIntervalMs: number; /** REDIS_URL names a Redis Cluster (redis+cluster://) */ cluster: boolean };
  http: { host: string; port: number; metricsPort: number; bodyLimitBytes: number; corsOrigins: string[]; trustProxy: boolean };
  auth: { adminKey?: string; evaluatorKey?: string; failedLimitPerMinute: number };
  worker: { concurrency: number; shutdownGraceMs: number; metricsPort: number; heartbeatTimeoutMs: number };
  migration: MigrationConfig;
  backend: BackendConfig;
  users: { importMaxLineBytes: number; importRejectedSample: number };
  flags: { syncIntervalMs: number; ratchetHealIntervalMs: number; ratchetFallbackConcurrency: number };
  ramp: RampConfig;
  guardrails: { prometheusUrl?: string; prometheusTimeoutMs: number };
  webhooks: { dispatchIntervalMs: number; maxAttempts: number; backoffMs: number; timeoutMs: number };
}

export interface RampConfig {
  tickIntervalMs: number;
  advanceMaxBacklogBatches: number;
  /** AIMD bound for campaigns whose pacing sets no maxUsersPerSecond */
  paceCeilingUsersPerSecond: number;
  paceMinUsersPerSecond: number;
  paceIncreaseRatio: number;
  paceDecreaseFactor: number;
  paceTargetQueueAgeSeconds: number;
}

export interface MigrationConfig {
  batchSize: number;
  maxAttempts: number;
  backlogBatches: number;
  leaseMs: number;
  retryBackoffMs: number;
  materializeChunk: number;
  plannerIntervalMs: number;
  reaperIntervalMs: number;
  reconcilerIntervalMs: number;
  optInLimitPerUserPerMinute: number;
  optInLimitPerSecond: number;
  /** opt-ins and recovery reports: how long a group collects, and its most requests */
  groupCommit: { windowMs: number; maxSize: number };
}

export interface BackendConfig {
  kind: 'simulated' | 'http';
  sim: { latencyMs: number; transientFailureRatio: number; permanentFailureRatio: number; maxUsersPerSecond: number };
  http: { url?: string; timeoutMs: number };
}

export function toAppConfig(env: Env): AppConfig {
  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    database: { url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE, poolTimeoutMs: env.DATABASE_POOL_TIMEOUT_MS },
    redis: { url: env.REDIS_URL, prefix: env.REDIS_PREFIX, epochCheckIntervalMs: env.REDIS_EPOCH_CHECK_INTERVAL_MS, cluster: /^rediss?\+cluster:/.test(env.REDIS_URL) },
    http: {
      host: env.HTTP_HOST,
      port: env.HTTP_PORT,
      metricsPort: env.HTTP_METRICS_PORT,
      bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
      corsOrigins: env.HTTP_CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
      trustProxy: env.HTTP_TRUST_PROXY,
    },
    auth: { adminKey: env.AUTH_ADMIN_KEY, evaluatorKey: env.AUTH_EVALUATOR_KEY, failedLimitPerMinute: env.AUTH_FAILED_LIMIT_PER_MINUTE },
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
      metricsPort: env.WORKER_METRICS_PORT,
      heartbeatTimeoutMs: env.WORKER_HEARTBEAT_TIMEOUT_MS,
    },
    migration: {
      batchSize: env.MIGRATION_BATCH_SIZE,
      maxAttempts: env.MIGRATION_MAX_ATTEMPTS,
      backlogBatches: env.MIGRATION_BACKLOG_BATCHES,
      leaseMs: env.MIGRATION_LEASE_MS,
      retryBackoffMs: env.MIGRATION_RETRY_BACKOFF_MS,
      materializeChunk: env.MIGRATION_MATERIALIZE_CHUNK,
      plannerIntervalMs: env.MIGRATION_PLANNER_INTERVAL_MS,
      reaperIntervalMs: env.MIGRATION_REAPER_INTERVAL_MS,
      reconcilerIntervalMs: env.MIGRATION_RECONCILER_INTERVAL_MS,
      optInLimitPerUserPerMinute: env.MIGRATION_OPT_IN_LIMIT_PER_USER_PER_MINUTE,
      optInLimitPerSecond: env.MIGRATION_OPT_IN_LIMIT_PER_SECOND,
      groupCommit: { windowMs: env.MIGRATION_GROUP_COMMIT_WINDOW_MS, maxSize: env.MIGRATION_GROUP_COMMIT_MAX },
    },
    backend: {
      kind: env.BACKEND_KIND,
      sim: {
        latencyMs: env.BACKEND_SIM_LATENCY_MS,
        transientFailureRatio: env.BACKEND_SIM_TRANSIENT_FAILURE_RATIO,
        permanentFailureRatio: env.BACKEND_SIM_PERMANENT_FAILURE_RATIO,
        maxUsersPerSecond: env.BACKEND_SIM_MAX_USERS_PER_SECOND,
      },
      http: { url: env.BACKEND_HTTP_URL, timeoutMs: env.BACKEND_HTTP_TIMEOUT_MS },
    },
    users: { importMaxLineBytes: env.USERS_IMPORT_MAX_LINE_BYTES, importRejectedSample: env.USERS_IMPORT_REJECTED_SAMPLE },
    flags: { syncIntervalMs: env.FLAGS_SYNC_INTERVAL_MS, ratchetHealIntervalMs: env.FLAGS_RATCHET_HEAL_INTERVAL_MS, ratchetFallbackConcurrency: env.FLAGS_RATCHET_FALLBACK_CONCURRENCY },
    ramp: {
      tickIntervalMs: env.RAMP_TICK_INTERVAL_MS,
      advanceMaxBacklogBatches: env.RAMP_ADVANCE_MAX_BACKLOG_BATCHES,
      paceCeilingUsersPerSecond: env.RAMP_PACE_CEILING_USERS_PER_SECOND,
      paceMinUsersPerSecond: env.RAMP_PACE_MIN_USERS_PER_SECOND,
      paceIncreaseRatio: env.RAMP_PACE_INCREASE_RATIO,
      paceDecreaseFactor: env.RAMP_PACE_DECREASE_FACTOR,
      paceTargetQueueAgeSeconds: env.RAMP_PACE_TARGET_QUEUE_AGE_SECONDS,
    },
    guardrails: { prometheusUrl: env.GUARDRAILS_PROMETHEUS_URL, prometheusTimeoutMs: env.GUARDRAILS_PROMETHEUS_TIMEOUT_MS },
    webhooks: {
      dispatchIntervalMs: env.WEBHOOKS_DISPATCH_INTERVAL_MS,
      maxAttempts: env.WEBHOOKS_MAX_ATTEMPTS,
      backoffMs: env.WEBHOOKS_BACKOFF_MS,
      timeoutMs: env.WEBHOOKS_TIMEOUT_MS,
    },
  };
}
