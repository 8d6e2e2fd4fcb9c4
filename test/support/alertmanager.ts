import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

/** A real Alertmanager (Debian's prometheus-alertmanager), on a private port with its own data folder. */
export interface RunningAlertmanager {
  url: string;
  /** posts alerts as Prometheus does (API v2) */
  fire(alerts: Array<{ labels: Record<string, string>; annotations?: Record<string, string> }>): Promise<void>;
  /** webhook notifications Alertmanager reports as sent (its own counter) */
  notificationsSent(): Promise<number>;
  close(): Promise<void>;
}

function binary(): string {
  const candidates = [process.env.ALERTMANAGER, '/usr/bin/prometheus-alertmanager', '/usr/bin/alertmanager'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('Alertmanager is not installed: run the tests through scripts/test.sh, or `source scripts/alertmanager.sh`');
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Route everything to one webhook, quickly: no group wait, repeats every second. */
function configYaml(webhookUrl: string, bearer: string): string {
  return [
    'route:',
    '  receiver: cutover',
    "  group_by: ['alertname']",
    '  group_wait: 0s',
    '  group_interval: 1s',
    '  repeat_interval: 1s',
    'receivers:',
    '  - name: cutover',
    '    webhook_configs:',
    `      - url: ${JSON.stringify(webhookUrl)}`,
    '        send_resolved: false',
    '        http_config:',
    '          authorization:',
    '            type: Bearer',
    `            credentials: ${JSON.stringify(bearer)}`,
    '',
  ].join('\n');
}

export async function startAlertmanager(opts: { webhookUrl: string; bearer: string }): Promise<RunningAlertmanager> {
  const dir = await mkdtemp(join(tmpdir(), 'cutover-am-'));
  await writeFile(join(dir, 'alertmanager.yml'), configYaml(opts.webhookUrl, opts.bearer), { mode: 0o600 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const proc: ChildProcess = spawn(
    binary(),
    [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
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
  try {
    await waitFor('Alertmanager to be ready', async () => (await fetch(`${url}/-/ready`)).status, (s) => s === 200 || proc.exitCode !== null, 30_000, 100);
    if (proc.exitCode !== null) throw new Error(`Alertmanager exited with ${proc.exitCode}: ${output.join('')}`);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    url,
    async fire(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts.map((a) => ({ ...a, startsAt: new Date().toISOString() }))) });
      if (res.status !== 200) throw new Error(`Alertmanager refused the alerts: ${res.status} ${await res.text()}`);
    },
    async notificationsSent() {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('alertmanager_notifications_total{integration="webhook"'));
      const failed = text.split('\n').find((l) => l.startsWith('alertmanager_notifications_failed_total{integration="webhook"'));
      return Number(line?.split(' ').pop() ?? 0) - Number(failed?.split(' ').pop() ?? 0);
    },
    close,
  };
}
