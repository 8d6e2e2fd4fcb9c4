import Ajv from 'ajv';
import { envSchema } from '../../src/config/config.schema';
import { ciValueFiles, isPlainObject, loadSchema, loadValues, mergeValues, type Values } from './chart';

/** Variables the chart sets outside `config`: from the Secret, or derived from other values. */
const FROM_SECRET = ['DATABASE_URL', 'REDIS_URL', 'AUTH_ADMIN_KEY', 'AUTH_EVALUATOR_KEY'];
const DERIVED = ['HTTP_PORT', 'HTTP_METRICS_PORT', 'WORKER_METRICS_PORT', 'WORKER_SHUTDOWN_GRACE_MS'];

const validator = new Ajv({ allErrors: true, strict: true }).compile(loadSchema());

function errorsOf(values: Values): string[] {
  return validator(values) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

function withChange(path: string, value: unknown): Values {
  const values = structuredClone(loadValues());
  const parts = path.split('.');
  let node = values as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  node[parts.at(-1)!] = value;
  return values;
}

/** What a pod of one role sees: the ConfigMap (config + derived keys), then the role's env. */
function podEnvironment(values: Values, role: 'api' | 'worker'): Record<string, string> {
  const v = values as any;
  return {
    ...(v.config as Record<string, string>),
    HTTP_PORT: String(v.api.port),
    WORKER_METRICS_PORT: String(v.worker.metrics.port),
    WORKER_SHUTDOWN_GRACE_MS: String(v.worker.shutdown.longestBatchSeconds * 1000),
    DATABASE_URL: 'postgresql://cutover:secret@postgres:5432/cutover',
    REDIS_URL: 'redis://:secret@redis:6379',
    ...Object.fromEntries(Object.entries((v[role].env ?? {}) as Record<string, unknown>).map(([k, x]) => [k, String(x)])),
  };
}

/** The application drops empty strings before parsing (src/config/config.ts); so does this. */
function parseAsApp(env: Record<string, string>) {
  return envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, x]) => x !== '')));
}

describe('values.yaml against values.schema.json', () => {
  it('validates the chart defaults', () => {
    expect(errorsOf(loadValues())).toEqual([]);
  });

  it.each([...ciValueFiles().keys()])('validates ci/%s merged over the defaults', (file) => {
    expect(errorsOf(mergeValues(loadValues(), ciValueFiles().get(file)!))).toEqual([]);
  });

  it.each([
    ['a number where the ConfigMap needs a string (Helm would print large ones as 1e+06)', 'config.DATABASE_POOL_SIZE', 10],
    ['a string where a count is expected', 'worker.replicas', 'two'],
    ['a map where a list is expected', 'api.command', { node: 'x' }],
  ])('rejects %s, as Helm does before rendering', (_what, path, value) => {
    expect(errorsOf(withChange(path, value)).length).toBeGreaterThan(0);
  });
});

describe('the ConfigMap and src/config/config.schema.ts stay in step', () => {
  const appVariables = Object.keys(envSchema.shape);
  const values = loadValues();
  const configKeys = Object.keys(values.config as object);

  it('sets every variable the application reads (config, Secret or derived)', () => {
    const missing = appVariables.filter((k) => !configKeys.includes(k) && !FROM_SECRET.includes(k) && !DERIVED.includes(k));
    // On failure: add the variables to values.yaml `config`, each with its `## @param` line,
    // and run `npm run chart:docs`.
    expect(missing).toEqual([]);
  });

  it('sets nothing the application does not read', () => {
    expect(configKeys.filter((k) => !appVariables.includes(k))).toEqual([]);
  });

  it.each([
    ['defaults', loadValues()],
    ...[...ciValueFiles()].map(([file, v]) => [`ci/${file}`, mergeValues(loadValues(), v)] as [string, Values]),
  ])('renders an environment that the application accepts for both roles (%s)', (_name, merged) => {
    for (const role of ['api', 'worker'] as const) {
      const parsed = parseAsApp(podEnvironment(merged, role));
      expect(parsed.success ? [] : parsed.error.issues.map((i) => `${role}: ${i.path.join('.')}: ${i.message}`)).toEqual([]);
    }
  });

  it('keeps the chart defaults equal to the application defaults, except where the chart says why', () => {
    const appDefaults = envSchema.parse({ DATABASE_URL: 'postgresql://h/db', REDIS_URL: 'redis://h:6379' }) as Record<string, unknown>;
    const chart = parseAsApp(podEnvironment(values, 'worker'));
    expect(chart.success).toBe(true);
    const differs = Object.keys(appDefaults).filter(
      (k) => !FROM_SECRET.includes(k) && JSON.stringify((chart.data as Record<string, unknown>)[k]) !== JSON.stringify(appDefaults[k]),
    );
    // production mode; the worker serves /metrics and /health/live for Prometheus and its probe
    expect(differs.sort()).toEqual(['NODE_ENV', 'WORKER_METRICS_PORT']);
  });

  it('gives each role override only variables the application reads', () => {
    for (const [, v] of ciValueFiles()) {
      for (const role of ['api', 'worker']) {
        const env = (mergeValues(loadValues(), v) as any)[role].env as unknown;
        expect(isPlainObject(env)).toBe(true);
        expect(Object.keys(env as object).filter((k) => !appVariables.includes(k))).toEqual([]);
      }
    }
  });
});
