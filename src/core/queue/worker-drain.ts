import type { Worker } from 'bullmq';

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
  const idle = Promise.all(workers.map((w) => w.pause())).then((): DrainOutcome => 'idle');
  const outcome = await Promise.race([idle, timedOut]);
  clearTimeout(timer);
  await Promise.all(workers.map((w) => w.close(outcome === 'timeout')));
  return outcome;
}
