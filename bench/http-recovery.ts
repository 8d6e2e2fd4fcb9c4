/**
 * Recovery reports at rate: `POST /api/v1/users/:id/recovery` for users the worker enabled
 * (a ramp over a slice of a large population), a random method each time, a fifth of them
 * repeats; every answer checked; a bare Fastify POST handler answering the same JSON in the
 * same run. API CPU per request from /proc.   npm run bench:recovery
 */
import { Client } from 'pg';
import { compareRuns, runLoad, type AcRequest } from './http-autocannon';
import { progressOf, seedUsers, startCampaign, waitMaterialized } from './http-campaign';
import { parseJson } from './http-checks';
import { RESULT_HEADER, resultRow } from './http-evaluate';
import { COST_HEADER } from './http-opt-in';
import { runShape, Stack, call, cpuMsOf, expectOk, fmt, printTable, runMain, startBaseline, WARM_UP_S } from './http-support';

const POPULATION = Number(process.env.BENCH_RECOVERY_POPULATION ?? 1_000_000);
/** Users the ramp enables first (the reports' senders). */
const ENABLED = Number(process.env.BENCH_RECOVERY_USERS ?? 30_000);
const METHODS = ['pin', 'recovery_code', 'cloud_backup', 'device_keychain'];

function recoveryRequest(adminKey: string, ids: readonly string[]): AcRequest {
  return {
    method: 'POST',
    path: '/api/v1/users/1/recovery',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: '{"method":"pin"}',
    setupRequest: (req, context) => {
      const userId = ids[Math.floor(Math.random() * ids.length)];
      context.userId = userId;
      return { ...req, path: `/api/v1/users/${userId}/recovery`, body: JSON.stringify({ method: METHODS[Math.floor(Math.random() * METHODS.length)] }) };
    },
  };
}

async function enabledUsers(databaseUrl: string, limit: number): Promise<string[]> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE state = 'enabled' LIMIT $1`, [limit]);
    return r.rows.map((x) => x.id);
  } finally {
    await c.end();
  }
}

export async function benchRecovery(): Promise<{ rows: Array<Array<string | number>>; costRows: Array<Array<string | number>>; notes: string[] }> {
  const stack = await Stack.create({ BACKEND_SIM_LATENCY_MS: '0', RAMP_PACE_CEILING_USERS_PER_SECOND: '100000000', RAMP_PACE_MIN_USERS_PER_SECOND: '100000000' });
  try {
    const api = await stack.startApi();
    await stack.startWorker();
    const range = await seedUsers(api, stack.adminKey, POPULATION);
    const ppm = Math.min(1_000_000, Math.ceil((ENABLED / POPULATION) * 1_000_000));
    const campaignId = await startCampaign(api, stack.adminKey, 'bench-recovery', ppm, { batchSize: 2000 });
    await waitMaterialized(api, stack.adminKey, campaignId, range.toId - range.fromId + 1);
    let counts: any = null;
    for (let i = 0; i < 600; i++) {
      counts = (await progressOf(api, stack.adminKey, campaignId)).counts;
      if (counts.enabled >= ENABLED * 0.9 && counts.eligible + counts.enrolling === 0) break;
      await new Promise((ok) => setTimeout(ok, 500));
    }
    const ids = await enabledUsers(stack.databaseUrl, ENABLED);
    if (ids.length === 0) throw new Error(`no enabled users to report recovery for: ${JSON.stringify(counts)}`);
    const sample = expectOk(await call(api.url, 'POST', `/api/v1/users/${ids[0]}/recovery`, { key: stack.adminKey, body: { method: 'pin' } }), 'one recovery report', [200]);
    const check = (status: number, body: string) => status === 200 && Array.isArray(parseJson(body)?.campaigns) && parseJson(body).campaigns.length === 1;
    await runLoad(api.url, [recoveryRequest(stack.adminKey, ids)], check, { duration: WARM_UP_S });
    const base = await startBaseline({ status: 200, body: JSON.stringify(sample), kind: 'fastify' });
    let apiCpuMs = 0;
    const { real, bare } = await compareRuns(
      async (duration) => {
        const cpu0 = cpuMsOf(api.process);
        const r = await runLoad(api.url, [recoveryRequest(stack.adminKey, ids)], check, { duration });
        apiCpuMs += cpuMsOf(api.process) - cpu0;
        return r;
      },
      (duration) => runLoad(base.url, [recoveryRequest(stack.adminKey, ids)], check, { duration }),
    );
    await base.stop();
    if (real.failedChecks > 0) process.stderr.write(`recovery: first failed check: ${real.firstFailure}\n`);
    const after = (await progressOf(api, stack.adminKey, campaignId)).recovery;
    return {
      rows: [resultRow('recovery report', 'Cutover API', real, bare), resultRow('recovery report', 'bare Fastify', bare)],
      costRows: [['recovery report', fmt(apiCpuMs / real.checked), '-', `${(real.reqPerSec / bare.reqPerSec).toFixed(3)}×`, real.p99]],
      notes: [
        `population ${POPULATION.toLocaleString('en-US')} users, ${ids.length} enabled users reporting; statuses ${JSON.stringify(real.statuses)}; API CPU ${Math.round(apiCpuMs)} ms over ${real.checked} answers.`,
        `recovery counters afterwards: ${JSON.stringify(after)}.`,
      ],
    };
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  runMain(async () => {
    const { rows, costRows, notes } = await benchRecovery();
    printTable(`Recovery reports, ${runShape()}`, RESULT_HEADER, rows);
    printTable('Cost per recovery report', COST_HEADER, costRows);
    process.stdout.write(`${notes.join('\n')}\n`);
  });
}
