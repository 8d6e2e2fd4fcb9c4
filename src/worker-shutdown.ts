import { Inject, Injectable, Logger as NestLogger, type INestApplicationContext, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Logger } from 'pino';
import { APP_CONFIG } from './config/config';
import type { AppConfig } from './config/config.schema';
import { drainWorkers, type DrainOutcome } from './core/queue/worker-drain';
import { WORKER_PROCESSORS, type WorkerProcessors } from './worker-processors';

/** After the drain, how long Nest's own teardown (PostgreSQL, Redis, metrics server) may take. */
const TEARDOWN_MS = 10_000;

/**
 * Drains the BullMQ workers as the FIRST step of closing the worker application, whoever
 * closes it (the signal handler below, a test, an embedding process): stop taking jobs, let
 * in-flight ones finish within WORKER_SHUTDOWN_GRACE_MS, force-close past it.
 *
 * Nest runs `onModuleDestroy` before its shutdown hooks, root module first and the global
 * CoreModule last; this provider lives in the root WorkerModule, so it runs while PostgreSQL
 * and Redis are still open. @nestjs/bullmq alone closes the workers in `onApplicationShutdown`,
 * after Prisma has ended its pool, and pg-pool serves no waiter once `end()` is called, so a
 * job waiting for a connection would keep `app.close()` from ever returning.
 */
@Injectable()
export class WorkerDrain implements OnModuleDestroy {
  private readonly log = new NestLogger(WorkerDrain.name);
  /** How the drain ended; undefined until the application closes. */
  outcome?: DrainOutcome;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WORKER_PROCESSORS) private readonly processors: WorkerProcessors,
  ) {}

  async onModuleDestroy(): Promise<void> {
    const graceMs = this.config.worker.shutdownGraceMs;
    const workers = this.processors.map((p) => this.moduleRef.get(p, { strict: false }).worker);
    this.outcome = await drainWorkers(workers, graceMs);
    if (this.outcome === 'timeout') this.log.warn(`in-flight batches did not finish within ${graceMs} ms; their leases will be reaped`);
  }
}

export type SignalAction = 'stop' | 'already-stopping' | 'exit-now';

/**
 * What a stop signal means, given the first one this process received. The same signal twice
 * (an operator pressing Ctrl-C again) means "exit now"; the other one while stopping is the
 * same request delivered twice (Ctrl-C reaches the whole process group and `npm start`'s
 * launcher then sends SIGTERM) and must not cut the drain short.
 */
export function signalAction(first: NodeJS.Signals | undefined, signal: NodeJS.Signals): SignalAction {
  if (first === undefined) return 'stop';
  return first === signal ? 'exit-now' : 'already-stopping';
}

/**
 * The worker process's signals: SIGTERM/SIGINT close the application (which drains first, see
 * WorkerDrain), then the process exits. The same signal again, or a close that outlives the
 * grace period plus TEARDOWN_MS, exits at once: a batch cut short is safe (its leased users go
 * back to `eligible` through the reaper).
 */
export function installWorkerShutdown(app: INestApplicationContext, config: AppConfig, logger: Logger): void {
  let first: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    const action = signalAction(first, signal);
    if (action === 'exit-now') {
      logger.warn({ signal }, `${signal} again: exiting now`);
      process.exit(1);
    }
    if (action === 'already-stopping') {
      logger.info({ signal, first }, 'already stopping: waiting for in-flight jobs');
      return;
    }
    first = signal;
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
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), graceMs + TEARDOWN_MS)));
    const closed = await Promise.race([app.close().then(() => 'closed' as const), hung]);
    clearTimeout(timer);
    if (closed === 'hung') {
      logger.error(`close did not finish within ${graceMs + TEARDOWN_MS} ms; exiting anyway`);
      return 1;
    }
    logger.info({ outcome: app.get(WorkerDrain).outcome }, 'worker stopped');
    return 0;
  }
}
