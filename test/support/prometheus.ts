import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { freePort, installedBinary, startDaemon } from './daemon';

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

export async function startPrometheus(target: string): Promise<RunningPrometheus> {
  const config = ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'scrape_configs:', '  - job_name: test', '    static_configs:', `      - targets: [${JSON.stringify(target)}]`, ''].join('\n');
  const { url, close } = await startDaemon({
    name: 'Prometheus',
    binary: installedBinary('Prometheus', [process.env.PROMETHEUS, '/usr/bin/prometheus'], 'prometheus.sh'),
    configFile: { name: 'prometheus.yml', text: config },
    args: (dir, port) => [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
  });
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
