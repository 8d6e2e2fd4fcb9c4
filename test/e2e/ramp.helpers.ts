import type { INestApplicationContext } from '@nestjs/common';
import { Clock, type FakeClock } from '../../src/core/clock/clock';
import type { TestApi } from '../support/app';
import type { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

/**
 * Makes a running process read its time from `fake`: the Clock provider is a singleton
 * injected everywhere, so pointing its `now` at the fake clock moves the whole process
 * (ramp holds, step_entered_at, progress hold-remaining). PostgreSQL's clock is untouched.
 */
export function bindClock(app: INestApplicationContext, fake: FakeClock): void {
  const clock = app.get(Clock);
  clock.now = () => fake.now();
}

export async function etagOf(api: TestApi, id: string): Promise<string> {
  const r = await api.request('GET', `/api/v1/campaigns/${id}`);
  return r.headers.get('etag')!;
}

/** POST a ramp action with the campaign's current ETag. */
export async function rampAction(api: TestApi, id: string, action: string, body: Record<string, unknown> = {}, key?: string) {
  return api.request('POST', `/api/v1/campaigns/${id}/ramp/${action}`, { body, key, headers: { 'if-match': await etagOf(api, id) } });
}

export async function setPlan(api: TestApi, id: string, body: Record<string, unknown>) {
  const r = await api.request('PUT', `/api/v1/campaigns/${id}/ramp`, { body, headers: { 'if-match': await etagOf(api, id) } });
  if (r.status !== 200) throw new Error(`set ramp plan failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function rampOf(api: TestApi, id: string) {
  return (await api.request('GET', `/api/v1/campaigns/${id}/ramp`)).body;
}

export async function auditOf(api: TestApi, id: string, action: string): Promise<any[]> {
  const r = await api.request('GET', `/api/v1/audit?entityType=campaign&entityId=${id}&action=${action}&limit=500`);
  if (r.status !== 200) throw new Error(`audit read failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.items;
}

/** The current step's range is planned and nothing is queued, running or waiting for a batch (read from the tables). */
export async function waitStepSettled(api: TestApi, db: TestDb, id: string, step: number, timeoutMs = 90_000): Promise<void> {
  const read = async () => {
    const ramp = await rampOf(api, id);
    const [b] = await db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND status IN ('queued', 'running')`, [id]);
    return { currentStep: ramp.currentStep, plannedPpm: ramp.plannedPpm, ppm: ramp.steps[step]?.ppm ?? 0, state: ramp.guardrailState, backlog: b.n, counts: await db.counters(id) };
  };
  const settled = (r: Awaited<ReturnType<typeof read>>) => r.currentStep === step && r.plannedPpm >= r.ppm && r.backlog === 0 && r.counts.eligible === 0 && r.counts.enrolling === 0;
  await waitFor(`step ${step} to settle`, read, settled, timeoutMs, 150);
}

/** The ramp controller has looked at the campaign since `ok` became true of its waiting reason (guardrailState.rampWait). */
export function waitRampWait(api: TestApi, id: string, what: string, ok: (wait: { reason: string; detail: string } | null) => boolean, timeoutMs = 30_000) {
  return waitFor(what, () => rampOf(api, id), (r) => ok(r.guardrailState?.rampWait ?? null), timeoutMs, 50);
}

/** The seconds a "step N of M holds for S s more" waiting reason leaves (Infinity for another text). */
export function holdLeftSeconds(detail: string): number {
  const m = /holds for (\d+) s more/.exec(detail);
  return m ? Number(m[1]) : Infinity;
}
