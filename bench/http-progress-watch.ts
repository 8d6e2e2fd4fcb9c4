/**
 * Node equivalent of load-tests/progress-watch.js: while a campaign runs (API + worker,
 * seeded population, paced), STREAMS clients hold `/progress/stream` open and count its
 * `progress` events, and autocannon polls `GET /progress` with every answer checked; a bare
 * node:http server answering the same progress JSON is the same-run baseline of the polls.
 * Unlike k6, Node reads the stream as it arrives, so the table also gives the gaps between
 * events (the stream promises one per second while the campaign runs).
 *   npm run bench:progress
 */
import { performance } from 'node:perf_hooks';
import { compareRuns, runLoad, type AcRequest } from './http-autocannon';
import { progressOf, seedUsers, startCampaign, waitMaterialized } from './http-campaign';
import { isProgress, parseJson } from './http-checks';
import { RESULT_HEADER, resultRow } from './http-evaluate';
import { runShape, Stack, percentile, printTable, runMain, startBaseline, WARM_UP_S, type Api } from './http-support';

const POPULATION = Number(process.env.BENCH_PROGRESS_USERS ?? 20_000);
const STREAMS = Number(process.env.BENCH_PROGRESS_STREAMS ?? 50);
const PACE = 100; // users/s: the campaign keeps running through the bench

interface StreamStats {
  events: number;
  gaps: number[];
  bad: number;
  error?: string;
}

/** Holds one SSE stream until `signal` aborts; records `event: progress` arrivals. */
async function holdStream(api: Api, key: string, campaignId: string, signal: AbortSignal): Promise<StreamStats> {
  const stats: StreamStats = { events: 0, gaps: [], bad: 0 };
  try {
    const res = await fetch(`${api.url}/api/v1/campaigns/${campaignId}/progress/stream`, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' }, signal });
    if (res.status !== 200 || !String(res.headers.get('content-type')).startsWith('text/event-stream')) throw new Error(`stream answered ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    let last = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!/^event: progress$/m.test(event)) continue;
        const data = /^data: (.*)$/m.exec(event)?.[1];
        if (!isProgress(parseJson(data ?? ''))) stats.bad++;
        const now = performance.now();
        if (last > 0) stats.gaps.push(now - last);
        last = now;
        stats.events++;
      }
    }
  } catch (err) {
    if (!signal.aborted) stats.error = (err as Error).message;
  }
  return stats;
}

export async function benchProgressWatch(): Promise<{ rows: Array<Array<string | number>>; streamRows: Array<Array<string | number>>; notes: string[] }> {
  const stack = await Stack.create({ BACKEND_SIM_LATENCY_MS: '5' });
  try {
    const api = await stack.startApi();
    await stack.startWorker();
    await seedUsers(api, stack.adminKey, POPULATION);
    const campaignId = await startCampaign(api, stack.adminKey, 'bench-progress', 1_000_000, { batchSize: 200, maxUsersPerSecond: PACE });
    await waitMaterialized(api, stack.adminKey, campaignId, POPULATION);
    const sample = await progressOf(api, stack.adminKey, campaignId);

    const poll0: AcRequest = { method: 'GET', path: `/api/v1/campaigns/${campaignId}/progress`, headers: { authorization: `Bearer ${stack.adminKey}` } };
    await runLoad(api.url, [poll0], () => true, { duration: WARM_UP_S });
    const base = await startBaseline({ status: 200, body: JSON.stringify(sample) });
    const abort = new AbortController();
    const started = performance.now();
    const streams = Array.from({ length: STREAMS }, () => holdStream(api, stack.adminKey, campaignId, abort.signal));
    const poll: AcRequest = { method: 'GET', path: `/api/v1/campaigns/${campaignId}/progress`, headers: { authorization: `Bearer ${stack.adminKey}` } };
    const check = (status: number, body: string) => status === 200 && isProgress(parseJson(body));
    // the streams stay open through every round, the baseline rounds included
    const { real, bare } = await compareRuns(
      (duration) => runLoad(api.url, [poll], check, { duration }),
      (duration) => runLoad(base.url, [poll], check, { duration }),
    );
    const heldS = (performance.now() - started) / 1000;
    abort.abort();
    const stats = await Promise.all(streams);
    const after = await progressOf(api, stack.adminKey, campaignId);
    await base.stop();
    if (real.failedChecks > 0) process.stderr.write(`progress: first failed check: ${real.firstFailure}\n`);

    const gaps = stats.flatMap((s) => s.gaps).sort((a, b) => a - b);
    const events = stats.map((s) => s.events).sort((a, b) => a - b);
    const streamRows = [
      [
        STREAMS,
        `${heldS.toFixed(1)} s`,
        stats.filter((s) => s.error).length,
        `${events[0]}–${events[events.length - 1]}`,
        (events.reduce((a, b) => a + b, 0) / STREAMS / heldS).toFixed(2),
        percentile(gaps, 50),
        percentile(gaps, 99),
        stats.reduce((a, s) => a + s.bad, 0),
      ],
    ];
    const notes = [
      `campaign running at ${PACE} users/s over ${POPULATION} seeded users; enabled ${sample.counts.enabled} → ${after.counts.enabled} during the measurement (status ${after.campaign.status}).`,
      ...stats.filter((s) => s.error).slice(0, 3).map((s) => `stream error: ${s.error}`),
    ];
    return { rows: [resultRow('GET progress (streams held)', 'Cutover API', real, bare), resultRow('GET progress', 'bare node:http', bare)], streamRows, notes };
  } finally {
    await stack.stop();
  }
}

export const STREAM_HEADER = ['streams', 'held', 'failed', 'events per stream', 'events/s per stream', 'gap p50 ms', 'gap p99 ms', 'malformed'];

if (require.main === module) {
  runMain(async () => {
    const { rows, streamRows, notes } = await benchProgressWatch();
    printTable(`Progress polling while streams are held, ${runShape()}`, RESULT_HEADER, rows);
    printTable('Progress streams (server-sent events) during the polling', STREAM_HEADER, streamRows);
    process.stdout.write(`${notes.join('\n')}\n`);
  });
}
