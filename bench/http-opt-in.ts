/**
 * Node equivalent of load-tests/opt-in-storm.js: opt-ins of seeded users, a fifth of them
 * repeats of a user already answered (at most twice per user), every answer checked and
 * every repeat compared with the first answer (idempotency); a bare node:http server
 * answering the same JSON in the same run. The per-second opt-in limit is raised for the
 * bench (MIGRATION_OPT_IN_LIMIT_PER_SECOND) so that the endpoint's capacity is measured, not
 * the limiter; the per-user limit stays. A worker runs, and the table notes how many of the
 * opted-in users were enabled by the end.   npm run bench:opt-in
 */
import { compareRuns, runLoad, type AcRequest } from './http-autocannon';
import { progressOf, seedUsers, startCampaign, waitMaterialized } from './http-campaign';
import { answerOf, parseJson, sameAnswer, type OptInAnswer } from './http-checks';
import { RESULT_HEADER, resultRow } from './http-evaluate';
import { runShape, Stack, call, cpuMsOf, expectOk, fmt, printTable, runMain, startBaseline, WARM_UP_S } from './http-support';

const POPULATION = Number(process.env.BENCH_OPT_IN_USERS ?? 1_000_000);
const REPEAT_RATIO = 0.2;
const MAX_REPEATS = 2;

interface Tracker {
  next: number;
  firsts: Map<string, { answer: OptInAnswer; repeats: number }>;
  answered: string[];
  /** users whose opt-in was sent, answered or not (autocannon drops in-flight answers at the end) */
  sent: Set<string>;
  repeats: number;
  notIdempotent: number;
  example?: string;
}

function optInRequest(campaignId: string, adminKey: string, range: { fromId: number; toId: number }, t: Tracker): AcRequest {
  return {
    method: 'POST',
    path: `/api/v1/campaigns/${campaignId}/opt-in`,
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: '{"userId":"1"}',
    setupRequest: (req, context) => {
      let userId: string;
      const candidate = t.answered.length > 0 && Math.random() < REPEAT_RATIO ? t.answered[Math.floor(Math.random() * t.answered.length)] : null;
      const prior = candidate ? t.firsts.get(candidate) : undefined;
      if (candidate && prior && prior.repeats < MAX_REPEATS) {
        prior.repeats++;
        userId = candidate;
        context.repeat = true;
      } else {
        userId = String(range.fromId + (t.next++ % (range.toId - range.fromId + 1)));
        context.repeat = false;
      }
      context.userId = userId;
      t.sent.add(userId);
      return { ...req, body: JSON.stringify({ userId }) };
    },
    onResponse: (status, body, context) => {
      const userId = String(context.userId);
      const answer = answerOf(status, parseJson(body));
      if (!context.repeat) {
        if (!t.firsts.has(userId)) t.answered.push(userId);
        t.firsts.set(userId, { answer, repeats: t.firsts.get(userId)?.repeats ?? 0 });
        return;
      }
      t.repeats++;
      if (!sameAnswer(t.firsts.get(userId)!.answer, answer)) {
        t.notIdempotent++;
        t.example ??= `${JSON.stringify(t.firsts.get(userId)!.answer)} then ${JSON.stringify(answer)}`;
      }
    },
  };
}

const tracker = (): Tracker => ({ next: 0, firsts: new Map(), answered: [], sent: new Set(), repeats: 0, notIdempotent: 0 });

export const COST_HEADER = ['scenario', 'API CPU ms/request', 'worker CPU ms/user', 'req/s vs bare Fastify', 'p99 ms'];

export async function benchOptIn(): Promise<{ rows: Array<Array<string | number>>; costRows: Array<Array<string | number>>; notes: string[] }> {
  const stack = await Stack.create({ MIGRATION_OPT_IN_LIMIT_PER_SECOND: '1000000', BACKEND_SIM_LATENCY_MS: '5' });
  try {
    const api = await stack.startApi();
    const worker = await stack.startWorker();
    const range = await seedUsers(api, stack.adminKey, POPULATION);
    const campaignId = await startCampaign(api, stack.adminKey, 'bench-opt-in', 0, { batchSize: 500 });
    // a storm hits a running campaign; while rows are still being materialised each opt-in
    // of a not-yet-materialised user also updates the campaign row (population_size)
    const before = await waitMaterialized(api, stack.adminKey, campaignId, range.toId - range.fromId + 1);
    const sample = expectOk(await call(api.url, 'POST', `/api/v1/campaigns/${campaignId}/opt-in`, { key: stack.adminKey, body: { userId: String(range.toId) } }), 'one opt-in', [200]);
    const check = (status: number, body: string) => status === 200 && answerOf(status, parseJson(body)).userId !== null;

    const real = tracker();
    real.next = 1; // range.toId was opted in above; fresh users start at fromId + 1
    const warm = tracker();
    warm.next = Math.floor((range.toId - range.fromId) / 2); // its own users: the upper half of the population
    const workerCpu0 = cpuMsOf(worker);
    await runLoad(api.url, [optInRequest(campaignId, stack.adminKey, range, warm)], check, { duration: WARM_UP_S });
    const base = await startBaseline({ status: 200, body: JSON.stringify(sample), kind: 'fastify' });
    const bareT = tracker();
    let apiCpuMs = 0;
    const { real: api1, bare } = await compareRuns(
      async (duration) => {
        const cpu0 = cpuMsOf(api.process);
        const r = await runLoad(api.url, [optInRequest(campaignId, stack.adminKey, range, real)], check, { duration });
        apiCpuMs += cpuMsOf(api.process) - cpu0;
        return r;
      },
      (duration) => runLoad(base.url, [optInRequest(campaignId, stack.adminKey, range, bareT)], check, { duration }),
      10, // an opt-in can take seconds on a saturated machine: a short round would end before any answer
    );
    await base.stop();
    if (api1.failedChecks > 0) process.stderr.write(`opt-in: first failed check: ${api1.firstFailure}\n`);

    const users = real.sent.size;
    let settled: any = null;
    for (let i = 0; i < 240; i++) {
      settled = await progressOf(api, stack.adminKey, campaignId);
      const c = settled.counts;
      if (c.enabled + c.ineligible + c.failed >= users + warm.sent.size + 1 && c.enrolling === 0 && c.eligible === 0) break;
      await new Promise((ok) => setTimeout(ok, 500));
    }
    const c = settled.counts;
    const workerMsPerUser = (cpuMsOf(worker) - workerCpu0) / (users + warm.sent.size);
    const rows = [resultRow('opt-in (20% repeats)', 'Cutover API', api1, bare), resultRow('opt-in (20% repeats)', 'bare Fastify', bare)];
    const costRows = [['opt-in (20% repeats)', fmt(apiCpuMs / api1.checked), fmt(workerMsPerUser), `${(api1.reqPerSec / bare.reqPerSec).toFixed(3)}×`, api1.p99]];
    const notes = [
      `Cutover API: ${users} distinct users sent an opt-in (${real.firsts.size} answered before the run ended), ${real.repeats} repeats answered, ${real.notIdempotent} repeats with a different answer${real.example ? ` (e.g. ${real.example})` : ''}; statuses ${JSON.stringify(api1.statuses)}.`,
      `population ${POPULATION.toLocaleString('en-US')} users; API CPU ${Math.round(apiCpuMs)} ms over ${api1.checked} answers in the measured rounds; worker CPU from the warm-up to the last opted-in user settled, over ${users + warm.sent.size} users.`,
      `before: ${JSON.stringify(before.counts)}; admittedPpm ${before.admission?.admittedPpm}.`,
      `afterwards (worker, simulated backend 5 ms): enabled ${c.enabled}, ineligible ${c.ineligible}, failed ${c.failed}, still eligible/enrolling ${c.eligible + c.enrolling}, of ${users + warm.sent.size + 1} opted-in users (${warm.sent.size} during the warm-up).`,
    ];
    return { rows, costRows, notes };
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  runMain(async () => {
    const { rows, costRows, notes } = await benchOptIn();
    printTable(`Opt-in storm, ${runShape()}`, RESULT_HEADER, rows);
    printTable('Cost per opt-in', COST_HEADER, costRows);
    process.stdout.write(`${notes.join('\n')}\n`);
  });
}
