import type { Command } from 'commander';
import { idArg, positiveInt } from '../args';
import type { ApiClient } from '../client';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../errors';
import { duration, stepOf } from '../format';
import { formatInt, keyValues, table, type Output } from '../output';
import { apiCommand } from '../needs';
import type { Agrees, ApiSchema } from '../api-types';
import { MIGRATION_STATES } from '../../rollout/state/migration-states';
import { registerGuardrails } from './guardrails.command';

const STATES = MIGRATION_STATES;
/** Each lifecycle or ramp action: its help and the least role its API route needs. */
const ACTIONS = {
  start: { help: 'start a draft campaign: materialise its users and begin the ramp', role: 'operator' },
  pause: { help: 'pause a running campaign: no new batches until resumed', role: 'operator' },
  resume: { help: 'resume a paused or halted campaign', role: 'operator' },
  promote: { help: 'move the ramp to its next step now, skipping the rest of the hold (an approval the step requires still counts)', role: 'operator' },
  approve: { help: "approve the ramp's next step where the plan requires approval (it is then entered when its hold ends, or by promote)", role: 'admin' },
} as const;
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
  eta: { remainingUsers: number; seconds: number | null; at: string | null; reason: string | null; rate: { usersPerSecond: number; source: string } | null };
  conversations: { enabledShare: number; oneToOne: number; groups: Array<{ participants: number; share: number }> };
  failures: { ratio: number };
  backlog: { batches: number; oldestQueuedAgeSeconds: number | null };
  ramp: { currentStep: number; steps: unknown[]; holdRemainingSeconds: number | null; awaitingApproval: boolean };
  halt: { reason: string | null; haltToLastCommitMs: number | null };
}
/** Compiles only while the API's documented progress answer carries every field shown here. */
export type ProgressFromApi = Agrees<ApiSchema<'Progress'>, ProgressDoc>;

type OverviewItem = ApiSchema<'ProgressOverview'>['items'][number];

const rate = (r: number | null) => (r === null ? '-' : `${r >= 100 ? formatInt(Math.round(r)) : r.toFixed(1)}/s`);
const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

/** Nothing moves in these states: a rate or an ETA would describe the past as if it were the future. */
const STILL = ['draft', 'paused', 'halted'];

const RATE_SOURCE: Record<string, string> = { ramp_throughput: 'achieved by the ramp', pace: 'adaptive pace', max_pace: 'configured maximum' };

function eta(p: ProgressDoc): string {
  if (p.eta.seconds === 0) return 'done';
  if (p.eta.seconds === null) return p.eta.reason === 'no_pace' ? '- (no pace configured and no ramp batch measured yet)' : '-';
  const r = p.eta.rate;
  return `${duration(p.eta.seconds)}${r ? ` at ${rate(r.usersPerSecond)} (${RATE_SOURCE[r.source] ?? r.source})` : ''}`;
}

function pace(p: ProgressDoc): string {
  if (STILL.includes(p.campaign.status)) return `${p.campaign.status}: no throughput or ETA`;
  return `throughput ${rate(p.throughput.perSecond1m)} (5m ${rate(p.throughput.perSecond5m)})  ETA ${eta(p)}`;
}

/** Conversation coverage under its model (independent random participants: p^k). */
function conversations(p: ProgressDoc): string {
  const c = p.conversations;
  const groups = c.groups.map((g) => `${g.participants}: ${pct(g.share)}`).join(', ');
  return `  conversations all enabled (estimate, random participants, p^k): 1:1 ${pct(c.oneToOne)}; groups of ${groups}`;
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
  const step = p.ramp.currentStep >= 0 ? stepOf(p.ramp.currentStep, p.ramp.steps.length) : 'ramp not started';
  const hold = p.ramp.holdRemainingSeconds ? `, hold ${duration(p.ramp.holdRemainingSeconds)} left` : '';
  return [
    `${p.campaign.name} (${p.campaign.key}) — ${p.campaign.status.toUpperCase()} — ${step}${hold}${p.ramp.awaitingApproval ? ', awaiting approval' : ''}`,
    ...bars,
    `  enabled ${pct(p.enabledShare)}  ${pace(p)}  failures ${pct(p.failures.ratio)}  backlog ${p.backlog.batches} batches`,
    ...(p.conversations ? [conversations(p)] : []),
  ].join('\n');
}

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

export function register(program: Command, ctx: CliContext): void {
  const campaigns = program.command('campaigns').description('list campaigns with their progress');
  apiCommand(campaigns, 'list', 'campaigns newest first, with enabled share (keyset pages)', { role: 'viewer', routes: ['GET /api/v1/progress/campaigns'] })
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

  apiCommand(campaign, 'progress', 'print the progress of a campaign once', { role: 'viewer', routes: ['GET /api/v1/campaigns/:id/progress'] })
    .argument('<id>', 'campaign id or key', campaignRef)
    .action(async (ref: string) => {
      const p = await ctx.client().get<ProgressDoc>(`/api/v1/campaigns/${encodeURIComponent(ref)}/progress`);
      ctx.out().result(p, renderProgress);
    });

  const watchHelp = 'live progress bars per state, throughput and ETA; exits when the campaign completes or halts (--json: one JSON line per update)';
  apiCommand(campaign, 'watch', watchHelp, { role: 'viewer', routes: ['GET /api/v1/campaigns/:id/progress/stream'] })
    .argument('<id>', 'campaign id or key', campaignRef)
    .action(async (ref: string) => {
      const out = ctx.out();
      const last = await watch(ctx.client(), out, ref);
      const extra = last.campaign.status === 'halted' ? ` — halted: ${last.halt.reason ?? 'no reason'}` : '';
      out.info(`campaign ${last.campaign.key} is ${last.campaign.status}${extra}`);
    });

  for (const [action, { help, role }] of Object.entries(ACTIONS)) {
    apiCommand(campaign, action, `${help}; sends the current ETag`, {
      role,
      routes: ['GET /api/v1/campaigns/:id', `POST /api/v1/campaigns/:id/${action}`],
    })
      .argument('<id>', 'campaign id or key', campaignRef)
      .option('--reason <reason>', 'why (recorded in the audit trail)')
      .action(async (ref: string, o: { reason?: string }) => {
        const c = await act(ctx.client(), ref, action, o.reason ? { reason: o.reason } : {});
        ctx.out().result(c, (v) => keyValues([['campaign', `${v.key} (id ${v.id})`], ['status', v.status], ['version', v.version]]));
      });
  }

  registerGuardrails(campaign, ctx, campaignRef);

  apiCommand(campaign, 'halt', 'halt intake: admit nobody new, drop queued work, never revert anyone', {
    role: 'operator',
    routes: ['GET /api/v1/campaigns/:id', 'POST /api/v1/campaigns/:id/halt'],
  })
    .argument('<id>', 'campaign id or key', campaignRef)
    .requiredOption('--reason <reason>', 'why (required; recorded in the audit trail)')
    .action(async (ref: string, o: { reason: string }) => {
      const c = await act(ctx.client(), ref, 'halt', { reason: o.reason });
      ctx.out().result(c, (v) => keyValues([['campaign', `${v.key} (id ${v.id})`], ['status', v.status], ['reason', o.reason]]));
    });

  const completeHelp = 'complete a campaign for good: nobody new is admitted, queued work is dropped, enabled users stay enabled; repeating it is a no-op';
  apiCommand(campaign, 'complete', completeHelp, {
    role: 'admin',
    routes: ['GET /api/v1/campaigns/:id', 'POST /api/v1/campaigns/:id/complete'],
  })
    .argument('<id>', 'campaign id or key', campaignRef)
    .requiredOption('--reason <reason>', 'why (required; recorded in the audit trail)')
    .action(async (ref: string, o: { reason: string }) => {
      const c = await act(ctx.client(), ref, 'complete', { reason: o.reason });
      ctx.out().result(c, (v) => keyValues([['campaign', `${v.key} (id ${v.id})`], ['status', v.status], ['reason', o.reason]]));
    });
}
