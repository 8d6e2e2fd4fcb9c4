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
  /** flags team: one increment per flag evaluated, by resolution reason (OFREP `reason`). */
  evaluations: new Counter({
    name: 'cutover_evaluations_total',
    help: 'Flag evaluations by flag key and resolution reason',
    labelNames: ['flag', 'reason'] as const,
    registers,
  }),
  /** migration team: wall time of one batch-migrate job, claim to commit. */
  batchDuration: new Histogram({
    name: 'cutover_batch_duration_seconds',
    help: 'Duration of one migration batch from claim to commit',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  }),
  /** migration team: latency of one call to the E2EE backend. */
  backendLatency: new Histogram({
    name: 'cutover_backend_latency_seconds',
    help: 'Latency of calls to the end-to-end encryption backend',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  }),
  /** migration team: backend errors by kind (`transient`, `permanent`, `timeout`, ...). */
  backendErrors: new Counter({
    name: 'cutover_backend_errors_total',
    help: 'Errors returned by the end-to-end encryption backend, by kind',
    labelNames: ['kind'] as const,
    registers,
  }),
  /** migration team: users moved to `enabled`, by campaign key. */
  usersEnabled: new Counter({
    name: 'cutover_users_enabled_total',
    help: 'Users enabled by this process, by campaign',
    labelNames: ['campaign'] as const,
    registers,
  }),
  /** ramp/guardrails: one increment per guardrail trip. */
  guardrailTrips: new Counter({
    name: 'cutover_guardrail_trips_total',
    help: 'Guardrail trips by campaign, metric and action taken',
    labelNames: ['campaign', 'metric', 'action'] as const,
    registers,
  }),
  /** ramp: index of the campaign's current ramp step. */
  rampStep: new Gauge({
    name: 'cutover_ramp_step',
    help: 'Current ramp step index of a campaign',
    labelNames: ['campaign'] as const,
    registers,
  }),
  /** ramp/pace: the pace the controller currently allows. */
  paceUsersPerSecond: new Gauge({
    name: 'cutover_pace_users_per_second',
    help: 'Current pace limit of a campaign in users per second',
    labelNames: ['campaign'] as const,
    registers,
  }),
  /** reconciler: corrections applied to progress counters. */
  counterDrift: new Counter({
    name: 'cutover_counter_drift_total',
    help: 'Progress counter corrections made by the reconciler',
    labelNames: ['campaign'] as const,
    registers,
  }),
  /** progress team, set at scrape time from progress_counters (never a count of user_migrations). */
  users: new Gauge({
    name: 'cutover_users',
    help: 'Users per campaign and migration state',
    labelNames: ['campaign', 'state'] as const,
    registers,
  }),
  /** progress team, set at scrape time from BullMQ job counts. */
  queueDepth: new Gauge({
    name: 'cutover_queue_depth',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers,
  }),
  /** worker: jobs this process finished, by queue and outcome. */
  workerJobs: new Counter({
    name: 'cutover_worker_jobs_total',
    help: 'Jobs finished by this worker process, by queue and outcome (completed, failed)',
    labelNames: ['queue', 'outcome'] as const,
    registers,
  }),
  /** worker: when this process last proved that it consumes (src/worker-heartbeat.ts). */
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
