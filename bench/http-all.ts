/**
 * All HTTP scenario benches in one run (`npm run bench:http`): the Node equivalents of
 * load-tests/{evaluate,evaluate-bulk,opt-in-storm,kill-switch,progress-watch}.js, each on a
 * scratch database of its own, each next to a baseline measured in the same run.
 */
import { cpus, totalmem } from 'node:os';
import { benchEvaluateBulk } from './http-evaluate-bulk';
import { RESULT_HEADER, benchEvaluate } from './http-evaluate';
import { KILL_HEADER, benchKillSwitch } from './http-kill-switch';
import { benchOptIn } from './http-opt-in';
import { STREAM_HEADER, benchProgressWatch } from './http-progress-watch';
import { runShape, printTable, runMain } from './http-support';

runMain(async () => {
  process.stdout.write(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; ${runShape()}\n`);
  const rows = [...(await benchEvaluate()), ...(await benchEvaluateBulk())];
  const optIn = await benchOptIn();
  const progress = await benchProgressWatch();
  printTable('HTTP scenarios: throughput and latency next to a bare node:http server answering the same JSON', RESULT_HEADER, [...rows, ...optIn.rows, ...progress.rows]);
  process.stdout.write(`${optIn.notes.join('\n')}\n`);
  printTable('Progress streams (server-sent events) held during the progress polling', STREAM_HEADER, progress.streamRows);
  process.stdout.write(`${progress.notes.join('\n')}\n`);
  const kill = await benchKillSwitch();
  printTable('Kill switch propagation under evaluation load (two API processes)', KILL_HEADER, kill.rows);
  process.stdout.write(`${kill.notes.join('\n')}\n`);
});
