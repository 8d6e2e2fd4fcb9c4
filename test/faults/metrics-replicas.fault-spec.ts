import { FaultStack, freePort } from '../support/faults';
import { TestDb } from '../support/test-db';

const USERS = 500;

/**
 * Two API processes scraped like Prometheus scrapes pods: the installation-wide gauges (users
 * per state, queue depth) come from one of them only, so a sum over pods counts once; each
 * exports its own process metrics. One serves /metrics on a port of its own (HTTP_METRICS_PORT)
 * and no longer on its public port.
 */
describe('metrics per pod: installation-wide gauges exported once', () => {
  let stack: FaultStack;
  let db: TestDb;

  beforeAll(async () => {
    stack = await FaultStack.create({ BACKEND_SIM_LATENCY_MS: '5' });
    await stack.startApi();
    db = await TestDb.connect(stack.dbUrl);
    await db.seedUsers(USERS);
  }, 240_000);

  afterAll(async () => {
    await db?.close();
    await stack?.close();
  });

  const linesOf = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

  it('exports users and queue depth from exactly one replica, and serves a separate metrics port', async () => {
    await stack.startCampaign('metrics-once', 0);
    const metricsPort = await freePort();
    const b = await stack.startApi(undefined, { HTTP_METRICS_PORT: String(metricsPort) });
    const scrapes = [await (await fetch(`${stack.apiUrl}/metrics`)).text(), await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()];
    // a second round: the lease holder keeps it, the other stays out
    scrapes.push(await (await fetch(`${stack.apiUrl}/metrics`)).text(), await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());

    const exporters = scrapes.map((t) => Number(linesOf(t, 'cutover_metrics_global_exporter')[0]?.split(' ').pop()));
    expect(exporters).toEqual([1, 0, 1, 0]);
    const round = scrapes.slice(2);
    expect(round.map((t) => linesOf(t, 'cutover_queue_depth').length > 0)).toEqual([true, false]);
    expect(round.map((t) => linesOf(t, 'cutover_users').filter((l) => l.includes('campaign="metrics-once"')).length)).toEqual([7, 0]);
    // every replica still exports its own figures
    for (const t of round) expect(linesOf(t, 'cutover_dependency_up')).toHaveLength(2);
    expect((await fetch(`${b.url}/metrics`)).status).toBe(404);
  }, 120_000);
});
