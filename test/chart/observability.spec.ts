import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { metricsRegistry } from '../../src/core/metrics/metrics';
import { CHART, REPO, readText } from './chart';

/**
 * The alert rules and the Grafana dashboard the chart ships: the rules pass `promtool check
 * rules` and their unit tests (`promtool test rules`, test/chart/prometheus-rules.test.yaml),
 * every dashboard query parses as PromQL, and every metric and label they name is one that
 * Cutover's registry exports. promtool comes from Debian's `prometheus` package
 * (scripts/promtool.sh installs it; npm test sources that script).
 */

const RULES = join(CHART, 'files', 'prometheus-rules.yaml');
const promtool = process.env.PROMTOOL || 'promtool';
/** Labels a scrape adds to every series, and the bucket bound of histograms. */
const TARGET_LABELS = new Set(['namespace', 'pod', 'job', 'instance', 'service', 'container', 'endpoint', 'le']);

type Rule = { alert?: string; record?: string; expr: string };
const rules = (parse(readText(RULES)) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

interface Panel {
  title?: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}
const dashboard = JSON.parse(readText(CHART, 'files', 'grafana-dashboard.json')) as {
  panels: Panel[];
  templating: { list: Array<{ definition?: string }> };
  annotations: { list: Array<{ expr: string }> };
};
const dashboardExprs = [
  ...dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
  ...dashboard.annotations.list.map((a) => a.expr),
];
/** Grafana's variables replaced by values PromQL accepts. */
const asPromql = (expr: string) => expr.replace(/\$__rate_interval|\$__range/g, '5m').replace(/\$namespace/g, 'cutover').replace(/\$campaign/g, '.*');

function promtoolRun(...args: string[]): string {
  try {
    return execFileSync(promtool, args, { encoding: 'utf8', stdio: 'pipe', cwd: REPO });
  } catch (err) {
    const e = err as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('promtool is missing: run the chart checks through `npm test` or `npm run check:chart` (scripts/promtool.sh installs it)');
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Every `metric{labels}` selector and `by (...)` clause of a PromQL expression. */
function selectorsOf(expr: string): { metrics: Array<{ name: string; labels: string[] }>; grouping: string[] } {
  const metrics = [...expr.matchAll(/\b(cutover_[a-z0-9_]+)(\{([^}]*)\})?/g)].map((m) => ({
    name: m[1],
    labels: [...(m[3] ?? '').matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]),
  }));
  const grouping = [...expr.matchAll(/\b(?:by|on)\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((l) => l.trim()).filter(Boolean));
  return { metrics, grouping };
}

/** Metric name → its label names, as the registry exports them (histograms with their series). */
function exported(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of metricsRegistry.getMetricsAsArray() as unknown as Array<{ name: string; labelNames: string[]; constructor: { name: string } }>) {
    const names = m.constructor.name === 'Histogram' ? [`${m.name}_bucket`, `${m.name}_count`, `${m.name}_sum`] : [m.name];
    for (const n of names) out.set(n, new Set(m.labelNames));
  }
  return out;
}

describe('shipped alert rules (promtool)', () => {
  it('pass promtool check rules', () => {
    expect(promtoolRun('check', 'rules', RULES)).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('pass their unit tests (promtool test rules)', () => {
    expect(promtoolRun('test', 'rules', join(REPO, 'test', 'chart', 'prometheus-rules.test.yaml'))).toContain('SUCCESS');
  });

  it('are each covered by a unit test that expects them to fire', () => {
    const tests = readText(REPO, 'test', 'chart', 'prometheus-rules.test.yaml');
    const firing = new Set([...tests.matchAll(/alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels/g)].map((m) => m[1]));
    expect(rules.map((r) => r.alert).filter((a) => !firing.has(a!))).toEqual([]);
  });
});

describe('the shipped Grafana dashboard', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-promql-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has queries that parse as PromQL (checked by promtool as recording rules)', () => {
    const file = join(dir, 'dashboard-queries.yaml');
    const asRules = dashboardExprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: asPromql(expr) }));
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: asRules }] }));
    expect(dashboardExprs.length).toBeGreaterThan(25);
    expect(promtoolRun('check', 'rules', file)).toContain(`SUCCESS: ${asRules.length} rules found`);
  });
});

describe('metric names the dashboard and the alerts use', () => {
  it.each([
    ['the alert rules', rules.map((r) => r.expr)],
    ['the dashboard', [...dashboardExprs, ...dashboard.templating.list.map((v) => v.definition ?? '')]],
  ])('%s name only metrics and labels that Cutover exports', (_what, exprs) => {
    const metrics = exported();
    const problems: string[] = [];
    for (const expr of exprs) {
      const { metrics: used, grouping } = selectorsOf(expr);
      const labelsInExpr = new Set<string>();
      for (const { name, labels } of used) {
        const known = metrics.get(name);
        if (!known) problems.push(`${name}: not exported`);
        for (const l of labels) if (known && !known.has(l) && !TARGET_LABELS.has(l)) problems.push(`${name}{${l}}: no such label`);
        for (const l of known ?? []) labelsInExpr.add(l);
      }
      for (const l of grouping) if (!labelsInExpr.has(l) && !TARGET_LABELS.has(l)) problems.push(`by/on (${l}) in ${expr}: no metric of the expression has it`);
    }
    expect(problems).toEqual([]);
  });

  it('cover what the operators watch: progress, throughput, ETA, guardrails, pace, queues, evaluations, kill switches', () => {
    const used = new Set(dashboardExprs.flatMap((e) => selectorsOf(e).metrics.map((m) => m.name)));
    for (const name of ['cutover_users', 'cutover_campaign_throughput_users_per_second', 'cutover_campaign_eta_seconds', 'cutover_guardrail_verdict',
      'cutover_pace_users_per_second', 'cutover_queue_depth', 'cutover_evaluations_total', 'cutover_evaluation_duration_seconds_bucket',
      'cutover_flag_kill_switch_total', 'cutover_campaign_status']) {
      expect({ name, used: used.has(name) }).toEqual({ name, used: true });
    }
  });
});
