import { createRedis } from '../../src/core/redis/redis.service';
import { SimulatedBackend } from '../../src/rollout/migration/backend/simulated-backend';
import type { TestApi, TestEnvironment } from '../support/app';

/** The same simulated backend the worker uses, reading the effects it recorded in Redis. */
export function backendProbe(env: TestEnvironment) {
  const redis = createRedis(env.config.redis.url);
  const backend = new SimulatedBackend(redis, { ...env.config.backend.sim, keyPrefix: env.config.redis.prefix });
  return { backend, close: () => redis.quit() };
}

export async function createFlag(api: TestApi, key: string, rolloutPpm: number): Promise<{ key: string; etag: string }> {
  const r = await api.request('POST', '/api/v1/flags', { body: { key, rolloutPpm } });
  if (r.status !== 201 && r.status !== 200) throw new Error(`flag create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { key, etag: r.headers.get('etag')! };
}

export async function setRollout(api: TestApi, key: string, rolloutPpm: number): Promise<void> {
  const cur = await api.request('GET', `/api/v1/flags/${key}`);
  const r = await api.request('POST', `/api/v1/flags/${key}/rollout`, { body: { rolloutPpm }, headers: { 'if-match': cur.headers.get('etag')! } });
  if (r.status !== 200) throw new Error(`set rollout failed: ${r.status} ${JSON.stringify(r.body)}`);
}

export async function createCampaign(api: TestApi, body: Record<string, unknown>): Promise<{ id: string; etag: string }> {
  const r = await api.request('POST', '/api/v1/campaigns', { body });
  if (r.status !== 201) throw new Error(`campaign create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.id, etag: r.headers.get('etag')! };
}

/** Applies a lifecycle action with the current ETag. */
export async function act(api: TestApi, id: string, action: string, body: Record<string, unknown> = {}) {
  const cur = await api.request('GET', `/api/v1/campaigns/${id}`);
  return api.request('POST', `/api/v1/campaigns/${id}/${action}`, { body, headers: { 'if-match': cur.headers.get('etag')! } });
}
