import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './alertmanager';
import { waitFor } from './wait';

/** A metrics endpoint the test sets by hand: gauge name → value. */
export interface Exporter {
  url: string;
  set(name: string, value: number): void;
  close(): Promise<void>;
}

export async function startExporter(): Promise<Exporter> {
  const gauges = new Map<string, number>();
  const srv: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end([...gauges].map(([k, v]) => `# TYPE ${k} gauge\n${k} ${v}\n`).join(''));
  });
  const port = await freePort();
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
  return {
    url: `127.0.0.1:${port}`,
    set: (name, value) => void gauges.set(name, value),
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

/** A real Prometheus (Debian's package) on a private port, scraping `target` every second. */
export interface RunningPrometheus {
  url: string;
  /** the latest scraped value of an expression, or null before the first scrape */
  value(expr: string): Promise<number | null>;
  close(): Promise<void>;
}

function binary(): string {
  const found = [process.env.PROMETHEUS, '/usr/bin/prometheus'].filter((p): p is string => !!p).find((p) => existsSync(p));
  if (!found) throw new Error('Prometheus is not installed: run the tests through scripts/test.sh, or `source scripts/prometheus.sh`');
  return found;
}

export async function startPrometheus(target: string): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'cutover-prom-'));
  const config = ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'scrape_configs:', '  - job_name: test', '    static_configs:', `      - targets: [${JSON.stringify(target)}]`, ''].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const proc: ChildProcess = spawn(
    binary(),
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  for (const s of [proc.stdout, proc.stderr]) s?.on('data', (b: Buffer) => output.push(b.toString()));
  const close = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const ready = async () => {
    try {
      return (await fetch(`${url}/-/ready`)).status;
    } catch {
      return 0;
    }
  };
  try {
    await waitFor('Prometheus to be ready', ready, (s) => s === 200 || proc.exitCode !== null, 30_000, 100);
    if (proc.exitCode !== null) throw new Error(`Prometheus exited with ${proc.exitCode}: ${output.join('')}`);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    url,
    async value(expr) {
      const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
      const [first] = body.data.result;
      return first ? Number(first.value[1]) : null;
    },
    close,
  };
}
