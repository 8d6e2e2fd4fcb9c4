import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART, readText, readmeTable, renderValuesTable, valueDocs, withReadmeTable } from './chart';

/**
 * charts/cutover/README.md carries a values table generated from values.yaml and its `# --`
 * comments. Regenerate it with `UPDATE_CHART_DOCS=1 npx jest test/chart/readme.spec.ts`.
 */
describe('chart README', () => {
  const readmePath = join(CHART, 'README.md');
  if (process.env.UPDATE_CHART_DOCS === '1') {
    writeFileSync(readmePath, withReadmeTable(readText(readmePath), renderValuesTable(valueDocs())));
  }
  const readme = readText(readmePath);
  const rows = valueDocs();

  it('documents every value of values.yaml with a `# --` description', () => {
    expect(rows.length).toBeGreaterThan(50);
    expect(rows.filter((r) => r.description === '').map((r) => r.key)).toEqual([]);
  });

  it('has a values table equal to the one values.yaml generates (keys, types, defaults, descriptions)', () => {
    expect(readmeTable(readme)).toBe(renderValuesTable(rows));
  });

  it('names each key once', () => {
    const keys = rows.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('tells how to lint and render the chart where Helm exists', () => {
    expect(readme).toContain('helm lint charts/cutover');
    expect(readme).toContain('helm template');
  });
});
