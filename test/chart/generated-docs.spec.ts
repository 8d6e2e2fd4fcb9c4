import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART, REPO, readText } from './chart';

/**
 * README.md's Parameters section and values.schema.json are generated from the `## @param`
 * comments of values.yaml by @bitnami/readme-generator-for-helm. This regenerates both into a
 * scratch folder and compares: a stale file, or a value without its `@param` (the generator
 * refuses those), fails here. Fix with `npm run chart:docs`.
 */
describe('generated chart docs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chart-docs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const generator = join(REPO, 'node_modules/@bitnami/readme-generator-for-helm/bin/index.js');
  /** Runs the generator on a values file over a copy of the README; its output, or its complaint. */
  function generate(values: string): { readme: string; schema: string } | { error: string } {
    copyFileSync(join(CHART, 'README.md'), join(dir, 'README.md'));
    try {
      execFileSync(process.execPath, [generator, '--values', values, '--readme', join(dir, 'README.md'), '--schema', join(dir, 'values.schema.json')], { stdio: 'pipe' });
    } catch (err) {
      return { error: String((err as { stdout?: Buffer }).stdout ?? err) };
    }
    return { readme: readText(dir, 'README.md'), schema: readText(dir, 'values.schema.json') };
  }

  it('README.md and values.schema.json are what values.yaml generates (npm run chart:docs)', () => {
    const generated = generate(join(CHART, 'values.yaml'));
    expect(generated).toEqual({ readme: readText(CHART, 'README.md'), schema: readText(CHART, 'values.schema.json') });
  });

  it('refuses a value without its @param description', () => {
    writeFileSync(join(dir, 'values.yaml'), readText(CHART, 'values.yaml').replace(/^ *## @param image\.pullPolicy .*\n/m, ''));
    expect(generate(join(dir, 'values.yaml'))).toEqual({ error: expect.stringContaining('Missing metadata for key: image.pullPolicy') });
  });
});
