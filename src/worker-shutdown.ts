import type { INestApplicationContext } from '@nestjs/common';
import type { WorkerHost } from '@nestjs/bullmq';
import type { Logger } from 'pino';
import type { AppConfig } from './config/config.schema';
import { drainWorkers } from './core/queue/worker-drain';
import { RampProcessor } from './campaigns/ramp.processor';
import { ControlProcessor } from './migration/control.processor';
import { MigrationProcessor } from './migration/migration.processor';
import { SamplerProcessor } from './progress/sampler.processor';

/** Every BullMQ consumer of the worker process. */
const PROCESSORS: ReadonlyArray<new (...args: never[]) => WorkerHost> = [MigrationProcessor, ControlProcessor, RampProcessor, SamplerProcessor];

/** After the drain, how long Nest's own teardown (PostgreSQL, Redis, metrics server) may take. */
const TEARDOWN_MS = 10_000;

/**
 * The worker's graceful shutdown, in this order: stop taking jobs and let in-flight batches
 * finish within WORKER_SHUTDOWN_GRACE_MS (with PostgreSQL and Redis still open), then close
 * the application, then exit. A second signal, or a teardown that hangs, exits at once: a
 * batch cut short is safe (its leased users go back to `eligible` through the reaper).
 */
export function installWorkerShutdown(app: INestApplicationContext, config: AppConfig, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    void shutdown(signal).then(
      (code) => process.exit(code),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const s of ['SIGTERM', 'SIGINT'] as const) process.on(s, onSignal);

  async function shutdown(signal: NodeJS.Signals): Promise<number> {
    const graceMs = config.worker.shutdownGraceMs;
    logger.info({ signal, graceMs }, 'stopping: no new jobs, waiting for in-flight ones');
    const workers = PROCESSORS.map((p) => app.get(p, { strict: false }).worker);
    const outcome = await drainWorkers(workers, graceMs);
    if (outcome === 'timeout') logger.warn(`in-flight batches did not finish within ${graceMs} ms; their leases will be reaped`);
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), TEARDOWN_MS)));
    const closed = await Promise.race([app.close().then(() => 'closed' as const), hung]);
    clearTimeout(timer);
    if (closed === 'hung') {
      logger.error(`teardown did not finish within ${TEARDOWN_MS} ms; exiting anyway`);
      return 1;
    }
    logger.info({ outcome }, 'worker stopped');
    return 0;
  }
}
