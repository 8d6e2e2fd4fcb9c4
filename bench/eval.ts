/**
 * `npm run bench:eval`: in-process evaluation cost, OFREP single and bulk throughput next to
 * a bare Fastify handler returning the same JSON (same run), and kill-switch propagation
 * between two API processes. Prints Markdown tables (docs/benchmarks.md keeps a run).
 */
import { cpus, loadavg } from 'node:os';
import { inProcessRows } from './eval-inprocess';
import { Stack, call, percentile, printTable } from './eval-support';
import { conversationRows } from './eval-conversation';
import { killPropagation, loadRows, prepareFlags } from './eval-http';

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  process.stdout.write(`node ${process.version}, ${cpus().length} cores, load average ${load()} at start\n`);
  printTable('In-process evaluation, 1M distinct users (median of 7 interleaved passes)', ['path', 'CPU ns per call', 'wall ns per call', 'CPU vs hash'], inProcessRows());
  const stack = await Stack.create();
  try {
    const a = await stack.startApi();
    const b = await stack.startApi();
    const key = (await call(a, 'POST', '/api/v1/keys', stack.adminKey, { name: 'bench evaluator', role: 'evaluator' })).json.key as string;
    const bodies = await prepareFlags(a, b, stack.adminKey, key);
    const bare = await stack.startBare(bodies.single, bodies.bulk);
    printTable('OFREP over HTTP (autocannon, 50 connections)', ['endpoint', 'server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'server CPU µs/req', 'req/s vs bare', 'CPU-bound capacity vs bare'], await loadRows(a, bare, stack.pids, key));
    printTable('Conversation evaluation over HTTP (API a, autocannon, 50 connections; medians of interleaved rounds; vs the 1-user row above)', ['case', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'server CPU µs/req', 'rate vs 1 user', 'CPU-bound capacity vs 1 user'], await conversationRows(a, stack.pids.get(a)!, stack.adminKey, key, stack.prefix));
    const lat = (await killPropagation(a, b, stack.adminKey, key)).sort((x, y) => x - y);
    printTable(`Kill switch propagation, API a → API b (${lat.length} kills/revives)`, ['p50 ms', 'p90 ms', 'p99 ms', 'max ms'], [
      [percentile(lat, 50), percentile(lat, 90), percentile(lat, 99), lat[lat.length - 1]].map((v) => v.toFixed(1)),
    ]);
  } finally {
    await stack.stop();
  }
  process.stdout.write(`\nload average ${load()} at the end (other processes on this machine share the cores)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:eval failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
