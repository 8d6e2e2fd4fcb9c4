import type { INestApplicationContext } from '@nestjs/common';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { percent, time } from '../../src/progress/dashboard/assets/format';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi } from '../support/app';
import { testOutputPath } from '../support/output';
import { chartAxisProblems, launchChromium, newPage, openCampaign, signIn } from './dashboard.browser';
import { act, createCampaign, createFlag } from './migration.helpers';
import { setPlan } from './ramp.helpers';
import { TestDb } from '../support/test-db';

/** The page's globals inside page.waitForFunction callbacks (this project compiles without the DOM lib). */
declare const document: any;

const USERS = 40_000;
const STATES = ['legacy', 'ineligible', 'eligible', 'enrolling', 'enabled', 'failed', 'held'];
/** The reader's zone and language in every page: times must be shown in them, with the zone. */
const READER = { locale: 'en-GB', timezoneId: 'Europe/Berlin' };

/** Screenshots go to test-results/; CUTOVER_UPDATE_SCREENSHOT=1 also refreshes docs/dashboard.png. */
async function screenshot(page: Page, name: string, docs = false): Promise<void> {
  const path = testOutputPath(`dashboard-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  if (docs && process.env.CUTOVER_UPDATE_SCREENSHOT === '1') copyFileSync(path, join(__dirname, '../../docs/dashboard.png'));
}

const text = (page: Page, selector: string) => page.textContent(selector).then((t) => t ?? '');
const enabledShown = (page: Page) => page.$eval('[data-testid=count-enabled]', (e) => Number((e.textContent ?? '').replace(/,/g, '')));
const waitText = (page: Page, selector: string, re: RegExp) =>
  page.waitForFunction(([s, source]) => new RegExp(source).test(document.querySelector(s)?.textContent ?? ''), [selector, re.source] as const);

/** Every <time> under `selector`: its text is the ISO time of its title, in the reader's zone with the zone named. */
async function timesShown(page: Page, selector: string): Promise<Array<{ text: string; iso: string; expected: string }>> {
  const shown = await page.$$eval(`${selector} time`, (ts: any[]) => ts.map((t) => ({ text: t.textContent, iso: t.getAttribute('title') })));
  return shown.map((t) => ({ ...t, expected: time(t.iso, { locale: READER.locale, timeZone: READER.timezoneId }).text }));
}

describe('dashboard in headless Chromium against the real engine', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  let browser: Browser;
  let campaign: { id: string; key: string };
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    const env = await createTestEnvironment({
      BACKEND_KIND: 'simulated',
      BACKEND_SIM_LATENCY_MS: '5',
      BACKEND_SIM_MAX_USERS_PER_SECOND: '1500',
      BACKEND_SIM_TRANSIENT_FAILURE_RATIO: '0.02',
      BACKEND_SIM_PERMANENT_FAILURE_RATIO: '0.005',
      MIGRATION_BATCH_SIZE: '500',
      MIGRATION_PLANNER_INTERVAL_MS: '500',
      WORKER_CONCURRENCY: '2',
      RAMP_TICK_INTERVAL_MS: '300',
      RAMP_PACE_MIN_USERS_PER_SECOND: '500',
    });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    db = await TestDb.connect(env);
    await db.seedUsers(USERS);
    operator = await api.newKey('operator');
    viewer = await api.newKey('viewer');
    await createFlag(api, 'e2ee-default', 0);
    const c = await createCampaign(api, { key: 'messenger-1to1', name: 'Messenger 1:1 chats', flag: 'e2ee-default' });
    campaign = { id: c.id, key: 'messenger-1to1' };
    await setPlan(api, c.id, {
      steps: [
        { percent: 60, holdMinutes: 60 },
        { percent: 80, holdMinutes: 60, requiresApproval: true },
        { percent: 100, holdSeconds: 20, pointOfNoReturn: true },
      ],
      guardrails: [
        { metric: 'failure_ratio', threshold: 0.5, windowSeconds: 300, action: 'pause' },
        { metric: 'db_oldest_xact_age_seconds', threshold: 3600, windowSeconds: 60, action: 'hold' },
      ],
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  it('loads, and its numbers move while the campaign runs', async () => {
    const page = await newPage(browser, { viewport: { width: 1440, height: 1100 }, ...READER });
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await signIn(page, api.url, operator);
    expect(await text(page, '[data-testid=whoami]')).toContain('operator');
    await page.click(`#campaign-list a[data-key="${campaign.key}"]`);
    await page.waitForSelector('#campaign:not([hidden])');
    expect(await text(page, '[data-testid=status]')).toBe('draft');
    expect(await text(page, '[data-testid=eta]')).toBe('—');

    expect((await act(api, campaign.id, 'start')).status).toBe(200);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'running');
    await waitText(page, `#campaign-list a[data-key="${campaign.key}"] .badge`, /^running$/);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=count-enabled]')?.textContent?.replace(/,/g, '')) > 0);
    const first = await enabledShown(page);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=count-enabled]')?.textContent?.replace(/,/g, '')) > n, first);
    expect(await enabledShown(page)).toBeGreaterThan(first);
    expect(await text(page, '[data-testid=live]')).toBe('live');
    await waitText(page, '[data-testid=throughput]', /\/s$/);
    // the ramp as the ramp controller runs it: steps counted from 1, holds as durations
    const rows = await page.$$eval('[data-testid=ramp] tbody tr', (rs: any[]) => rs.map((r) => ({ cls: r.className, cells: [...r.cells].map((c: any) => c.textContent) })));
    expect(rows.map((r) => r.cls)).toEqual(['current', '', '']);
    expect(rows.map((r) => r.cells.slice(0, 3))).toEqual([['1', '60%', '1 h'], ['2', '80%', '1 h'], ['3', '100%', '20 s']]);
    expect(rows.map((r) => r.cells[4])).toEqual(['—', '—', '—']);
    // conversation coverage next to user coverage, with its model
    await waitText(page, '[data-testid=conversations]', /^\d+\.\d+% of 1:1$/);
    expect(await text(page, '[data-testid=conversations-model]')).toMatch(/^groups of 3: .*, 32: .* · estimate p\^k$/);
    expect(await text(page, '#ramp-note')).toMatch(/^Holding step 1 of 3: \d+ min( \d+ s)? left\.$/);
    await waitText(page, '[data-testid=guardrails]', /ramp waits: step 1 of 3 holds for/);
    expect(await text(page, '[data-testid=guardrails]')).toMatch(/^(Healthy|No evaluation yet) · ramp waits: step 1 of 3 holds for \d+ min( \d+ s)? more · checked /);
    // an external rule (database health) shows its last reading
    await page.waitForFunction(() => /· last /.test(document.querySelector('#guard-rules')?.textContent ?? ''));
    expect(await page.$$eval('#guard-rules li', (ls: any[]) => ls.map((l) => l.textContent))).toEqual([
      'failure_ratio > 0.5 over 5 min → pause',
      expect.stringMatching(/^db_oldest_xact_age_seconds > 3600 over 1 min → hold · last \d+(\.\d+)?$/),
    ]);
    await page.waitForFunction(() => document.querySelectorAll('.charts [data-x-ticks]').length === 3);
    await page.waitForFunction(() => JSON.parse(document.querySelector('#chart-enabled').dataset.xTicks).length >= 2);
    await screenshot(page, 'running', true);
    expect(await chartAxisProblems(page)).toEqual(['chart-enabled', 'chart-failed', 'chart-tput'].map((chart) => ({ chart, xLabels: expect.any(Array), problems: [] })));
    expect(failed).toEqual([]);
    await page.close();
  }, 180_000);

  it('draws each state as its share of all users, not of the largest state', async () => {
    const page = await newPage(browser, READER);
    await openCampaign(page, api.url, viewer, campaign.key);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=count-enabled]')?.textContent?.replace(/,/g, '')) > 0);
    const bars = await page.$$eval('#bars .bar', (bs: any[]) =>
      bs.map((b) => ({ state: b.dataset.state, n: Number(b.querySelector('.n').textContent.replace(/,/g, '')), width: parseFloat(b.querySelector('.fill').style.width), share: b.querySelector('.share').textContent })),
    );
    expect(bars.map((b) => b.state)).toEqual(STATES);
    const total = bars.reduce((a, b) => a + b.n, 0);
    for (const b of bars) {
      expect(b.width).toBeCloseTo((100 * b.n) / total, 6);
      expect(b.share).toBe(percent(b.n / total));
    }
    expect(bars.reduce((a, b) => a + b.width, 0)).toBeCloseTo(100, 6);
    await page.close();
  }, 180_000);

  it('draws chart axes whose labels neither overlap nor clip, at every layout width', async () => {
    for (const width of [1000, 1280, 1600]) {
      const page = await newPage(browser, { viewport: { width, height: 1000 }, ...READER });
      await openCampaign(page, api.url, viewer, campaign.key);
      await page.waitForFunction(() => JSON.parse(document.querySelector('#chart-enabled')?.dataset.xTicks ?? '[]').length >= 2);
      await screenshot(page, `charts-${width}`);
      for (const chart of await chartAxisProblems(page)) expect({ width, ...chart }).toEqual({ width, chart: chart.chart, xLabels: chart.xLabels, problems: [] });
      await page.close();
    }
  }, 180_000);

  it('explains one user, and says so plainly when a user is not in the campaign', async () => {
    const page = await newPage(browser, READER);
    await openCampaign(page, api.url, viewer, campaign.key);
    const expected = (await api.request('GET', `/api/v1/campaigns/${campaign.id}/users/42`, { key: viewer })).body;
    await page.fill('#lookup-user', '42');
    await page.click('#lookup-form button');
    await page.waitForSelector('[data-testid=lookup-why]');
    // the campaign is moving: the planner's figures in the sentence may have changed since
    const shape = (s: string | null) => (s ?? '').replace(/\d+/g, '#');
    expect(shape(await page.textContent('[data-testid=lookup-why]'))).toBe(shape(expected.why));
    expect(await text(page, '[data-testid=lookup-result]')).toContain(`bucket${expected.bucket}`);
    // times in the reader's zone with the zone named, the ISO form on hover; no bare ISO text
    const times = await timesShown(page, '[data-testid=lookup-result] dl');
    expect(times.length).toBeGreaterThan(0);
    for (const t of times) expect(t.text).toBe(t.expected);
    expect(times[0].text).toMatch(/ CES?T$/);
    expect(await text(page, '[data-testid=lookup-result] dl')).not.toMatch(/\d{4}-\d\d-\d\dT/);

    await page.fill('#lookup-user', String(USERS + 1000));
    await page.click('#lookup-form button');
    await page.waitForSelector('[data-testid=lookup-result] p.error');
    expect(await text(page, '[data-testid=lookup-result]')).toMatch(/not part of this campaign|does not exist/);
    await page.close();
  }, 180_000);

  it('shows a viewer no controls at all', async () => {
    const page = await newPage(browser);
    await signIn(page, api.url, viewer);
    expect(await text(page, '[data-testid=whoami]')).toContain('viewer');
    await page.click(`#campaign-list a[data-key="${campaign.key}"]`);
    await page.waitForSelector('#campaign:not([hidden])');
    expect(await page.isHidden('[data-testid=controls]')).toBe(true);
    expect(await page.$$eval('#controls button', (bs) => bs.filter((b) => (b as any).offsetParent !== null).length)).toBe(0);
    await page.close();
  }, 180_000);

  it('offers approve to an admin only, and promotes once the gated step is approved', async () => {
    const page = await newPage(browser);
    await openCampaign(page, api.url, operator, campaign.key);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'running');
    expect(await page.isVisible('#controls button[data-action=approve]')).toBe(false);
    await page.click('#controls button[data-action=promote]');
    await waitText(page, '[data-testid=control-result]', /promote failed/);
    expect(await text(page, '[data-testid=control-result]')).toMatch(/step 2 of 3 requires approval/);

    const admin = await newPage(browser);
    await openCampaign(admin, api.url, api.adminKey, campaign.key);
    await admin.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'running');
    await admin.click('#controls button[data-action=approve]');
    await waitText(admin, '[data-testid=control-result]', /approve: done/);
    await admin.waitForFunction(() => /approved/.test(document.querySelectorAll('[data-testid=ramp] tbody tr')[1]?.textContent ?? ''));
    await admin.close();

    await page.click('#controls button[data-action=promote]');
    await waitText(page, '[data-testid=control-result]', /promote: done/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=ramp] tbody tr')[1]?.className === 'current');
    expect((await api.request('GET', `/api/v1/campaigns/${campaign.id}/ramp`)).body.currentStep).toBe(1);
    await waitText(page, '#ramp-note', /^Holding step 2 of 3: /);
    await waitText(page, '[data-testid=audit]', /campaign\.ramp_promoted/);
    await page.close();
  }, 180_000);

  it('halts only after the campaign key is typed and a reason given; a halted campaign shows no ETA or throughput', async () => {
    const page = await newPage(browser, { viewport: { width: 1440, height: 1100 }, ...READER });
    await openCampaign(page, api.url, operator, campaign.key);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'running');
    await page.click('#controls button[data-action=halt]');
    await page.waitForSelector('[data-testid=halt-dialog][open]');
    expect(await page.isDisabled('[data-testid=halt-confirm]')).toBe(true);
    await page.fill('[data-testid=halt-key]', 'messenger-1to2');
    await page.fill('[data-testid=halt-reason]', 'backend error spike in eu-west');
    expect(await page.isDisabled('[data-testid=halt-confirm]')).toBe(true);
    await page.fill('[data-testid=halt-key]', campaign.key);
    expect(await page.isDisabled('[data-testid=halt-confirm]')).toBe(false);
    await page.click('[data-testid=halt-confirm]');
    await page.waitForFunction(() => !document.querySelector('[data-testid=halt-dialog]').open);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'halted');

    const after = await api.request('GET', `/api/v1/campaigns/${campaign.id}`);
    expect(after.body).toMatchObject({ status: 'halted', haltReason: 'backend error spike in eu-west' });
    await waitText(page, '[data-testid=audit]', /campaign\.halted/);
    expect(await text(page, '[data-testid=audit]')).toContain('backend error spike in eu-west');
    expect(await page.isDisabled('#controls button[data-action=halt]')).toBe(true);
    expect(await page.isDisabled('#controls button[data-action=resume]')).toBe(false);
    expect([await text(page, '[data-testid=eta]'), await text(page, '[data-testid=throughput]')]).toEqual(['—', '—']);
    expect(await text(page, '#t-tput5')).toBe('halted: nothing moves');
    expect(await text(page, `#campaign-list a[data-key="${campaign.key}"] .badge`)).toBe('halted');
    expect(await text(page, '#t-remaining')).toMatch(/^halted: [\d,]+ to go$/);
    // one time format in the audit trail and the halt line: local with the zone, ISO on hover
    const times = [...(await timesShown(page, '[data-testid=audit]')), ...(await timesShown(page, '#halt-info'))];
    expect(times.length).toBeGreaterThan(3);
    for (const t of times) expect(t).toEqual({ text: t.expected, iso: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), expected: expect.stringMatching(/ CES?T$/) });
    await screenshot(page, 'halted');
    await page.close();
  }, 180_000);

  it('completes a campaign from the admin\'s dialog only; operators see no Complete button', async () => {
    const page = await newPage(browser);
    await openCampaign(page, api.url, operator, campaign.key);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'halted');
    expect(await page.isVisible('[data-testid=complete-button]')).toBe(false);
    await page.close();

    const admin = await newPage(browser);
    await openCampaign(admin, api.url, api.adminKey, campaign.key);
    await admin.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'halted');
    await admin.click('[data-testid=complete-button]');
    await admin.waitForSelector('[data-testid=complete-dialog][open]');
    await admin.fill('[data-testid=complete-reason]', 'the remaining users move with the next app release');
    expect(await admin.isDisabled('[data-testid=complete-confirm]')).toBe(true);
    await admin.fill('[data-testid=complete-key]', campaign.key);
    await admin.click('[data-testid=complete-confirm]');
    await admin.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'completed');
    await waitText(admin, '[data-testid=audit]', /campaign\.completed/);
    await waitText(admin, '[data-testid=campaign-why]', /^The campaign is completed: enabled users stay enabled/);
    expect(await admin.$$eval('#controls button[data-action]', (bs) => bs.filter((b) => !(b as any).disabled).length)).toBe(0);
    const after = await api.request('GET', `/api/v1/campaigns/${campaign.id}`);
    expect(after.body).toMatchObject({ status: 'completed', completedAt: expect.any(String) });
    await admin.close();
  }, 180_000);

  it('serves a favicon', async () => {
    const r = await fetch(`${api.url}/favicon.ico`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/x-icon');
    expect([...new Uint8Array(await r.arrayBuffer()).slice(0, 4)]).toEqual([0, 0, 1, 0]);
  });
});
