import { InvalidArgumentError, type Command } from 'commander';
import { EVENT_TYPES } from '../../core/audit/published-events';
import { idArg, positiveInt } from '../args';
import type { CliContext } from '../context';
import { localTime } from '../format';
import { keyValues, table } from '../output';
import { apiCommand } from '../needs';

interface WebhookView {
  id: string;
  name: string;
  url: string;
  events: string[];
  format: string;
  enabled: boolean;
  version: number;
}

interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
}

function eventList(value: string): string[] {
  const events = value.split(',').map((e) => e.trim()).filter(Boolean);
  const unknown = events.filter((e) => !(EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length > 0 || events.length === 0) throw new InvalidArgumentError(`events must be a comma-separated list of ${EVENT_TYPES.join(', ')}`);
  return events;
}

/** `cutover webhooks list|create|delete|deliveries` — notifications out (admin role). */
export function register(program: Command, ctx: CliContext): void {
  const hooks = program.command('webhooks').description('webhook subscriptions: signed notifications of ramp, guardrail, lifecycle and kill events (needs an admin key)');

  apiCommand(hooks, 'list', 'list subscriptions', { role: 'admin', routes: ['GET /api/v1/webhooks'] }).action(async () => {
    const res = await ctx.client().get<{ items: WebhookView[] }>('/api/v1/webhooks');
    ctx.out().result(res, (r) =>
      table(r.items, [
        { header: 'ID', value: (w) => w.id, align: 'right' },
        { header: 'NAME', value: (w) => w.name },
        { header: 'URL', value: (w) => w.url },
        { header: 'FORMAT', value: (w) => w.format },
        { header: 'EVENTS', value: (w) => w.events.join(',') },
        { header: 'ENABLED', value: (w) => (w.enabled ? 'yes' : 'no') },
      ]),
    );
  });

  apiCommand(hooks, 'create', 'subscribe a URL; the signing secret is printed once', { role: 'admin', routes: ['POST /api/v1/webhooks'] })
    .requiredOption('--name <name>', 'who receives it')
    // not --url: that is the global option naming the API, and commander reads it after the subcommand too
    .requiredOption('--endpoint <url>', 'http(s) URL that receives a signed POST per event')
    .requiredOption('--events <list>', `comma-separated: ${EVENT_TYPES.join(', ')}`, eventList)
    .option('--slack', 'send Slack incoming-webhook bodies ({"text": ...})')
    .action(async (o: { name: string; endpoint: string; events: string[]; slack?: boolean }) => {
      const res = await ctx.client().post<{ webhook: WebhookView; secret: string }>('/api/v1/webhooks', { name: o.name, url: o.endpoint, events: o.events, format: o.slack ? 'slack' : 'json' });
      ctx.out().result(res, (r) => keyValues([['id', r.webhook.id], ['url', r.webhook.url], ['events', r.webhook.events.join(',')], ['secret', r.secret]]) + 'Store the secret now: it is not shown again.');
    });

  apiCommand(hooks, 'delete', 'delete a subscription (its pending deliveries are cancelled)', { role: 'admin', routes: ['GET /api/v1/webhooks/:id', 'DELETE /api/v1/webhooks/:id'] })
    .argument('<id>', 'subscription id', idArg)
    .option('--reason <reason>', 'why (recorded in the audit trail)')
    .action(async (id: string, o: { reason?: string }) => {
      const cur = await ctx.client().request<WebhookView>('GET', `/api/v1/webhooks/${id}`);
      await ctx.client().request('DELETE', `/api/v1/webhooks/${id}`, { body: o.reason ? { reason: o.reason } : {}, headers: { 'if-match': `"${cur.etag ?? cur.body.version}"` } });
      ctx.out().result({ id, deleted: true }, () => `webhook ${id} deleted`);
    });

  apiCommand(hooks, 'deliveries', 'the latest deliveries of a subscription: status, attempts, last answer', { role: 'admin', routes: ['GET /api/v1/webhooks/:id/deliveries'] })
    .argument('<id>', 'subscription id', idArg)
    .option('--limit <n>', 'how many (max 500)', positiveInt, 20)
    .action(async (id: string, o: { limit: number }) => {
      const res = await ctx.client().get<{ items: DeliveryView[] }>(`/api/v1/webhooks/${id}/deliveries`, { query: { limit: o.limit } });
      ctx.out().result(res, (r) =>
        table(r.items, [
          { header: 'EVENT', value: (d) => d.eventId, align: 'right' },
          { header: 'TYPE', value: (d) => d.eventType },
          { header: 'STATUS', value: (d) => d.status },
          { header: 'ATTEMPTS', value: (d) => d.attempts, align: 'right' },
          { header: 'LAST', value: (d) => (d.lastStatusCode === null ? (d.lastError ?? '-') : `HTTP ${d.lastStatusCode}`) },
          { header: 'AT', value: (d) => localTime(d.lastAttemptAt) },
        ]),
      );
    });
}
