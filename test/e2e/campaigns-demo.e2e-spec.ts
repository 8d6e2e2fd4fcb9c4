import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { startTestApi, type TestApi } from '../support/app';

const DEMO = resolve(process.env.CUTOVER_DIST_DIR ?? resolve(__dirname, '../../dist'), 'src/cli/demo.js');
const run = promisify(execFile);

describe('the quick-start demo loader', () => {
  let api: TestApi;
  beforeAll(async () => {
    if (!existsSync(DEMO)) throw new Error(`${DEMO} is missing: run npm run build first (scripts/test.sh does)`);
    api = await startTestApi();
  });
  afterAll(() => api?.close());

  it('creates the flag, seeds users and starts a campaign; a second run changes nothing', async () => {
    const args = [DEMO, '--url', api.url, '--key', api.adminKey, '--users', '2000'];
    const first = await run(process.execPath, args);
    expect(first.stderr).toContain('started campaign');
    const second = await run(process.execPath, args);
    expect(second.stderr).toContain('is running');
    expect(second.stderr).toContain('not seeding again');
    expect(second.stderr).toContain('has its ramp plan');

    const c = await api.request('GET', '/api/v1/campaigns/demo-messenger-1to1');
    expect([c.status, c.body.status, c.body.version]).toEqual([200, 'running', 3]);
    expect(c.body.rampPlan.map((s: { ppm: number }) => s.ppm)).toEqual([10_000, 50_000, 250_000, 1_000_000]);
    expect((await api.request('GET', '/api/v1/users/2000')).status).toBe(200);
    expect((await api.request('GET', '/api/v1/users/2001')).status).toBe(404);
    const flag = await api.request('GET', '/api/v1/flags/e2ee-default-demo');
    expect(flag.body.rolloutPpm).toBe(0); // the ramp raises it (no worker runs in this test)
    const started = await api.request('GET', `/api/v1/audit?action=campaign.started&entityId=${c.body.id}`);
    expect(started.body.items).toHaveLength(1);

    const bad = await run(process.execPath, [DEMO, '--url', api.url, '--key', 'co_aaaaaaaa_wrongwrongwrongwrongwrong']).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(3);
  });
});
