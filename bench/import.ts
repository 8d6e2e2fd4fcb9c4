/**
 * `npm run bench:import -- --rows 1000000 [--rounds 3]`: rows per second through
 * POST /api/v1/users/import (the real API process) next to a raw COPY of the same rows into a
 * scratch table shaped like `users` (with its primary key), measured in the same run,
 * alternating round by round so that both see the same machine; medians are compared.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { median, printTable, Stack, writeInputs, type Result } from './import-support';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
}

async function rawCopy(stack: Stack, csvPath: string, rows: number): Promise<number> {
  await stack.sql('DROP TABLE IF EXISTS users_copy_scratch; CREATE TABLE users_copy_scratch (LIKE users INCLUDING ALL)');
  const c = new Client({ connectionString: stack.databaseUrl });
  await c.connect();
  const t = performance.now();
  await pipeline(
    createReadStream(csvPath, { highWaterMark: 256 * 1024 }),
    c.query(copyFrom('COPY users_copy_scratch (id, country, platform, app_version, e2ee_capable, attributes) FROM STDIN (FORMAT csv, HEADER)')),
  );
  const seconds = (performance.now() - t) / 1000;
  await c.end();
  const [{ n }] = await stack.sql<{ n: number }>('SELECT count(*)::int AS n FROM users_copy_scratch');
  if (n !== rows) throw new Error(`raw COPY loaded ${n} rows, expected ${rows}`);
  await stack.sql('DROP TABLE users_copy_scratch');
  return seconds;
}

interface ApiRun {
  seconds: number;
  body: Record<string, any>;
}

async function viaApi(stack: Stack, path: string, contentType: string, expect: Record<string, number>): Promise<ApiRun> {
  const t = performance.now();
  const res = await fetch(`${stack.url}/api/v1/users/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': contentType },
    body: createReadStream(path, { highWaterMark: 256 * 1024 }) as unknown as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const body = (await res.json()) as Record<string, any>;
  const seconds = (performance.now() - t) / 1000;
  if (res.status !== 200) throw new Error(`HTTP ${res.status} ${JSON.stringify(body)}`);
  for (const [k, v] of Object.entries(expect)) if (body[k] !== v) throw new Error(`${k} = ${body[k]}, expected ${v}`);
  return { seconds, body };
}

function note(r: ApiRun): string {
  const b = r.body;
  return `inserted ${b.inserted}, updated ${b.updated}, unchanged ${b.unchanged}; receive+COPY ${(b.phasesMs.receive / 1000).toFixed(1)} s, upsert ${(b.phasesMs.upsert / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  const rows = arg('rows', 1_000_000);
  const rounds = arg('rounds', 3);
  const dir = await mkdtemp(join(tmpdir(), 'cutover-bench-import-'));
  const ndjson = join(dir, 'users.ndjson');
  const csv = join(dir, 'users.csv');
  const stack = await Stack.create();
  try {
    await writeInputs(rows, ndjson, csv);
    const mb = async (p: string) => ((await stat(p)).size / 1e6).toFixed(0);
    console.log(`input: ${rows.toLocaleString('en-US')} users, NDJSON ${await mb(ndjson)} MB, CSV ${await mb(csv)} MB; ${rounds} rounds`);
    await stack.startApi();
    const copies: number[] = [];
    const imports: ApiRun[] = [];
    for (let i = 0; i < rounds; i++) {
      copies.push(await rawCopy(stack, csv, rows));
      await stack.sql('TRUNCATE users');
      imports.push(await viaApi(stack, ndjson, 'application/x-ndjson', { read: rows, inserted: rows }));
      console.log(`round ${i + 1}: raw COPY ${copies[i].toFixed(2)} s, import ${imports[i].seconds.toFixed(2)} s`);
    }
    const rerun = await viaApi(stack, ndjson, 'application/x-ndjson', { inserted: 0, unchanged: rows });
    await stack.sql('TRUNCATE users');
    const fromCsv = await viaApi(stack, csv, 'text/csv', { inserted: rows });
    const mid = imports.map((r) => r.seconds).sort((a, b) => a - b)[Math.floor(rounds / 2)];
    const midRun = imports.find((r) => r.seconds === mid)!;
    const baseline: Result = { run: 'raw COPY of the CSV (baseline)', rows, seconds: median(copies), note: 'into a table LIKE users, primary key included' };
    printTable(
      [
        baseline,
        { run: 'import NDJSON, new users', rows, seconds: mid, note: note(midRun) },
        { run: 'import NDJSON again (re-run)', rows, seconds: rerun.seconds, note: note(rerun) },
        { run: 'import CSV, new users', rows, seconds: fromCsv.seconds, note: note(fromCsv) },
      ],
      baseline,
    );
    console.log(`medians of ${rounds} alternating rounds; API peak RSS ${await stack.apiPeakRssMb()} MB`);
  } finally {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
