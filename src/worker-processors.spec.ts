import { Processor } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import { parseConfig } from './config/config';
import { checkJobRegistry, JobProcessor, OnJob, processorsOf } from './core/queue/job-processor';
import { JOB_REGISTRY, type JobPayload } from './core/queue/job-registry';
import { QUEUES, type JobStatus } from './core/queue/queue.constants';
import { ControlProcessor } from './rollout/migration/control.processor';
import { MigrationProcessor } from './rollout/migration/migration.processor';
import { RampProcessor } from './rollout/campaigns/ramp.processor';
import { SamplerProcessor } from './progress/sampler.processor';
import { WebhooksProcessor } from './webhooks/webhooks.processor';
import { WebhooksWorkerModule } from './webhooks/webhooks.module';
import { WORKER_FEATURES, WorkerModule } from './worker.module';
import { workerProcessors } from './worker-processors';

const config = parseConfig({ DATABASE_URL: 'postgresql://u:pw@localhost:5432/db', REDIS_URL: 'redis://localhost:6379' });

/** A second processor for a job the control processor already runs. */
@Processor(QUEUES.control)
class SecondPlanner extends JobProcessor {
  @OnJob('plan')
  async plan(): Promise<JobStatus> {
    return 'done';
  }
}
@Module({ providers: [SecondPlanner] })
class SecondPlannerModule {}

/** Runs a ramp job from the wrong queue. */
@Processor(QUEUES.progress)
class MisplacedTick extends JobProcessor {
  @OnJob('rampTickCampaign')
  async tick(): Promise<JobStatus> {
    return 'done';
  }
}

describe('the worker and the job registry', () => {
  it('finds every processor in the worker feature modules, and each registered job has exactly one', () => {
    const found = workerProcessors(WORKER_FEATURES);
    expect(new Set(found)).toEqual(new Set([ControlProcessor, MigrationProcessor, RampProcessor, SamplerProcessor, WebhooksProcessor]));
    expect(() => WorkerModule.forRoot(config)).not.toThrow();
  });

  it('does not start when a registered job has no processor (the webhooks feature left out)', () => {
    const features = WORKER_FEATURES.filter((m) => m !== WebhooksWorkerModule);
    expect(() => WorkerModule.forRoot(config, features)).toThrow(/job webhook-dispatch \(queue webhooks\) has no processor[\s\S]*job webhook-deliver \(queue webhooks\) has no processor/);
  });

  it('does not start when a job is added to the registry without a processor', () => {
    const registry = { ...JOB_REGISTRY, orphan: { queue: QUEUES.control, name: 'orphan-job', payload: z.object({}) } };
    expect(() => checkJobRegistry(processorsOf(WORKER_FEATURES), registry)).toThrow(/job orphan-job \(queue control\) has no processor/);
  });

  it('does not start when a job has two processors', () => {
    expect(() => WorkerModule.forRoot(config, [...WORKER_FEATURES, SecondPlannerModule])).toThrow(/job campaign-plan has 2 processors: ControlProcessor, SecondPlanner/);
  });

  it('does not start when a processor runs a job of another queue, or a job outside the registry', () => {
    expect(() => checkJobRegistry([...processorsOf(WORKER_FEATURES), MisplacedTick])).toThrow(/MisplacedTick runs job ramp-tick-campaign on queue progress, but the job is on queue ramp/);
    const { rampTickCampaign: _dropped, ...withoutTick } = JOB_REGISTRY;
    expect(() => checkJobRegistry(processorsOf(WORKER_FEATURES), withoutTick)).toThrow(/RampProcessor runs job ramp-tick-campaign, which is not in the registry/);
  });
});

describe('JobProcessor', () => {
  @Processor(QUEUES.ramp)
  class Recorder extends JobProcessor {
    seen: unknown[] = [];
    @OnJob('rampTickCampaign')
    async tick(p: JobPayload<'rampTickCampaign'>): Promise<JobStatus> {
      this.seen.push(p.campaignId);
      return 'done';
    }
  }
  const job = (name: string, data: unknown) => ({ name, data }) as Job;

  it('calls the marked method with the payload parsed by the registry schema', async () => {
    const r = new Recorder();
    await expect(r.process(job('ramp-tick-campaign', { campaignId: '42' }))).resolves.toBe('done');
    expect(r.seen).toEqual([42n]);
  });

  it('rejects a bad payload, an unknown job and a job of another queue as unrecoverable', async () => {
    const r = new Recorder();
    await expect(r.process(job('ramp-tick-campaign', { campaignId: 'x' }))).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(r.process(job('ramp-tick-campaign', { campaignId: 'x' }))).rejects.toThrow(/invalid ramp-tick-campaign payload/);
    await expect(r.process(job('no-such-job', {}))).rejects.toThrow(/unknown job no-such-job on queue ramp/);
    await expect(r.process(job('campaign-plan', { campaignId: '1' }))).rejects.toThrow(/unknown job campaign-plan on queue ramp/);
    expect(r.seen).toEqual([]);
  });
});
