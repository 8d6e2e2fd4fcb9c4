import type { INestApplicationContext } from '@nestjs/common';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, runCli } from '../support/cli';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { startExporter, startPrometheus, type Exporter, type RunningPrometheus } from '../support/prometheus';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';
import { act, createCampaign, createFlag } from './migration.helpers';
import { auditOf, etagOf, rampOf, setPlan, waitRampWait } from './ramp.helpers';

/**
 * Prometheus-query guardrails against a real Prometheus (Debian's package, private port) that
 * scrapes a tiny exporter the test sets every second: a query crossing its threshold pauses a
 * running campaign; invalid PromQL is refused at save with Prometheus's own message; once
 * Prometheus is gone, the failed query is a visible state and its rule's outcome applies
 * (hold the step, or ignore it).
 */
describe('prometheus guardrails', () => {
  let exporter: Exporter;
  let prom: RunningPrometheus;
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  const guard = (over: Record<string, unknown> = {}) => ({ metric: 'prometheus', query: 'max(send_failure_ratio)', threshold: 0.05, windowSeconds: 10, minSamples: 1, action: 'pause', ...over });

  beforeAll(async () => {
    exporter = await startExporter();
    exporter.set('send_failure_ratio', 0.01);
    prom = await startPrometheus(exporter.url);
    env = await createTestEnvironment({ GUARDRAILS_PROMETHEUS_URL: prom.url, RAMP_TICK_INTERVAL_MS: '150', MIGRATION_PLANNER_INTERVAL_MS: '300', BACKEND_KIND: 'simulated', BACKEND_SIM_LATENCY_MS: '1' });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    db = await TestDb.connect(env);
    await db.seedUsers(400);
    for (const f of ['pg-flag', 'pg-flag-2', 'pg-flag-3']) await createFlag(api, f, 0);
    await waitFor('a first scrape', () => prom.value('send_failure_ratio'), (v) => v === 0.01, 30_000, 100);
  }, 90_000);

  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
    await prom?.close();
    await exporter?.close();
  });

  it('refuses invalid PromQL when the guardrail is saved, with Prometheus’s own message', async () => {
    const c = await createCampaign(api, { key: 'pg-invalid', name: 'Invalid PromQL', flag: 'pg-flag-2' });
    const r = await api.request('PUT', `/api/v1/campaigns/${c.id}/guardrails`, { body: { rules: [guard({ query: 'sum(rate(send_failures_total[5m]) by' })] }, headers: { 'if-match': await etagOf(api, c.id) } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'guardrail.invalid_promql', details: [{ field: 'body.rules.0.query', message: expect.stringContaining('parse error') }] });
    const missing = await api.request('PUT', `/api/v1/campaigns/${c.id}/guardrails`, { body: { rules: [guard({ query: undefined })] }, headers: { 'if-match': await etagOf(api, c.id) } });
    expect(missing.status).toBe(400);
    expect(missing.body.details).toEqual([expect.objectContaining({ field: 'body.rules.0.query' })]);
    expect((await rampOf(api, c.id)).guardrails).toEqual([]);

    // the same through the CLI: Prometheus's message on a refusal, the rules and their readings on success
    const dir = await mkdtemp(join(tmpdir(), 'cutover-rules-'));
    try {
      await writeFile(join(dir, 'bad.json'), JSON.stringify([guard({ query: 'rate(x[5m]' })]));
      const bad = await runCli(['campaign', 'set-guardrails', 'pg-invalid', '--file', join(dir, 'bad.json')], cliEnv(api));
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/body\.rules\.0\.query: .*parse error/);
      await writeFile(join(dir, 'good.json'), JSON.stringify([guard()]));
      const good = await runCli(['campaign', 'set-guardrails', 'pg-invalid', '--file', join(dir, 'good.json'), '--reason', 'watch send failures'], cliEnv(api));
      expect(good).toMatchObject({ code: 0, stdout: expect.stringContaining('prometheus max(send_failure_ratio) > 0.05 over 10s → pause, on query error: hold') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect((await rampOf(api, c.id)).guardrails).toEqual([expect.objectContaining({ metric: 'prometheus', query: 'max(send_failure_ratio)' })]);
  });

  it('pauses a running campaign when the query crosses its threshold, audited with the measured value', async () => {
    const c = await createCampaign(api, { key: 'pg-pause', name: 'Prometheus pause', flag: 'pg-flag', populationFilter: { countries: ['DE'] } });
    await setPlan(api, c.id, { steps: [{ percent: 1, holdMinutes: 60 }, { percent: 100 }], guardrails: [guard({ query: 'max(max_over_time(send_failure_ratio[$window]))' })] });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    const healthy = await waitFor('a healthy evaluation', () => rampOf(api, c.id), (r) => r.guardrailState.measured?.[0]?.status === 'ok', 30_000, 100);
    expect(healthy.guardrailState).toMatchObject({ verdict: 'ok', measured: [{ metric: 'prometheus', value: 0.01, status: 'ok', samples: expect.any(Number) }] });
    expect(healthy.status).toBe('running');

    exporter.set('send_failure_ratio', 0.2);
    const paused = await waitFor('the query to pause the campaign', () => api.request('GET', `/api/v1/campaigns/${c.id}`), (r) => r.body.status === 'paused', 30_000, 100);
    expect(paused.body.guardrailState).toMatchObject({ verdict: 'pause', trips: [{ metric: 'prometheus', query: 'max(max_over_time(send_failure_ratio[$window]))', value: 0.2, threshold: 0.05 }] });
    const [trip] = await auditOf(api, c.id, 'campaign.guardrail_tripped');
    expect(trip.after.trip).toMatchObject({ metric: 'prometheus', value: 0.2 });
    expect(trip.reason).toBe('prometheus max(max_over_time(send_failure_ratio[$window])) 0.2000 > 0.05 over 10s → pause');
    const [pause] = await auditOf(api, c.id, 'campaign.paused');
    expect(pause).toMatchObject({ actor: { name: 'ramp-controller' }, reason: expect.stringContaining('send_failure_ratio') });
    exporter.set('send_failure_ratio', 0.01);
  }, 60_000);

  it('an unreachable Prometheus is a visible state: hold keeps the campaign where it is, ignore lets it advance', async () => {
    const steps = [{ percent: 1, holdSeconds: 0 }, { percent: 100 }];
    const held = await createCampaign(api, { key: 'pg-hold', name: 'Hold on failure', flag: 'pg-flag-3', populationFilter: { countries: ['US'] } });
    await setPlan(api, held.id, { steps, guardrails: [guard({ onQueryError: 'hold' })] });
    const ignored = await createCampaign(api, { key: 'pg-ignore', name: 'Ignore failure', flag: 'pg-flag-2', populationFilter: { countries: ['FR'] } });
    await setPlan(api, ignored.id, { steps, guardrails: [guard({ onQueryError: 'ignore' })] });
    await prom.close();

    const refused = await api.request('PUT', `/api/v1/campaigns/${held.id}/guardrails`, { body: { rules: [guard()] }, headers: { 'if-match': await etagOf(api, held.id) } });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'guardrail.prometheus_unreachable', details: [{ field: 'body.rules.0.query' }] });

    expect((await act(api, held.id, 'start')).status).toBe(200);
    expect((await act(api, ignored.id, 'start')).status).toBe(200);
    const h = await waitRampWait(api, held.id, 'the failed query to hold the step', (w) => w?.reason === 'guardrail');
    expect(h.currentStep).toBe(-1); // not even the first step: nothing is admitted while the query fails
    expect(h.status).toBe('running');
    expect(h.guardrailState).toMatchObject({
      verdict: 'hold',
      measured: [{ metric: 'prometheus', status: 'error', value: null, error: expect.stringContaining('unreachable') }],
      failures: [{ metric: 'prometheus', outcome: 'hold', error: expect.stringContaining('unreachable') }],
    });
    const [failed] = await auditOf(api, held.id, 'campaign.guardrail_query_failed');
    expect(failed.reason).toMatch(/^prometheus max\(send_failure_ratio\) could not be read: Prometheus at .* unreachable .* → step held$/);
    const progress = await api.request('GET', `/api/v1/campaigns/${held.id}/progress`);
    expect(progress.body.guardrails.state.failures).toEqual([expect.objectContaining({ outcome: 'hold' })]);

    const shown = await runCli(['campaign', 'guardrails', 'pg-hold'], cliEnv(api));
    expect(shown.stdout).toMatch(/verdict: +hold/);
    expect(shown.stdout).toMatch(/unreadable: +prometheus max\(send_failure_ratio\): Prometheus at .* unreachable .* → step held/);
    expect(shown.stdout).toContain('last: UNREADABLE: Prometheus at');

    const i = await waitFor('the ignoring campaign to advance', () => rampOf(api, ignored.id), (r) => r.currentStep === 1, 30_000, 100);
    expect(i.guardrailState).toMatchObject({ verdict: 'ok', failures: [{ outcome: 'ignore' }], measured: [{ status: 'error' }] });
    expect(await auditOf(api, ignored.id, 'campaign.guardrail_query_failed')).toHaveLength(1);
    expect((await rampOf(api, held.id)).currentStep).toBe(-1);
  }, 60_000);
});
