import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../errors';
import { keyValues } from '../output';
import { apiCommand } from '../needs';
import type { ApiSchema } from '../api-types';

type Rule = ApiSchema<'GuardrailRule'>;
interface Reading {
  metric: string;
  windowSeconds: number;
  query?: string;
  value: number | null;
  status?: 'ok' | 'no_data' | 'error';
  samples?: number;
  error?: string;
}
interface Failure {
  metric: string;
  query?: string;
  error: string;
  outcome: 'hold' | 'ignore';
}
interface RampView {
  key: string;
  status: string;
  version: number;
  guardrails: Rule[];
  guardrailState: { verdict?: string; evaluatedAt?: string; measured?: Reading[]; failures?: Failure[]; rampWait?: { reason: string; detail: string } | null };
}

const what = (r: { metric: string; query?: string }) => (r.metric === 'prometheus' ? `prometheus ${r.query ?? ''}` : r.metric);

function last(m: Reading | undefined): string {
  if (!m) return 'not evaluated yet';
  if (m.status === 'error') return `UNREADABLE: ${m.error ?? 'error'}`;
  if (m.value === null) return `no data${m.samples !== undefined ? ` (${m.samples} samples)` : ''}`;
  return `${m.value}${m.samples !== undefined ? ` (${m.samples} samples)` : ''}`;
}

/** Rules with their last reading, the verdict, and the failed reads that hold the ramp. */
export function renderGuardrails(v: RampView): string {
  const s = v.guardrailState ?? {};
  const measured = s.measured ?? [];
  const find = (r: Rule) => measured.find((m) => m.metric === r.metric && m.windowSeconds === r.windowSeconds && (m.query ?? '') === (r.query ?? ''));
  const rules = v.guardrails.map((r) => {
    const cmp = r.comparison === 'below' ? '<' : '>';
    const onError = r.metric === 'prometheus' ? `, on query error: ${r.onQueryError ?? 'hold'}` : '';
    return `  ${what(r)} ${cmp} ${r.threshold} over ${r.windowSeconds}s → ${r.action}${onError}\n      last: ${last(find(r))}`;
  });
  return [
    keyValues([
      ['campaign', `${v.key} (${v.status})`],
      ['verdict', s.verdict ?? 'not evaluated yet'],
      ['checked', s.evaluatedAt ?? '-'],
      ...(s.rampWait ? [['ramp waits', s.rampWait.detail] as [string, string]] : []),
      ...(s.failures ?? []).map((f) => ['unreadable', `${what(f)}: ${f.error} → ${f.outcome === 'hold' ? 'step held' : 'ignored'}`] as [string, string]),
    ]).trimEnd(),
    rules.length > 0 ? rules.join('\n') : '  no guardrails',
  ].join('\n');
}

/** `cutover campaign guardrails` (show) and `cutover campaign set-guardrails` (replace, with the ETag). */
export function registerGuardrails(campaign: Command, ctx: CliContext, campaignRef: (v: string) => string): void {
  apiCommand(campaign, 'guardrails', 'show the guardrail rules with their last readings (Prometheus queries, database health) and what holds the ramp', {
    role: 'viewer',
    routes: ['GET /api/v1/campaigns/:id/ramp'],
  })
    .argument('<id>', 'campaign id or key', campaignRef)
    .action(async (ref: string) => {
      const v = await ctx.client().get<RampView>(`/api/v1/campaigns/${encodeURIComponent(ref)}/ramp`);
      ctx.out().result(v, renderGuardrails);
    });

  apiCommand(campaign, 'set-guardrails', 'replace the guardrail rules from a JSON file (an array of rules); PromQL is checked by Prometheus first', {
    role: 'operator',
    routes: ['GET /api/v1/campaigns/:id/ramp', 'PUT /api/v1/campaigns/:id/guardrails'],
  })
    .argument('<id>', 'campaign id or key', campaignRef)
    .requiredOption('--file <path>', "rules as JSON, e.g. [{\"metric\":\"prometheus\",\"query\":\"...\",\"threshold\":0.02,\"windowSeconds\":300,\"minSamples\":10,\"action\":\"pause\"}] ('-' reads stdin)")
    .option('--reason <reason>', 'why (recorded in the audit trail)')
    .action(async (ref: string, o: { file: string; reason?: string }) => {
      const text = o.file === '-' ? await readStdin() : await readFile(o.file, 'utf8').catch((err: Error) => {
        throw new CliError(`cannot read ${o.file}: ${err.message}`, EXIT.apiOrUsage, 'cli.usage');
      });
      let rules: unknown;
      try {
        rules = JSON.parse(text);
      } catch (err) {
        throw new CliError(`${o.file} is not JSON: ${(err as Error).message}`, EXIT.apiOrUsage, 'cli.usage');
      }
      const client = ctx.client();
      const path = `/api/v1/campaigns/${encodeURIComponent(ref)}`;
      const current = await client.request<RampView>('GET', `${path}/ramp`);
      const res = await client.request<RampView>('PUT', `${path}/guardrails`, {
        body: { rules, ...(o.reason && { reason: o.reason }) },
        headers: { 'if-match': `"${current.etag ?? String(current.body.version)}"` },
      });
      ctx.out().result(res.body, renderGuardrails);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
