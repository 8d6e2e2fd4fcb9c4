/** Population and campaign set-up for the benches that need a running campaign (as the k6 setup() does). */
import { createFlag } from './http-evaluate';
import { call, expectOk, type Api } from './http-support';

/** `POST /api/v1/users/seed` (what `cutover users seed --count N` calls); returns the id range. */
export async function seedUsers(api: Api, adminKey: string, count: number): Promise<{ fromId: number; toId: number }> {
  const r = expectOk(await call(api.url, 'POST', '/api/v1/users/seed', { key: adminKey, body: { count } }), 'seeding users', [200]);
  return { fromId: Number(r.fromId), toId: Number(r.toId) };
}

/** Flag `key` at `rolloutPpm`, campaign `key` on it, started. Returns the campaign id. */
export async function startCampaign(api: Api, adminKey: string, key: string, rolloutPpm: number, pacing: Record<string, number>): Promise<string> {
  await createFlag(api, adminKey, key, rolloutPpm);
  const created = await call(api.url, 'POST', '/api/v1/campaigns', { key: adminKey, body: { key, name: `bench ${key}`, flag: key, pacing } });
  const campaign = expectOk(created, `creating campaign ${key}`, [201]);
  const started = await call(api.url, 'POST', `/api/v1/campaigns/${campaign.id}/start`, { key: adminKey, body: {}, headers: { 'if-match': created.headers.get('etag')! } });
  expectOk(started, `starting campaign ${key}`, [200]);
  return String(campaign.id);
}

export async function progressOf(api: Api, adminKey: string, campaignId: string): Promise<any> {
  return expectOk(await call(api.url, 'GET', `/api/v1/campaigns/${campaignId}/progress`, { key: adminKey }), 'reading progress', [200]);
}

/** Waits until the campaign's rows are materialised (progress counts cover the population). */
export async function waitMaterialized(api: Api, adminKey: string, campaignId: string, population: number, timeoutMs = 300_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const p = await progressOf(api, adminKey, campaignId);
    if (p.counts.total >= population) return p;
    if (Date.now() > until) throw new Error(`campaign ${campaignId} materialised ${p.counts.total} of ${population} users in ${timeoutMs} ms`);
    await new Promise((ok) => setTimeout(ok, 500));
  }
}
