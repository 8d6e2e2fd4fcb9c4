import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The one Prometheus registry of a process, and every Cutover metric on it.
 *
 * Metric objects are module singletons so that any feature can increment them without
 * injecting anything (`cutoverMetrics.usersEnabled.inc({ campaign: key }, n)`). The API
 * serves this registry on `GET /metrics`; the worker serves its own copy on
 * `WORKER_METRICS_PORT` when that is > 0. Label values must stay low-cardinality: flag keys,
 * campaign keys, reasons, states — never user ids.
 */
export const metricsRegistry = new Registry();

const registers = [metricsRegistry];

export const cutoverMetrics = {
  evaluations: new Counter({
    name: 'cutover_evaluations_total',
    help: 'Flag evaluations by flag key and resolution reason',
    labelNames: ['flag', 'reason'] as const,
    registers,
  }),
  batchDuration: new Histogram({
    name: 'cutover_batch_duration_seconds',
    help: 'Duration of one migration batch from claim to commit',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  }),
  backendLatency: new Histogram({
    name: 'cutover_backend_latency_seconds',
    help: 'Latency of calls to the end-to-end encryption backend',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  }),
  backendErrors: new Counter({
    name: 'cutover_backend_errors_total',
    help: 'Errors returned by the end-to-end encryption backend, by kind',
    labelNames: ['kind'] as const,
    registers,
  }),
  usersEnabled: new Counter({
    name: 'cutover_users_enabled_total',
    help: 'Users enabled by this process, by campaign',
    labelNames: ['campaign'] as const,
    registers,
  }),
  guardrailTrips: new Counter({
    name: 'cutover_guardrail_trips_total',
    help: 'Guardrail trips by campaign, metric and action taken',
    labelNames: ['campaign', 'metric', 'action'] as const,
    registers,
  }),
  rampStep: new Gauge({
    name: 'cutover_ramp_step',
    help: 'Current ramp step index of a campaign',
    labelNames: ['campaign'] as const,
    registers,
  }),
  paceUsersPerSecond: new Gauge({
    name: 'cutover_pace_users_per_second',
    help: 'Current pace limit of a campaign in users per second',
    labelNames: ['campaign'] as const,
    registers,
  }),
  counterDrift: new Counter({
    name: 'cutover_counter_drift_total',
    help: 'Progress counter corrections made by the reconciler',
    labelNames: ['campaign'] as const,
    registers,
  }),
  /** set at scrape time from progress_counters, never by counting user_migrations */
  users: new Gauge({
    name: 'cutover_users',
    help: 'Users per campaign and migration state',
    labelNames: ['campaign', 'state'] as const,
    registers,
  }),
  queueDepth: new Gauge({
    name: 'cutover_queue_depth',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers,
  }),
  campaignStatus: new Gauge({
    name: 'cutover_campaign_status',
    help: 'Campaign status (1 for the current one) by campaign and status',
    labelNames: ['campaign', 'status'] as const,
    registers,
  }),
  campaignAdmittedPpm: new Gauge({
    name: 'cutover_campaign_admitted_ppm',
    help: 'Share of the population the ramp admits, in parts per million',
    labelNames: ['campaign'] as const,
    registers,
  }),
  campaignThroughput: new Gauge({
    name: 'cutover_campaign_throughput_users_per_second',
    help: 'Users enabled per second over the last minute, by running campaign',
    labelNames: ['campaign'] as const,
    registers,
  }),
  campaignEta: new Gauge({
    name: 'cutover_campaign_eta_seconds',
    help: 'Seconds until every admitted user is enabled at the recent throughput, by running campaign (absent when unknown)',
    labelNames: ['campaign'] as const,
    registers,
  }),
  campaignBacklogBatches: new Gauge({
    name: 'cutover_campaign_backlog_batches',
    help: 'Batches queued or running, by running campaign',
    labelNames: ['campaign'] as const,
    registers,
  }),
  campaignDemandUsers: new Gauge({
    name: 'cutover_campaign_demand_users',
    help: 'Admitted users not yet processed (capable users below the admitted ceiling not yet enabled, failed or held), by running campaign; not capped by the backlog',
    labelNames: ['campaign'] as const,
    registers,
  }),
  campaignOldestQueuedAge: new Gauge({
    name: 'cutover_campaign_oldest_queued_batch_age_seconds',
    help: 'Age of the oldest queued batch, by running campaign (0 when none is queued)',
    labelNames: ['campaign'] as const,
    registers,
  }),
  guardrailVerdict: new Gauge({
    name: 'cutover_guardrail_verdict',
    help: 'Verdict of the last guardrail evaluation (1 for the current one): ok, throttle, pause or halt',
    labelNames: ['campaign', 'verdict'] as const,
    registers,
  }),
  queueOldestWaitingAge: new Gauge({
    name: 'cutover_queue_oldest_waiting_age_seconds',
    help: 'Age of the oldest waiting job per queue (0 when none waits)',
    labelNames: ['queue'] as const,
    registers,
  }),
  dependencyUp: new Gauge({
    name: 'cutover_dependency_up',
    help: 'Whether a dependency answered its last check (1) or not (0)',
    labelNames: ['dependency'] as const,
    registers,
  }),
  redisDataLosses: new Counter({
    name: 'cutover_redis_data_losses_total',
    help: 'Times this process found that Redis lost its data (epoch key gone) and started rebuilding from PostgreSQL',
    registers,
  }),
  ratchetFallbacks: new Counter({
    name: 'cutover_ratchet_fallback_lookups_total',
    help: 'Ratchet lookups answered from PostgreSQL because Redis was rebuilding or unreachable, by result (enabled, not_enabled)',
    labelNames: ['result'] as const,
    registers,
  }),
  globalExporter: new Gauge({
    name: 'cutover_metrics_global_exporter',
    help: 'Whether this API replica exports the installation-wide gauges (1) or leaves them to another replica (0)',
    registers,
  }),
  evaluationDuration: new Histogram({
    name: 'cutover_evaluation_duration_seconds',
    help: 'Time to answer one OFREP evaluation request, by endpoint (single, bulk)',
    labelNames: ['endpoint'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  }),
  flagKillSwitch: new Counter({
    name: 'cutover_flag_kill_switch_total',
    help: 'Flag kill switch changes by flag and action (killed, revived)',
    labelNames: ['flag', 'action'] as const,
    registers,
  }),
  flagKilled: new Gauge({
    name: 'cutover_flag_killed',
    help: 'Whether a flag is killed (1) in this replica\'s snapshot',
    labelNames: ['flag'] as const,
    registers,
  }),
  workerJobs: new Counter({
    name: 'cutover_worker_jobs_total',
    help: 'Jobs finished by this worker process, by queue and outcome (completed, failed)',
    labelNames: ['queue', 'outcome'] as const,
    registers,
  }),
  workerHeartbeat: new Gauge({
    name: 'cutover_worker_heartbeat_timestamp_seconds',
    help: 'Unix time of the last job this worker process took or finished, or of its last look at queues with nothing waiting',
    registers,
  }),
} as const;

let defaultsEnabled = false;

/** Process metrics (CPU, memory, event loop lag) on the same registry; safe to call twice. */
export function enableDefaultMetrics(): void {
  if (defaultsEnabled) return;
  defaultsEnabled = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'cutover_process_' });
}
