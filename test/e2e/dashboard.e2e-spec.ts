import type { INestApplicationContext } from '@nestjs/common';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi } from '../support/app';
import { launchChromium } from './dashboard.browser';
import { TestDb, act, createCampaign, createFlag } from './migration.helpers';
import { setPlan } from './ramp.helpers';

/** The page's globals inside page.waitForFunction callbacks (this project compiles without the DOM lib). */
declare const document: any;

const USERS = 40_000;
/** docs/dashboard.png is refreshed with CUTOVER_UPDATE_SCREENSHOT=1; otherwise a normal run leaves the checkout clean. */
const SCREENSHOT = process.env.CUTOVER_UPDATE_SCREENSHOT === '1' ? join(__dirname, '../../docs/dashboard.png') : join(tmpdir(), `cutover-dashboard-${process.pid}.png`);

async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.fill('#apikey', key);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
}

/** Generous waits: CI machines are shared and slow; nothing here asserts on time. */
async function newPage(browser: Browser, opts: Parameters<Browser['newPage']>[0] = {}): Promise<Page> {
  const page = await browser.newPage(opts);
  page.setDefaultTimeout(90_000);
  return page;
}

const enabledShown = (page: Page) => page.$eval('[data-testid=count-enabled]', (e) => Number((e.textContent ?? '').replace(/,/g, '')));

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
        { percent: 100, holdMinutes: 0, pointOfNoReturn: true },
      ],
      guardrails: [{ metric: 'failure_ratio', threshold: 0.5, windowSeconds: 300, action: 'pause' }],
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
    const page = await newPage(browser, { viewport: { width: 1440, height: 1100 } });
    await signIn(page, api.url, operator);
    expect(await page.textContent('[data-testid=whoami]')).toContain('operator');
    await page.click(`#campaign-list a[data-key="${campaign.key}"]`);
    await page.waitForSelector('#campaign:not([hidden])');
    expect(await page.textContent('[data-testid=status]')).toBe('draft');

    expect((await act(api, campaign.id, 'start')).status).toBe(200);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'running');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=count-enabled]')?.textContent?.replace(/,/g, '')) > 0);
    const first = await enabledShown(page);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=count-enabled]')?.textContent?.replace(/,/g, '')) > n, first);
    expect(await enabledShown(page)).toBeGreaterThan(first);
    expect(await page.textContent('[data-testid=live]')).toBe('live');
    await page.waitForFunction(() => /\/s$/.test(document.querySelector('[data-testid=throughput]')?.textContent ?? ''));
    // the chart has points once a few stream events arrived
    await page.waitForFunction(() => document.querySelectorAll('#chart-enabled canvas').length > 0);
    // the ramp as the ramp controller runs it: three steps, the first current and holding
    expect(await page.$$eval('[data-testid=ramp] tbody tr', (rows) => rows.map((r: any) => r.className))).toEqual(['current', '', '']);
    expect(await page.textContent('#ramp-note')).toMatch(/^Holding step 0: \d+ min/);
    expect(await page.textContent('[data-testid=guardrails]')).toMatch(/Healthy|No evaluation yet/);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  }, 180_000);

  it('explains one user, and says so plainly when a user is not in the campaign', async () => {
    const page = await newPage(browser);
    await signIn(page, api.url, viewer);
    await page.click(`#campaign-list a[data-key="${campaign.key}"]`);
    await page.waitForSelector('#campaign:not([hidden])');
    const expected = (await api.request('GET', `/api/v1/campaigns/${campaign.id}/users/42`, { key: viewer })).body;
    await page.fill('#lookup-user', '42');
    await page.click('#lookup-form button');
    await page.waitForSelector('[data-testid=lookup-why]');
    // the campaign is moving: the planner's figures in the sentence may have changed since
    const shape = (s: string | null) => (s ?? '').replace(/\d+/g, '#');
    expect(shape(await page.textContent('[data-testid=lookup-why]'))).toBe(shape(expected.why));
    const text = await page.textContent('[data-testid=lookup-result]');
    expect(text).toContain(`bucket${expected.bucket}`);

    await page.fill('#lookup-user', String(USERS + 1000));
    await page.click('#lookup-form button');
    await page.waitForSelector('[data-testid=lookup-result] p.error');
    expect(await page.textContent('[data-testid=lookup-result]')).toMatch(/not part of this campaign|does not exist/);
    await page.close();
  }, 180_000);

  it('shows a viewer no controls at all', async () => {
    const page = await newPage(browser);
    await signIn(page, api.url, viewer);
    expect(await page.textContent('[data-testid=whoami]')).toContain('viewer');
    await page.click(`#campaign-list a[data-key="${campaign.key}"]`);
    await page.waitForSelector('#campaign:not([hidden])');
    expect(await page.isHidden('[data-testid=controls]')).toBe(true);
    expect(await page.$$eval('#controls button', (bs) => bs.filter((b) => (b as any).offsetParent !== null).length)).toBe(0);
    await page.close();
  }, 180_000);

  it('offers approve to an admin only, and promotes once the gated step is approved', async () => {
    const page = await newPage(browser);
    await signIn(page, api.url, operator);
    await page.click(`#campaign-list a[data-key="${campaign.key}"]`);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'running');
    expect(await page.isVisible('#controls button[data-action=approve]')).toBe(false);
    await page.click('#controls button[data-action=promote]');
    await page.waitForFunction(() => /promote failed/.test(document.querySelector('[data-testid=control-result]')?.textContent ?? ''));
    expect(await page.textContent('[data-testid=control-result]')).toMatch(/approv/i);

    const admin = await newPage(browser);
    await signIn(admin, api.url, api.adminKey);
    await admin.click(`#campaign-list a[data-key="${campaign.key}"]`);
    await admin.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'running');
    await admin.click('#controls button[data-action=approve]');
    await admin.waitForFunction(() => /approve: done/.test(document.querySelector('[data-testid=control-result]')?.textContent ?? ''));
    await admin.waitForFunction(() => /approved/.test(document.querySelectorAll('[data-testid=ramp] tbody tr')[1]?.textContent ?? ''));
    await admin.close();

    await page.click('#controls button[data-action=promote]');
    await page.waitForFunction(() => /promote: done/.test(document.querySelector('[data-testid=control-result]')?.textContent ?? ''));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=ramp] tbody tr')[1]?.className === 'current');
    expect((await api.request('GET', `/api/v1/campaigns/${campaign.id}/ramp`)).body.currentStep).toBe(1);
    await page.waitForFunction(() => /campaign\.ramp_promoted/.test(document.querySelector('[data-testid=audit]')?.textContent ?? ''));
    await page.close();
  }, 180_000);

  it('halts only after the campaign key is typed and a reason given, and shows it in the audit trail', async () => {
    const page = await newPage(browser);
    await signIn(page, api.url, operator);
    await page.click(`#campaign-list a[data-key="${campaign.key}"]`);
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
    await page.waitForFunction(() => (document.querySelector('[data-testid=audit]')?.textContent ?? '').includes('campaign.halted'));
    expect(await page.textContent('[data-testid=audit]')).toContain('backend error spike in eu-west');
    expect(await page.isDisabled('#controls button[data-action=halt]')).toBe(true);
    expect(await page.isDisabled('#controls button[data-action=resume]')).toBe(false);
    await page.close();
  }, 180_000);
});
