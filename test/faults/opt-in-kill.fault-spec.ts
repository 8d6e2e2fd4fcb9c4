import { FaultStack, type Proc } from '../support/faults';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 6_000;
const PARALLEL = 48;

interface Sent {
  userId: number;
  status: number | 'network';
  state?: string;
}

/**
 * The API is SIGKILLed while opt-ins are being group-committed (48 clients, a 20 ms window so
 * that groups are large). Every opt-in answered 200 is durable and whole: the row moved, one
 * audit row, one batch carrying the user, counters equal to the table. None is half-applied:
 * nobody moved without an audit row or (eligible) without a batch. Sent again to a new API, the
 * same requests give the same answers and change nothing twice; a worker then settles everyone.
 */
describe('fault: the API killed with SIGKILL mid-group', () => {
  let stack: FaultStack;
  let db: TestDb;
  let api: { proc: Proc; url: string; port: number };

  beforeAll(async () => {
    stack = await FaultStack.create({
      BACKEND_KIND: 'simulated',
      BACKEND_SIM_LATENCY_MS: '1',
      MIGRATION_OPT_IN_LIMIT_PER_SECOND: '1000000',
      MIGRATION_GROUP_COMMIT_WINDOW_MS: '20',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      DATABASE_POOL_SIZE: '10',
    });
    api = await stack.startApi();
    db = await TestDb.connect(stack.dbUrl);
    await db.seedUsers(USERS);
  }, 240_000);

  afterAll(async () => {
    await db?.close();
    await stack?.close();
  });

  const optIn = async (url: string, campaignId: string, userId: number): Promise<Sent> => {
    try {
      const r = await stack.request('POST', `/api/v1/campaigns/${campaignId}/opt-in`, { url, body: { userId: String(userId) } });
      return { userId, status: r.status, state: r.body?.state };
    } catch {
      return { userId, status: 'network' };
    }
  };

  it('keeps every answered opt-in whole, none half-applied, and a retry answers the same', async () => {
    const materializer = await stack.startWorker({}, 'worker-1');
    const id = await stack.startCampaign('optin-kill', 0);
    await waitFor('materialisation', () => db.counters(id), (k) => k.legacy === USERS, 120_000, 100);
    // the rows are materialised; the worker stops so that opt-ins stay where the API put them
    await materializer.stop();

    const sent: Sent[] = [];
    let next = 1;
    let killed = false;
    const clients = Array.from({ length: PARALLEL }, async () => {
      while (next <= USERS && !killed) {
        const s = await optIn(api.url, id, next++);
        sent.push(s);
        if (!killed && sent.filter((x) => x.status === 200).length >= 600) {
          killed = true;
          api.proc.kill('SIGKILL');
        }
      }
    });
    await Promise.all(clients);
    await api.proc.exited;

    const answered = sent.filter((s) => s.status === 200);
    const lost = sent.filter((s) => s.status === 'network');
    expect(answered.length).toBeGreaterThanOrEqual(600);
    expect(sent.filter((s) => s.status !== 200 && s.status !== 'network')).toEqual([]);

    const rows = await db.query<{ user_id: string; state: string; via: string | null; audits: number; batches: number }>(
      `SELECT um.user_id::text, um.state::text AS state, um.enrolled_via::text AS via,
              (SELECT count(*)::int FROM audit_events a WHERE a.action = 'campaign.user_opted_in' AND a.entity_id = um.campaign_id || ':' || um.user_id) AS audits,
              (SELECT count(*)::int FROM migration_batches b WHERE b.campaign_id = um.campaign_id AND um.user_id = ANY(b.user_ids)) AS batches
       FROM user_migrations um WHERE um.campaign_id = $1 AND um.state <> 'legacy'`,
      [id],
    );
    const byUser = new Map(rows.map((r) => [Number(r.user_id), r]));
    // durable: every 200 is in the table as answered
    for (const a of answered) expect([a.userId, byUser.get(a.userId)?.state]).toEqual([a.userId, a.state]);
    // whole: whoever moved (answered or not) has exactly one audit row and, if eligible, one batch
    const broken = rows.filter((r) => r.via !== 'opt_in' || r.audits !== 1 || r.batches !== (r.state === 'eligible' ? 1 : 0));
    expect(broken).toEqual([]);
    expect(await db.counters(id)).toMatchObject(await db.truth(id));

    // the same requests again on a new API: same answers, nothing applied twice
    api = await stack.startApi(undefined);
    const again = await Promise.all([...answered.slice(0, 200), ...lost].map((s) => optIn(api.url, id, s.userId)));
    for (const [i, a] of answered.slice(0, 200).entries()) expect(again[i]).toEqual(a);
    expect(again.every((s) => s.status === 200)).toBe(true);
    const [dupes] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT entity_id FROM audit_events WHERE action = 'campaign.user_opted_in' GROUP BY entity_id HAVING count(*) > 1) d`,
    );
    expect(dupes.n).toBe(0);
    const optedIn = answered.length + lost.length;

    // the batches committed before the kill are carried out (their jobs are re-added by the planner)
    await stack.startWorker({}, 'worker-2');
    const settled = await waitFor('opted-in users to settle', () => db.counters(id), (k) => k.eligible + k.enrolling === 0 && k.enabled + k.ineligible + k.failed === optedIn, 120_000, 250);
    expect(settled).toMatchObject(await db.truth(id));
    console.log(`API SIGKILL mid-group: ${answered.length} answered, ${lost.length} without an answer at the kill; afterwards ${settled.enabled} enabled, ${settled.ineligible} ineligible`);
  }, 300_000);
});
