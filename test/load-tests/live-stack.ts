/**
 * Child-process entry of scenarios-live.db-spec.ts: the real API and a worker on a database of
 * their own, in a process of their own, because the k6 runtime's synchronous HTTP blocks the
 * test process (as k6's VUs block their own goroutine, never the server's). Prints one JSON
 * line `{ url, adminKey }` when ready; stops and drops its database on SIGTERM.
 */
import { createTestEnvironment, startTestApi, startTestWorker } from '../support/app';

async function main(): Promise<void> {
  const env = await createTestEnvironment(JSON.parse(process.env.LIVE_STACK_ENV ?? '{}') as Record<string, string>);
  const api = await startTestApi(env);
  const worker = await startTestWorker(env);
  process.stdout.write(`${JSON.stringify({ url: api.url, adminKey: api.adminKey })}\n`);
  process.once('SIGTERM', () => {
    void (async () => {
      await worker.close();
      await api.close();
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`live stack failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
