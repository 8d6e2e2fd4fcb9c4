// Checks a running API and worker from the outside (scripts/build-image.sh starts them from the
// image): readiness, the worker's heartbeat liveness, an OFREP evaluation with the evaluator key,
// and one campaign from start to every user settled. Reads CUTOVER_URL, WORKER_URL, ADMIN_KEY,
// EVALUATOR_KEY.
const { CUTOVER_URL: api, WORKER_URL: worker, ADMIN_KEY: admin, EVALUATOR_KEY: evaluator } = process.env;
const USERS = 2000;

const say = (msg) => process.stderr.write(`[check-image] ${msg}\n`);

async function call(method, url, { key, body, headers = {} } = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text, etag: res.headers.get('etag') };
}

async function until(what, fn, ok, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await fn().catch((err) => ({ error: err.message }));
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function expect(what, cond, detail) {
  if (!cond) throw new Error(`${what}: ${JSON.stringify(detail).slice(0, 400)}`);
  say(`ok: ${what}`);
}

async function campaign() {
  const flag = await call('POST', `${api}/api/v1/flags`, { key: admin, body: { key: 'image-check', rolloutPpm: 1_000_000 } });
  expect('flag created', flag.status === 201, flag.json);
  const seeded = await call('POST', `${api}/api/v1/users/seed`, { key: admin, body: { count: USERS } });
  expect(`${USERS} users seeded`, seeded.status < 300, seeded.json);
  const created = await call('POST', `${api}/api/v1/campaigns`, { key: admin, body: { key: 'image-check', name: 'Image check', flag: 'image-check' } });
  expect('campaign created', created.status === 201, created.json);
  const id = created.json.id;
  const started = await call('POST', `${api}/api/v1/campaigns/${id}/start`, { key: admin, body: {}, headers: { 'if-match': created.etag } });
  expect('campaign started', started.status === 200, started.json);
  const t0 = Date.now();
  const done = await until(
    'every admitted user settled',
    () => call('GET', `${api}/api/v1/campaigns/${id}/progress`, { key: admin }),
    (r) => r.json && r.json.counts && r.json.counts.legacy + r.json.counts.eligible + r.json.counts.enrolling === 0 && r.json.counts.total === USERS,
    180_000,
  );
  const c = done.json.counts;
  expect(`campaign settled in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${c.enabled} enabled, ${c.ineligible} ineligible, ${c.failed} failed`, c.enabled > 0 && c.enabled + c.ineligible + c.failed === USERS, c);
}

async function main() {
  const ready = await until('API /health/ready', () => call('GET', `${api}/health/ready`), (r) => r.status === 200, 90_000);
  expect('API ready (PostgreSQL and Redis up)', ready.json.status === 'up', ready.json);
  const live = await until('worker /health/live', () => call('GET', `${worker}/health/live`), (r) => r.status === 200, 60_000);
  expect('worker alive by its consumption heartbeat', live.json.status === 'up', live.json);
  const ofrep = await call('POST', `${api}/ofrep/v1/evaluate/flags`, { key: evaluator, body: { context: { targetingKey: 'image-check' } } });
  expect('OFREP bulk evaluation with AUTH_EVALUATOR_KEY', ofrep.status === 200 && Array.isArray(ofrep.json.flags), ofrep.json);
  await campaign();
  const metrics = await call('GET', `${worker}/metrics`);
  expect('worker metrics count finished jobs', /cutover_worker_jobs_total\{queue="migration",outcome="completed"\} [1-9]/.test(metrics.text), metrics.text.slice(0, 200));
  const docs = await call('GET', `${api}/docs`);
  expect('OpenAPI page served', docs.status === 200, docs.status);
}

main().catch((err) => {
  say(`FAILED: ${err.message}`);
  process.exit(1);
});
