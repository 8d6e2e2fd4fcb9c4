/**
 * Node equivalent of load-tests/evaluate-bulk.js: OFREP bulk evaluation of 10 flags for
 * users from a pool, then the same requests with `If-None-Match: <their ETag>` that must be
 * answered 304; every answer checked; a bare node:http server answering the same JSON (and
 * 304 on a matching ETag) in the same run.   npm run bench:evaluate-bulk
 */
import { compareRuns, headerOf, runLoad, type AcRequest } from './http-autocannon';
import { hasAllFlags, parseJson } from './http-checks';
import { RESULT_HEADER, createFlag, evaluatorKey, randomKey, resultRow } from './http-evaluate';
import { runShape, Stack, WARM_UP_S, call, expectOk, printTable, runMain, startBaseline, type Api } from './http-support';

const FLAG_COUNT = 10;
const POOL = 500;

function bulkRequest(evalKey: string, pool: string[], etags: Map<string, string> | null): AcRequest {
  return {
    method: 'POST',
    path: '/ofrep/v1/evaluate/flags',
    headers: { authorization: `Bearer ${evalKey}`, 'content-type': 'application/json' },
    body: '{"context":{"targetingKey":"1"}}',
    setupRequest: (req) => {
      const key = pool[Math.floor(Math.random() * pool.length)];
      const headers = { ...req.headers };
      if (etags) headers['if-none-match'] = etags.get(key)!;
      return { ...req, headers, body: JSON.stringify({ context: { targetingKey: key } }) };
    },
  };
}

async function etagsOf(api: Api, evalKey: string, pool: string[]): Promise<{ etags: Map<string, string>; sample: string }> {
  const etags = new Map<string, string>();
  let sample = '';
  for (const key of pool) {
    const r = await call(api.url, 'POST', '/ofrep/v1/evaluate/flags', { key: evalKey, body: { context: { targetingKey: key } } });
    expectOk(r, 'bulk evaluation', [200]);
    etags.set(key, r.headers.get('etag')!);
    sample = JSON.stringify(r.body);
  }
  return { etags, sample };
}

export async function benchEvaluateBulk(): Promise<Array<Array<string | number>>> {
  const stack = await Stack.create();
  try {
    const api = await stack.startApi();
    const flags = Array.from({ length: FLAG_COUNT }, (_, i) => `bench-bulk-${i}`);
    for (const [i, f] of flags.entries()) await createFlag(api, stack.adminKey, f, Math.round(((i + 1) * 1_000_000) / (FLAG_COUNT + 1)));
    const evalKey = await evaluatorKey(api, stack.adminKey);
    await new Promise((ok) => setTimeout(ok, 500)); // snapshot refresh
    const pool = Array.from({ length: POOL }, randomKey);
    const { etags, sample } = await etagsOf(api, evalKey, pool);
    if (!hasAllFlags(JSON.parse(sample), flags)) throw new Error(`bulk answer lacks flags: ${sample.slice(0, 300)}`);

    const full = (status: number, body: string, headers: Record<string, string>) => status === 200 && hasAllFlags(parseJson(body), flags) && !!headerOf(headers, 'etag');
    const notModified = (status: number) => status === 304;
    await runLoad(api.url, [bulkRequest(evalKey, pool, null)], full, { duration: WARM_UP_S }); // JIT and caches: the first seconds of a fresh process run several times slower
    const etag = '"baseline"';
    const base = await startBaseline({ status: 200, body: sample, etag });
    const baseEtags = new Map(pool.map((k) => [k, etag]));
    const { real: real200, bare: bare200 } = await compareRuns(
      (duration) => runLoad(api.url, [bulkRequest(evalKey, pool, null)], full, { duration }),
      (duration) => runLoad(base.url, [bulkRequest(evalKey, pool, null)], full, { duration }),
    );
    const { real: real304, bare: bare304 } = await compareRuns(
      (duration) => runLoad(api.url, [bulkRequest(evalKey, pool, etags)], notModified, { duration }),
      (duration) => runLoad(base.url, [bulkRequest(evalKey, pool, baseEtags)], notModified, { duration }),
    );
    await base.stop();
    for (const [n, r] of [['200', real200], ['304', real304]] as const) {
      if (r.failedChecks > 0) process.stderr.write(`evaluate-bulk ${n}: first failed check: ${r.firstFailure}\n`);
    }
    return [
      resultRow('bulk (10 flags) → 200', 'Cutover API', real200, bare200),
      resultRow('bulk (10 flags) → 200', 'bare node:http', bare200),
      resultRow('bulk If-None-Match → 304', 'Cutover API', real304, bare304),
      resultRow('bulk If-None-Match → 304', 'bare node:http', bare304),
    ];
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  runMain(async () => {
    printTable(`OFREP bulk evaluation and ETag revalidation, ${runShape()}`, RESULT_HEADER, await benchEvaluateBulk());
  });
}
