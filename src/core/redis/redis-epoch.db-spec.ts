import type { INestApplicationContext } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { createTestEnvironment, type TestEnvironment } from '../../../test/support/app';
import { ConfigModule } from '../../config/config.module';
import { CoreModule } from '../core.module';
import { JobsService } from '../queue/jobs.service';
import { QUEUES } from '../queue/queue.constants';
import { deleteRedisPrefix } from './delete-prefix';
import { RedisEpoch } from './redis-epoch';

/**
 * The Redis loss detector against the real Redis: losing every key of the deployment's prefix
 * (what a FLUSHALL does to it) is seen at the next check, and the job schedules this process
 * upserted come back, each with one run right away.
 */
describe('RedisEpoch and the schedules it restores', () => {
  let env: TestEnvironment;
  let app: INestApplicationContext;

  beforeAll(async () => {
    env = await createTestEnvironment({ REDIS_EPOCH_CHECK_INTERVAL_MS: '60000' });
    @Module({ imports: [ConfigModule.forRoot(env.config), CoreModule] })
    class ProcessLike {}
    app = await NestFactory.createApplicationContext(ProcessLike, { logger: false });
    await app.init();
  });
  afterAll(async () => {
    await app.close();
    await env.dropDatabase();
  });

  it('sees no loss while the epoch stays, then sees one when the keys are gone, and restores the schedules', async () => {
    const epoch = app.get(RedisEpoch);
    const jobs = app.get(JobsService);
    const control = app.get<Queue>(getQueueToken(QUEUES.control));
    await jobs.schedule(QUEUES.control, 'plan-tick', 60_000, { name: 'plan-tick', data: {} });
    const before = epoch.current;
    expect(before).not.toBeNull();
    expect(await epoch.check()).toBe(false);

    await deleteRedisPrefix(env.config.redis.url, env.config.redis.prefix);
    expect(await control.getJobSchedulers()).toEqual([]);
    expect(await epoch.check()).toBe(true);
    expect(epoch.current).not.toBe(before);

    expect((await control.getJobSchedulers()).map((s) => s.key)).toEqual(['plan-tick']);
    const now = await control.getJob(`plan-tick-after-loss-${epoch.current}`);
    expect(now?.name).toBe('plan-tick');
    // the next check finds the new epoch in place: one loss, counted once
    expect(await epoch.check()).toBe(false);
  });
});
