import { createConfig, lintFromString } from '@redocly/openapi-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApi, type TestApi } from '../support/app';

/** `UPDATE_OPENAPI=1` rewrites the checked-in document and the CLI's types (npm run openapi). */
const UPDATE = process.env.UPDATE_OPENAPI === '1';
const DOC_FILE = join(__dirname, '../../docs/openapi.json');
const TYPES_FILE = join(__dirname, '../../src/cli/api.generated.ts');
const TYPES_HEADER = '// Generated from docs/openapi.json by `npm run openapi`; do not edit.\n';

type Operation = { parameters?: Array<{ in: string; name: string; schema?: object }>; requestBody?: { content: Record<string, { schema?: object }> }; responses: Record<string, { $ref?: string; content?: Record<string, { schema?: object }> }> };
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, object> } };

function operations(doc: Doc): Array<{ id: string; path: string; verb: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([verb, op]) => ({ id: `${verb.toUpperCase()} ${path}`, path, verb, op })));
}

/** What an admin API operation is missing from its description (empty when complete). */
function gaps({ path, verb, op }: { path: string; verb: string; op: Operation }): string[] {
  const out: string[] = [];
  const success = Object.entries(op.responses).filter(([code]) => code.startsWith('2') && code !== '204');
  if ((success.length === 0 && !op.responses['204']) || !success.every(([, r]) => Object.values(r.content ?? {}).some((c) => c.schema))) out.push('a success response with a schema');
  for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
    if (!op.parameters?.some((p) => p.in === 'path' && p.name === name && p.schema)) out.push(`path parameter ${name}`);
  }
  if (['post', 'put', 'patch'].includes(verb) && op.requestBody && !Object.values(op.requestBody.content).every((c) => c.schema)) out.push('a request body schema');
  if (!['401', '403', '503'].every((c) => op.responses[c])) out.push('the error responses');
  return out;
}

/** openapi-typescript's own command (its library is ES modules only). */
function generateTypes(docText: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
  try {
    writeFileSync(join(dir, 'openapi.json'), docText);
    const cli = join(__dirname, '../../node_modules/openapi-typescript/bin/cli.js');
    return execFileSync(process.execPath, [cli, join(dir, 'openapi.json'), '--alphabetize'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('OpenAPI document', () => {
  let api: TestApi;
  let doc: Doc;
  let text: string;
  beforeAll(async () => {
    api = await startTestApi();
    doc = (await api.request<Doc>('GET', '/docs/openapi.json', { key: null })).body;
    text = `${JSON.stringify(doc, null, 2)}\n`;
    if (UPDATE) writeFileSync(DOC_FILE, text);
  });
  afterAll(() => api.close());

  it('describes every admin API operation with its request and response schemas', () => {
    const admin = operations(doc).filter((o) => o.path.startsWith('/api/v1/'));
    expect(admin.length).toBeGreaterThan(40);
    expect(admin.map((o) => ({ op: o.id, missing: gaps(o) })).filter((o) => o.missing.length > 0)).toEqual([]);
  });

  it('answers errors with the one error shape', () => {
    const refs = operations(doc).flatMap(({ op }) => Object.entries(op.responses).filter(([code]) => !code.startsWith('2') && code !== '304'));
    expect(refs.length).toBeGreaterThan(100);
    const body = JSON.stringify(doc.components.schemas.Error);
    expect(JSON.parse(body)).toMatchObject({ type: 'object', required: expect.arrayContaining(['code', 'message']) });
  });

  // operation-4xx-response is off for the public health and metrics routes; the admin API's
  // error answers are checked above
  it('passes the OpenAPI linter (recommended rules) without errors or warnings', async () => {
    const config = await createConfig({ extends: ['recommended'], rules: { 'info-license': 'off', 'operation-4xx-response': 'off' } });
    const problems = await lintFromString({ source: text, absoluteRef: DOC_FILE, config });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
  });

  it('is the checked-in docs/openapi.json, and the CLI types are generated from it', () => {
    expect(readFileSync(DOC_FILE, 'utf8')).toBe(text);
    const types = TYPES_HEADER + generateTypes(text);
    if (UPDATE) writeFileSync(TYPES_FILE, types);
    expect(readFileSync(TYPES_FILE, 'utf8')).toBe(types);
  });
});
