import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Worker } from 'bullmq';
import { APP_CONFIG } from './config/config';
import type { AppConfig } from './config/config.schema';
import { Clock } from './core/clock/clock';
import { cutoverMetrics } from './core/metrics/metrics';
import { JobsService } from './core/queue/jobs.service';
import type { QueueName } from './core/queue/queue.constants';
import { WORKER_PROCESSORS, type WorkerProcessors } from './worker-processors';

export interface HeartbeatStatus {
  healthy: boolean;
  /** what the last beat was: a job taken or finished, or queues seen with nothing waiting */
  lastBeat: 'start' | 'job' | 'idle';
  lastBeatAgeMs: number;
  timeoutMs: number;
}

/**
 * Whether this worker process still consumes. It beats when one of its BullMQ workers takes or
 * finishes a job, and when a periodic look at its queues finds nothing waiting (an idle worker
 * is a healthy one). A process whose consumers stopped while jobs wait stops beating, and after
 * WORKER_HEARTBEAT_TIMEOUT_MS its liveness endpoint answers 503. The timeout must exceed the
 * longest job: a worker busy with long batches takes nothing new until one finishes.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(WorkerHeartbeat.name);
  private lastBeatMs = 0;
  private lastBeat: HeartbeatStatus['lastBeat'] = 'start';
  private timer?: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WORKER_PROCESSORS) private readonly processors: WorkerProcessors,
  ) {}

  onApplicationBootstrap(): void {
    this.beat('start');
    for (const processor of this.processors) this.watch(this.moduleRef.get(processor, { strict: false }).worker);
    const everyMs = Math.max(250, Math.min(10_000, Math.floor(this.config.worker.heartbeatTimeoutMs / 4)));
    this.timer = setInterval(() => void this.checkIdle(), everyMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  status(): HeartbeatStatus {
    const lastBeatAgeMs = this.clock.nowMs() - this.lastBeatMs;
    const timeoutMs = this.config.worker.heartbeatTimeoutMs;
    return { healthy: lastBeatAgeMs <= timeoutMs, lastBeat: this.lastBeat, lastBeatAgeMs, timeoutMs };
  }

  private watch(worker: Worker): void {
    const queue = worker.name;
    worker.on('active', () => this.beat('job'));
    worker.on('completed', () => {
      cutoverMetrics.workerJobs.inc({ queue, outcome: 'completed' });
      this.beat('job');
    });
    worker.on('failed', () => {
      cutoverMetrics.workerJobs.inc({ queue, outcome: 'failed' });
      this.beat('job');
    });
  }

  private beat(kind: HeartbeatStatus['lastBeat']): void {
    this.lastBeatMs = this.clock.nowMs();
    this.lastBeat = kind;
    cutoverMetrics.workerHeartbeat.set(this.lastBeatMs / 1000);
  }

  /** Nothing ready to run on any queue this process consumes: idle, not stuck. */
  private async checkIdle(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const queues = this.processors.map((p) => this.moduleRef.get(p, { strict: false }).worker.name as QueueName);
      const ready = await Promise.all(queues.map((q) => this.jobs.readyCount(q)));
      if (ready.every((n) => n === 0)) this.beat('idle');
    } catch (err) {
      this.log.warn(`heartbeat could not read the queues: ${(err as Error).message}`);
    } finally {
      this.checking = false;
    }
  }
}
