import type { Command } from 'commander';
import { idArg, positiveInt } from '../args';
import type { ApiClient } from '../client';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../errors';
import { formatInt, keyValues, table, type Output } from '../output';

const STATES = ['legacy', 'ineligible', 'eligible', 'enrolling', 'enabled', 'failed', 'held'] as const;
const ACTIONS = ['start', 'pause', 'resume', 'promote', 'approve'] as const;
const FINAL = ['completed', 'halted'];
const BAR_WIDTH = 32;
const RECONNECTS = 5;

/** The fields of GET /api/v1/campaigns/:id/progress that the CLI shows. */
export interface ProgressDoc {
  campaign: { id: string; key: string; name: string; status: string; version: number };
  at: string;
  counts: Record<(typeof STATES)[number], number> & { total: number };
  enabledShare: number;
  throughput: { perSecond1m: number | null; perSecond5m: number | null };
  eta: { remainingUsers: number; seconds: number | null; at: string | null };
  failures: { ratio: number };
  backlog: { batches: number; oldestQueuedAgeSeconds: number | null };
  ramp: { currentStep: number; steps: unknown[]; holdRemainingSeconds: number | null; awaitingApproval: boolean };
  halt: { reason: string | null; haltToLastCommitMs: number | null };
}

interface OverviewItem {
  id: string;
  key: string;
  name: string;
  status: string;
  currentStep: number;
  counts: { enabled: number; failed: number; total: number };
  enabledShare: number;
}

const rate = (r: number | null) => (r === null ? '-' : `${r >= 100 ? formatInt(Math.round(r)) : r.toFixed(1)}/s`);
const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

export function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86_400)}d${Math.round((seconds % 86_400) / 3600)}h`;
}

/** The watch screen: one bar per state (share of the campaign's users), then rates and ETA. */
export function renderProgress(p: ProgressDoc): string {
  const total = Math.max(1, p.counts.total);
  const width = Math.max(...STATES.map((s) => formatInt(p.counts[s]).length));
  const bars = STATES.map((s) => {
    const filled = Math.round((p.counts[s] / total) * BAR_WIDTH);
    const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
    return `  ${s.padEnd(10)} ${bar} ${formatInt(p.counts[s]).padStart(width)}  ${pct(p.counts[s] / total).padStart(6)}`;
  });
  const step = p.ramp.currentStep >= 0 ? `step ${p.ramp.currentStep + 1}/${p.ramp.steps.length}` : 'ramp not started';
  const hold = p.ramp.holdRemainingSeconds ? `, hold ${duration(p.ramp.holdRemainingSeconds)} left` : '';
  return [
    `${p.campaign.name} (${p.campaign.key}) — ${p.campaign.status.toUpperCase()} — ${step}${hold}${p.ramp.awaitingApproval ? ', awaiting approval' : ''}`,
    ...bars,
    `  enabled ${pct(p.enabledShare)}  throughput ${rate(p.throughput.perSecond1m)} (5m ${rate(p.throughput.perSecond5m)})  ETA ${p.eta.seconds === 0 ? 'done' : duration(p.eta.seconds)}  ` +
      `failures ${pct(p.failures.ratio)}  backlog ${p.backlog.batches} batches`,
  ].join('\n');
}

/** Parses `event:`/`data:` blocks of a server-sent-events body. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
    }
  }
}

/** Draws in place on a terminal; prints one block per update otherwise (logs, CI, pipes). */
class Screen {
  private lines = 0;
  constructor(private readonly tty: boolean) {}
  draw(text: string): void {
    if (this.tty && this.lines > 0) process.stdout.write(`\x1b[${this.lines}A\x1b[0J`);
    process.stdout.write(`${text}\n${this.tty ? '' : '\n'}`);
    this.lines = text.split('\n').length;
  }
}

/** Follows the progress stream until the campaign completes or halts; reconnects a few times. */
async function watch(client: ApiClient, out: Output, ref: string): Promise<ProgressDoc> {
  const screen = new Screen(!out.json && Boolean(process.stdout.isTTY));
  let failures = 0;
  for (;;) {
    const res = await client.ensureOk(await client.fetchRaw(`/api/v1/campaigns/${encodeURIComponent(ref)}/progress/stream`, { headers: { accept: 'text/event-stream' } }));
    try {
      for await (const ev of sseEvents(res.body!)) {
        if (ev.event !== 'progress') continue;
        failures = 0;
        const p = JSON.parse(ev.data) as ProgressDoc;
        if (out.json) process.stdout.write(`${JSON.stringify(p)}\n`);
        else screen.draw(renderProgress(p));
        if (FINAL.includes(p.campaign.status)) return p;
      }
    } catch (err) {
      if (failures + 1 > RECONNECTS) throw new CliError(`progress stream lost: ${(err as Error).message}`, EXIT.unreachable, 'cli.stream_lost');
    }
    if (++failures > RECONNECTS) throw new CliError('progress stream keeps ending; giving up', EXIT.unreachable, 'cli.stream_lost');
    out.info(`stream ended; reconnecting (${failures}/${RECONNECTS})`);
    await new Promise((r) => setTimeout(r, 1000 * Math.min(failures + 1, 5)));
  }
}

/** Applies a lifecycle or ramp action with the campaign's current ETag (If-Match). */
async function act(client: ApiClient, ref: string, action: string, body: Record<string, unknown>) {
  const current = await client.request<{ version: number }>('GET', `/api/v1/campaigns/${encodeURIComponent(ref)}`);
  const etag = current.etag ?? String(current.body.version);
  return client.post<{ id: string; key: string; status: string; version: number }>(`/api/v1/campaigns/${encodeURIComponent(ref)}/${action}`, body, {
    headers: { 'if-match': `"${etag}"` },
  });
}

function campaignRef(value: string): string {
  if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(value)) throw new CliError(`not a campaign id or key: ${value}`, EXIT.apiOrUsage, 'cli.usage');
  return value;
}

/** `cutover campaigns list`, `cutover campaign watch|progress|start|pause|resume|halt|promote|approve`. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('campaigns')
    .description('list campaigns with their progress')
    .command('list')
    .description('campaigns newest first, with enabled share (keyset pages)')
    .option('--limit <n>', 'page size (max 500)', positiveInt, 50)
    .option('--cursor <id>', 'continue after this campaign id', idArg)
    .action(async (o: { limit: number; cursor?: string }) => {
      const r = await ctx.client().get<{ items: OverviewItem[]; nextCursor: string | null }>('/api/v1/progress/campaigns', { query: { limit: o.limit, cursor: o.cursor } });
      ctx.out().result(r, (v) =>
        table(v.items, [
          { header: 'ID', value: (c) => c.id, align: 'right' },
          { header: 'KEY', value: (c) => c.key },
          { header: 'STATUS', value: (c) => c.status },
          { header: 'STEP', value: (c) => (c.currentStep >= 0 ? c.currentStep + 1 : '-'), align: 'right' },
          { header: 'ENABLED', value: (c) => formatInt(c.counts.enabled), align: 'right' },
          { header: 'FAILED', value: (c) => formatInt(c.counts.failed), align: 'right' },
          { header: 'USERS', value: (c) => formatInt(c.counts.total), align: 'right' },
          { header: 'SHARE', value: (c) => pct(c.enabledShare), align: 'right' },
          { header: 'NAME', value: (c) => c.name },
        ]) + (v.nextCursor ? `more: --cursor ${v.nextCursor}\n` : ''),
      );
    });

  const campaign = program.command('campaign').description('watch and operate one campaign (by id or key)');

  campaign
    .command('progress')
    .description('print the progress of a campaign once')
    .argument('<id>', 'campaign id or key', campaignRef)
    .action(async (ref: string) => {
      const p = await ctx.client().get<ProgressDoc>(`/api/v1/campaigns/${encodeURIComponent(ref)}/progress`);
      ctx.out().result(p, renderProgress);
    });

  campaign
    .command('watch')
    .description('live progress bars per state, throughput and ETA; exits when the campaign completes or halts (--json: one JSON line per update)')
    .argument('<id>', 'campaign id or key', campaignRef)
    .action(async (ref: string) => {
      const out = ctx.out();
      const last = await watch(ctx.client(), out, ref);
      const extra = last.campaign.status === 'halted' ? ` — halted: ${last.halt.reason ?? 'no reason'}` : '';
      out.info(`campaign ${last.campaign.key} is ${last.campaign.status}${extra}`);
    });

  for (const action of ACTIONS) {
    campaign
      .command(action)
      .description(`${action} a campaign (needs an operator key; uses the current ETag)`)
      .argument('<id>', 'campaign id or key', campaignRef)
      .option('--reason <reason>', 'why (recorded in the audit trail)')
      .action(async (ref: string, o: { reason?: string }) => {
        const c = await act(ctx.client(), ref, action, o.reason ? { reason: o.reason } : {});
        ctx.out().result(c, (v) => keyValues([['campaign', `${v.key} (id ${v.id})`], ['status', v.status], ['version', v.version]]));
      });
  }

  campaign
    .command('halt')
    .description('halt intake: admit nobody new, drop queued work, never revert anyone')
    .argument('<id>', 'campaign id or key', campaignRef)
    .requiredOption('--reason <reason>', 'why (required; recorded in the audit trail)')
    .action(async (ref: string, o: { reason: string }) => {
      const c = await act(ctx.client(), ref, 'halt', { reason: o.reason });
      ctx.out().result(c, (v) => keyValues([['campaign', `${v.key} (id ${v.id})`], ['status', v.status], ['reason', o.reason]]));
    });
}
