/**
 * Loads the quick-start demo (scripts/start.sh runs it): an admission flag, ~100k synthetic
 * users, and a running campaign on the simulated backend, paced so that a newcomer watches
 * users move on the dashboard. Idempotent: each step checks what exists and does only what
 * is missing, so running it again changes nothing.
 *
 *   node dist/src/cli/demo.js --url http://127.0.0.1:3000 --key <admin key> [--users 100000]
 */
import { ApiClient, resolveConnection } from './client';
import { CliError } from './errors';

const FLAG = 'e2ee-default-demo';
const CAMPAIGN = 'demo-messenger-1to1';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function say(msg: string): void {
  process.stderr.write(`[cutover demo] ${msg}\n`);
}

async function exists(client: ApiClient, path: string): Promise<boolean> {
  try {
    await client.get(path);
    return true;
  } catch (err) {
    if (err instanceof CliError && err.code?.endsWith('.not_found')) return false;
    throw err;
  }
}

async function ensureFlag(client: ApiClient): Promise<void> {
  if (await exists(client, `/api/v1/flags/${FLAG}`)) return say(`flag ${FLAG} exists`);
  await client.post('/api/v1/flags', { key: FLAG, description: 'Demo: E2EE by default for 1:1 chats (admission flag of the demo campaign)', rolloutPpm: 0 });
  say(`created flag ${FLAG} at 0% rollout (the demo campaign's ramp raises it)`);
}

async function ensureUsers(client: ApiClient, count: number): Promise<void> {
  if (await exists(client, '/api/v1/users/1')) return say('users exist; not seeding again');
  say(`seeding ${count.toLocaleString('en')} synthetic users…`);
  await client.post('/api/v1/users/seed', { count });
  say('users seeded');
}

async function ensureCampaign(client: ApiClient): Promise<void> {
  if (!(await exists(client, `/api/v1/campaigns/${CAMPAIGN}`))) {
    await client.post('/api/v1/campaigns', {
      key: CAMPAIGN,
      name: 'Demo: Messenger 1:1 chats to E2EE',
      description: 'Loaded by the quick start. Its ramp plan raises the flag step by step; halt to stop intake.',
      flag: FLAG,
      pacing: { batchSize: 500, maxUsersPerSecond: 400 },
    });
    say(`created campaign ${CAMPAIGN}`);
  }
  await ensureRamp(client);
  const c = await client.request<{ status: string }>('GET', `/api/v1/campaigns/${CAMPAIGN}`);
  if (c.body.status !== 'draft') return say(`campaign ${CAMPAIGN} is ${c.body.status}`);
  await client.request('POST', `/api/v1/campaigns/${CAMPAIGN}/start`, { body: {}, headers: { 'if-match': `"${c.etag}"` } });
  say(`started campaign ${CAMPAIGN}: its ramp steps 1% → 5% → 25% → 100%, holding each step for seconds, at about 400 users per second, and completes by itself once everyone who can move has moved`);
}

/** A short ramp plan that visibly advances (holds of seconds), with two guardrails; set once. */
async function ensureRamp(client: ApiClient): Promise<void> {
  const r = await client.request<{ steps: unknown[]; currentStep: number }>('GET', `/api/v1/campaigns/${CAMPAIGN}/ramp`);
  if (r.body.steps.length > 0 || r.body.currentStep >= 0) return say(`campaign ${CAMPAIGN} has its ramp plan`);
  await client.request('PUT', `/api/v1/campaigns/${CAMPAIGN}/ramp`, {
    body: {
      steps: [
        { percent: 1, holdSeconds: 20 },
        { percent: 5, holdSeconds: 20 },
        { percent: 25, holdSeconds: 30 },
        { percent: 100 },
      ],
      guardrails: [
        { metric: 'failure_ratio', threshold: 0.05, windowSeconds: 300, action: 'pause', minSamples: 200 },
        { metric: 'oldest_queued_age_seconds', threshold: 120, windowSeconds: 60, action: 'throttle' },
      ],
      reason: 'quick-start demo',
    },
    headers: { 'if-match': `"${r.etag}"` },
  });
  say(`set the ramp plan of ${CAMPAIGN}: 1% → 5% → 25% → 100%`);
}

async function main(): Promise<void> {
  const client = new ApiClient(resolveConnection({ url: arg('url'), key: arg('key') }));
  const users = Number(arg('users') ?? 100_000);
  if (!Number.isInteger(users) || users < 1) throw new CliError('--users must be a positive integer', 1, 'cli.usage');
  await ensureFlag(client);
  await ensureUsers(client, users);
  await ensureCampaign(client);
}

main().catch((err: unknown) => {
  process.stderr.write(`[cutover demo] ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
});
