import { bullPrefix } from '../../src/core/redis/redis-topology';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHART, TEMPLATES, hasPath, loadValues, readText, templateFiles } from './chart';
import { FUNCS } from './gotemplate/funcs';

/** Structural checks of the Go templates that need no Helm binary. */

interface Action {
  file: string;
  text: string;
}

/** Go template keywords, and the Sprig/Helm functions that test/chart/gotemplate implements (and so renders). */
const KNOWN = new Set(['if', 'else', 'end', 'with', 'range', 'define', 'template', 'nil', 'true', 'false', 'include', ...Object.keys(FUNCS)]);

function actionsOf(file: string): Action[] {
  const text = readText(TEMPLATES, file);
  return [...text.matchAll(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g)].map((m) => ({ file, text: m[1] }));
}

const isComment = (a: Action) => a.text.startsWith('/*');
const files = templateFiles();
const all = files.flatMap(actionsOf).filter((a) => !isComment(a));
const defined = new Set(all.flatMap((a) => [...a.text.matchAll(/^define\s+"([^"]+)"/g)].map((m) => m[1])));

describe('chart templates', () => {
  it('has a template for every object the issue asks for', () => {
    const kinds = files.filter((f) => f.endsWith('.yaml')).map((f) => readText(TEMPLATES, f)).join('\n');
    for (const kind of ['Deployment', 'Service', 'Ingress', 'Job', 'ConfigMap', 'Secret', 'HorizontalPodAutoscaler',
      'ScaledObject', 'PodDisruptionBudget', 'ServiceAccount', 'ServiceMonitor', 'PrometheusRule', 'Pod']) {
      expect(kinds).toMatch(new RegExp(`^kind: ${kind}$`, 'm'));
    }
    expect(files).toEqual(expect.arrayContaining(['NOTES.txt', '_helpers.tpl']));
  });

  it.each(files)('%s: every {{ has its }}', (file) => {
    const text = readText(TEMPLATES, file);
    const opens = [...text.matchAll(/\{\{/g)].map((m) => m.index);
    const closes = [...text.matchAll(/\}\}/g)].map((m) => m.index);
    expect(closes.length).toBe(opens.length);
    opens.forEach((open, i) => {
      expect(closes[i]).toBeGreaterThan(open);
      if (i + 1 < opens.length) expect(closes[i]).toBeLessThan(opens[i + 1]);
    });
  });

  it.each(files)('%s: if/with/range/define blocks are closed and else sits inside one', (file) => {
    const stack: string[] = [];
    for (const { text } of actionsOf(file).filter((a) => !isComment(a))) {
      const word = /^(\w+)/.exec(text)?.[1] ?? '';
      if (['if', 'with', 'range', 'define', 'block'].includes(word)) {
        if (word === 'define') expect(stack).toEqual([]);
        stack.push(word);
      } else if (word === 'else') {
        expect(['if', 'with', 'range']).toContain(stack.at(-1));
      } else if (word === 'end') {
        expect(stack.pop()).toBeDefined();
      }
    }
    expect(stack).toEqual([]);
  });

  it.each(files)('%s: uses only known template functions', (file) => {
    const unknown = actionsOf(file)
      .filter((a) => !isComment(a))
      .flatMap((a) => a.text.replace(/"(?:[^"\\]|\\.)*"/g, ' ').split(/[\s()|,]+/))
      .filter((t) => /^[A-Za-z]\w*$/.test(t) && !KNOWN.has(t));
    expect(unknown).toEqual([]);
  });

  it('uses only .Values paths that exist in values.yaml', () => {
    const values = loadValues();
    const missing = all
      .flatMap((a) => [...a.text.matchAll(/\.Values((?:\.[A-Za-z_]\w*)+)/g)].map((m) => `${a.file}: .Values${m[1]}`))
      .filter((ref) => !hasPath(values, ref.split(': .Values.')[1]));
    expect(missing).toEqual([]);
  });

  it('includes only helpers that _helpers.tpl defines, and defines none that nothing uses', () => {
    const used = all.flatMap((a) => [...a.text.matchAll(/\b(?:include|template)\s+"([^"]+)"/g)].map((m) => m[1]));
    expect([...new Set(used)].filter((name) => !defined.has(name))).toEqual([]);
    expect([...defined].filter((name) => !used.includes(name))).toEqual([]);
    expect(readText(TEMPLATES, '_helpers.tpl')).toMatch(/define "cutover\.fullname"/);
  });

  it('includes only template files that exist (checksum annotations)', () => {
    const paths = all.flatMap((a) => [...a.text.matchAll(/\$\.Template\.BasePath\s+"([^"]+)"/g)].map((m) => m[1]));
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) expect(existsSync(join(TEMPLATES, p))).toBe(true);
  });

  it('indents YAML with spaces only', () => {
    for (const file of files) expect(readText(TEMPLATES, file)).not.toMatch(/\t/);
  });

  it('keeps the migration Job a pre-install,pre-upgrade hook that runs prisma migrate deploy from the same image', () => {
    const job = readText(TEMPLATES, 'migrate-job.yaml');
    expect(job).toMatch(/^ {4}helm\.sh\/hook: pre-install,pre-upgrade$/m);
    expect(job).toContain('image: {{ include "cutover.image" . }}');
    expect((loadValues() as any).migrations.command).toEqual(['bash', 'scripts/prisma.sh', 'migrate', 'deploy']);
    expect(existsSync(join(CHART, '..', '..', 'scripts', 'prisma.sh'))).toBe(true);
  });

  it('scales workers on the BullMQ wait list of the migration queue', () => {
    const helpers = readText(TEMPLATES, '_helpers.tpl');
    const queues = readText(CHART, '..', '..', 'src', 'core', 'queue', 'queue.constants.ts');
    expect(queues).toMatch(/migration: 'migration'/);
    // the queue module prefixes BullMQ's keys with bullPrefix(): the chart must spell the same
    expect(bullPrefix(false, 'P')).toBe('P:bull');
    expect(bullPrefix(true, 'P')).toBe('P:{bull}');
    expect(helpers).toContain('printf "%s:bull:migration:wait" (default "cutover" .Values.config.REDIS_PREFIX)');
    expect(helpers).toContain('printf "%s:{bull}:migration:wait" (default "cutover" .Values.config.REDIS_PREFIX)');
  });
});
