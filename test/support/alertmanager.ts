import { join } from 'node:path';
import { installedBinary, startDaemon } from './daemon';

/** A real Alertmanager (Debian's prometheus-alertmanager), on a private port with its own data folder. */
export interface RunningAlertmanager {
  url: string;
  /** posts alerts as Prometheus does (API v2) */
  fire(alerts: Array<{ labels: Record<string, string>; annotations?: Record<string, string> }>): Promise<void>;
  /** webhook notifications Alertmanager reports as sent (its own counter) */
  notificationsSent(): Promise<number>;
  close(): Promise<void>;
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
  const { url, close } = await startDaemon({
    name: 'Alertmanager',
    binary: installedBinary('Alertmanager', [process.env.ALERTMANAGER, '/usr/bin/prometheus-alertmanager', '/usr/bin/alertmanager'], 'alertmanager.sh'),
    configFile: { name: 'alertmanager.yml', text: configYaml(opts.webhookUrl, opts.bearer), mode: 0o600 },
    args: (dir, port) => [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
  });
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
