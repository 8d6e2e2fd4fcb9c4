import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { isCluster } from '../redis/redis.service';

export type DrainOutcome = 'idle' | 'timeout';

/**
 * Stops every worker of the process from taking jobs and waits up to `graceMs` for the
 * active ones. Past the grace period the workers are closed anyway (`close(true)`): the jobs
 * still running are abandoned, their leased users handed back by the reaper after the lease.
 * Runs BEFORE Nest tears the application down, so that jobs finishing within the grace period
 * still have PostgreSQL and Redis (Nest destroys modules before its shutdown hooks run).
 */
export async function drainWorkers(workers: readonly Worker[], graceMs: number): Promise<DrainOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<DrainOutcome>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
  // pause() takes no new job and resolves once the active ones are done; close() is then
  // called once, forced only on timeout (a later close() returns that same promise)
  const idle = Promise.all(workers.map((w) => (isCluster(w.opts.connection as Redis) ? pauseWithoutReconnect(w) : w.pause()))).then((): DrainOutcome => 'idle');
  const outcome = await Promise.race([idle, timedOut]);
  clearTimeout(timer);
  await Promise.all(workers.map((w) => w.close(outcome === 'timeout')));
  return outcome;
}

/**
 * On a Redis Cluster, BullMQ's pause() reconnects the worker's blocking connection after
 * interrupting it, and that reconnect can hang (seen on a fresh key prefix), holding the drain
 * for the whole grace period. This pause takes no new job without touching the connection and
 * waits for the worker's loop to end: its active jobs done and its blocking read returned
 * (at most BullMQ's drainDelay, 5 s).
 */
async function pauseWithoutReconnect(w: Worker): Promise<void> {
  await w.pause(true);
  while (w.isRunning()) await new Promise((r) => setTimeout(r, 50));
}
