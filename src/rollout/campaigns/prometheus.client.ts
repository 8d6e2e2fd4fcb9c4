import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import type { ExternalReading, GuardrailRule } from './guardrails';

/** A query as Prometheus will run it: `$window` is the rule's window in seconds (e.g. `300s`). */
export function expand(query: string, windowSeconds: number): string {
  return query.replaceAll('$window', `${windowSeconds}s`);
}

/**
 * The window as a subquery evaluated by Prometheus at its own "now" (our clock may be another's):
 * about 60 points, at least one second apart.
 */
export function windowQuery(query: string, windowSeconds: number): string {
  const step = Math.max(1, Math.round(windowSeconds / 60));
  return `(${expand(query, windowSeconds)})[${windowSeconds}s:${step}s]`;
}

interface MatrixSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** The worst series' latest point (max when tripping above, min below); its point count is the sample count. */
export function readingOf(series: readonly MatrixSeries[], rule: Pick<GuardrailRule, 'comparison' | 'minSamples'>): ExternalReading {
  let best: { value: number; samples: number } | null = null;
  for (const s of series) {
    const points = s.values.map(([, v]) => Number(v)).filter((v) => Number.isFinite(v));
    if (points.length === 0) continue;
    const value = points[points.length - 1];
    const better = best === null || (rule.comparison === 'below' ? value < best.value : value > best.value);
    if (better) best = { value, samples: points.length };
  }
  if (best === null) return { status: 'no_data', value: null, samples: 0 };
  if (best.samples < rule.minSamples) return { status: 'no_data', value: null, samples: best.samples };
  return { status: 'ok', value: best.value, samples: best.samples };
}

export type Validation = { ok: true } | { ok: false; kind: 'invalid' | 'unreachable' | 'not_configured'; message: string };

type Answer = { kind: 'ok'; data: { resultType: string; result: unknown } } | { kind: 'refused'; status: number; message: string } | { kind: 'unreachable'; message: string };

/** Prometheus's HTTP query API (GUARDRAILS_PROMETHEUS_URL), with a timeout; never throws. */
@Injectable()
export class PrometheusClient {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get configured(): boolean {
    return this.config.guardrails.prometheusUrl !== undefined;
  }

  /** Prometheus itself parses the query (400 bad_data carries its own message). */
  async validate(query: string, windowSeconds: number): Promise<Validation> {
    if (!this.configured) return { ok: false, kind: 'not_configured', message: 'GUARDRAILS_PROMETHEUS_URL is not set: this server cannot run prometheus guardrails' };
    const a = await this.query(windowQuery(query, windowSeconds));
    if (a.kind === 'ok') return { ok: true };
    // 400 bad_data (parse) and 422 execution errors: the query itself is wrong
    if (a.kind === 'refused' && (a.status === 400 || a.status === 422)) return { ok: false, kind: 'invalid', message: a.message };
    return { ok: false, kind: 'unreachable', message: a.kind === 'refused' ? `Prometheus answered ${a.status}: ${a.message}` : a.message };
  }

  async read(rule: GuardrailRule): Promise<ExternalReading> {
    if (!this.configured) return { status: 'error', value: null, error: 'GUARDRAILS_PROMETHEUS_URL is not set' };
    const a = await this.query(windowQuery(rule.query ?? '', rule.windowSeconds));
    if (a.kind === 'unreachable') return { status: 'error', value: null, error: a.message };
    if (a.kind === 'refused') return { status: 'error', value: null, error: `Prometheus answered ${a.status}: ${a.message}` };
    if (a.data.resultType !== 'matrix' || !Array.isArray(a.data.result)) return { status: 'error', value: null, error: `expected a range of an instant vector, got ${a.data.resultType}` };
    return readingOf(a.data.result as MatrixSeries[], rule);
  }

  private async query(q: string): Promise<Answer> {
    const base = this.config.guardrails.prometheusUrl!;
    const where = new URL(base).host;
    let res: Response;
    try {
      res = await fetch(new URL('api/v1/query', base.endsWith('/') ? base : `${base}/`), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: q }).toString(),
        signal: AbortSignal.timeout(this.config.guardrails.prometheusTimeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      return { kind: 'unreachable', message: `Prometheus at ${where} unreachable (${cause})` };
    }
    const body = (await res.json().catch(() => null)) as { status?: string; error?: string; data?: { resultType: string; result: unknown } } | null;
    if (res.status === 200 && body?.status === 'success' && body.data) return { kind: 'ok', data: body.data };
    return { kind: 'refused', status: res.status, message: body?.error ?? `HTTP ${res.status} without a Prometheus error body` };
  }
}
