import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { redisUrl, testRedisPrefix } from '../../../test/support/test-env';
import { drainWorkers } from './worker-drain';

/** drainWorkers against real BullMQ workers on the test Redis. */
describe('drainWorkers', () => {
  const prefix = `${testRedisPrefix()}:bull`;
  const connection = { url: redisUrl() };
  let queue: Queue;
  let events: QueueEvents;

  beforeAll(async () => {
    queue = new Queue('drain', { connection, prefix });
    events = new QueueEvents('drain', { connection, prefix });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await Promise.all([queue.close(), events.close()]);
  });

  /** A worker whose jobs take `ms`; resolves once it has started the first job. */
  async function busyWorker(ms: number): Promise<{ worker: Worker; finished: string[] }> {
    const finished: string[] = [];
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const worker = new Worker(
      'drain',
      async (job: Job) => {
        started();
        await new Promise((r) => setTimeout(r, ms));
        finished.push(String(job.id));
      },
      { connection, prefix, concurrency: 1 },
    );
    await queue.add('slow', {}, { jobId: `j-${ms}-${Date.now()}` });
    await queue.add('next', {}, { jobId: `k-${ms}-${Date.now()}` });
    await running;
    return { worker, finished };
  }

  it('waits for the active job within the grace period and takes no new one', async () => {
    const { worker, finished } = await busyWorker(600);
    expect(await drainWorkers([worker], 5_000)).toBe('idle');
    expect(finished).toHaveLength(1);
    expect(worker.isRunning()).toBe(false);
    expect(await queue.getWaitingCount()).toBe(1);
    await queue.drain();
  });

  it('gives up at the grace period and closes anyway, leaving the active job to its lock', async () => {
    const { worker, finished } = await busyWorker(2_500);
    const t0 = Date.now();
    expect(await drainWorkers([worker], 200)).toBe('timeout');
    expect(finished).toHaveLength(0);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await queue.getActiveCount()).toBe(1);
    // the abandoned handler still runs to its end in this process and leaves a socket open
    // (a real worker exits instead: src/worker-shutdown.ts)
    await new Promise((r) => setTimeout(r, 3_000));
    await worker.disconnect();
  });
});
