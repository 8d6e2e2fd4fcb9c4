import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { CHART, REPO, readText } from './chart';

/** Every non-template file of the chart parses; Chart.yaml says what Helm needs. */

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const nonTemplates = filesUnder(CHART).filter((f) => !relative(CHART, f).startsWith('templates'));

describe('chart files', () => {
  it.each(nonTemplates.filter((f) => /\.ya?ml$/.test(f)).map((f) => relative(CHART, f)))('%s parses as YAML', (file) => {
    expect(() => parse(readText(CHART, file), { strict: true, uniqueKeys: true })).not.toThrow();
    expect(parse(readText(CHART, file))).toEqual(expect.any(Object));
  });

  it('ships a dashboard that Grafana can import', () => {
    const dashboard = JSON.parse(readText(CHART, 'files', 'grafana-dashboard.json')) as { uid: string; panels: unknown[]; templating: { list: Array<{ name: string }> } };
    expect(dashboard.uid).toBe('cutover-overview');
    expect(dashboard.panels.length).toBeGreaterThan(10);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'namespace', 'campaign']);
  });

  it('Chart.yaml is a v2 application chart whose appVersion is the package version', () => {
    const chart = parse(readText(CHART, 'Chart.yaml')) as Record<string, unknown>;
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'cutover', type: 'application', appVersion: pkg.version });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(chart.kubeVersion).toEqual(expect.any(String));
  });

  it('has no file Helm would refuse or package by mistake', () => {
    const names = nonTemplates.map((f) => relative(CHART, f)).sort();
    expect(names).toEqual([
      '.helmignore', 'Chart.yaml', 'README.md', 'ci/demo-values.yaml', 'ci/minimal-values.yaml', 'ci/production-values.yaml',
      'files/grafana-dashboard.json', 'files/prometheus-rules.yaml', 'values.schema.json', 'values.yaml',
    ]);
  });
});
