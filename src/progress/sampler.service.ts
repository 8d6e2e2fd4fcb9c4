import { Injectable } from '@nestjs/common';
import { Clock } from '../core/clock/clock';
import type { JobStatus } from '../core/queue/queue.constants';
import { ProgressRepository } from './progress.repository';

/** How often the worker samples progress (BullMQ job scheduler). */
export const SAMPLE_INTERVAL_MS = 5_000;
/** Raw samples are kept this long, then summarised per minute. */
export const RAW_RETENTION_MS = 60 * 60_000;
/** Minute samples are kept this long, then summarised per hour (kept from then on). */
export const MINUTE_RETENTION_MS = 24 * 60 * 60_000;

export function floorTo(ms: number, unitMs: number): Date {
  return new Date(Math.floor(ms / unitMs) * unitMs);
}

/** The cut-offs are aligned to whole periods so that a period is summarised exactly once. */
export function retentionCutoffs(now: Date): { minute: Date; hour: Date } {
  return {
    minute: floorTo(now.getTime() - RAW_RETENTION_MS, 60_000),
    hour: floorTo(now.getTime() - MINUTE_RETENTION_MS, 3_600_000),
  };
}

@Injectable()
export class SamplerService {
  constructor(
    private readonly repo: ProgressRepository,
    private readonly clock: Clock,
  ) {}

  /** One pass: a raw sample per active campaign, then downsampling of what aged out. */
  async sample(): Promise<JobStatus> {
    const now = this.clock.now();
    const r = await this.repo.sampleAndDownsample(now, retentionCutoffs(now));
    return r.sampled + r.toMinute + r.toHour > 0 ? 'done' : 'skipped';
  }
}
