import { parse } from 'yaml';
import { envSchema } from '../../src/config/config.schema';
import { CHART, ciValueFiles, loadValues, mergeValues, readText, type Values } from './chart';
import { TemplateError, renderChart } from './gotemplate/render';

/**
 * Renders the chart with a Go-template engine written for these checks (test/chart/gotemplate),
 * the way `helm template` would, and checks that the objects fit together: names, selectors,
 * ports, Secret and ConfigMap references, hook ordering, the worker's grace period, the KEDA list,
 * and that the environment a pod gets is one the application accepts.
 */

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any; data?: Record<string, unknown>; stringData?: Record<string, string> };

const minimal = ciValueFiles().get('minimal-values.yaml')!;

const RECOMMENDED = {
  'app.kubernetes.io/name': 'cutover',
  'app.kubernetes.io/instance': 'prod',
  'app.kubernetes.io/version': '0.1.0',
  'app.kubernetes.io/managed-by': 'Helm',
  'app.kubernetes.io/part-of': 'cutover',
  'helm.sh/chart': expect.stringMatching(/^cutover-\d+\.\d+\.\d+$/),
};

function values(...overrides: Values[]): Values {
  return overrides.reduce((acc, o) => mergeValues(acc, o), loadValues());
}

function render(v: Values) {
  const out = renderChart(CHART, v, { name: 'prod', namespace: 'cutover' });
  const objects = [...out.manifests.values()].flat().map((doc) => parse(doc, { strict: true, uniqueKeys: true }) as Obj);
  const find = (kind: string, suffix = '') => objects.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
  return { objects, notes: out.notes, find };
}

const SCENARIOS: Array<[string, Values]> = [
  ['ci/minimal-values.yaml', values(minimal)],
  ['ci/production-values.yaml', values(ciValueFiles().get('production-values.yaml')!)],
  ['ci/demo-values.yaml', values(ciValueFiles().get('demo-values.yaml')!)],
  ['KEDA on the wait list of a Redis Cluster', values(minimal, { worker: { keda: { enabled: true, trigger: 'queue', redis: { address: 'redis-0:6379,redis-1:6379', cluster: true } } } })],
  ['everything optional off', values(minimal, {
    serviceAccount: { create: false }, migrations: { enabled: false }, worker: { metrics: { port: 0 }, pdb: { enabled: false } },
    api: { autoscaling: { enabled: false }, pdb: { enabled: false }, preStopSleepSeconds: 0 }, tests: { enabled: false },
  })],
  ['everything optional on, chart-managed Secret', values(minimal, {
    secrets: { adminKey: 'co_abcd1234_abcdefghijklmnopqrstuvwxyz', directDatabaseUrl: 'postgresql://cutover:x@postgres-direct:5432/cutover' },
    api: { ingress: { enabled: true, hosts: [{ host: 'cutover.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }], tls: [{ secretName: 't', hosts: ['cutover.example.com'] }] } },
    worker: { keda: { enabled: true, prometheus: { serverAddress: 'http://prometheus:9090' } } }, serviceMonitor: { enabled: true },
    prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true, namespace: 'monitoring' }, tests: { flagKey: 'e2ee.default' },
    config: { MIGRATION_BATCH_SIZE: '50000' }, image: { digest: `sha256:${'a'.repeat(64)}` },
  })],
];

describe.each(SCENARIOS)('the chart rendered with %s', (_name, v) => {
  const { objects, notes, find } = render(v);
  const vals = v as any;
  const pods = objects.filter((o) => ['Deployment', 'Job'].includes(o.kind)).map((o) => ({ ...o, podSpec: o.spec.template.spec }));
  const allPods = [...pods, ...objects.filter((o) => o.kind === 'Pod').map((o) => ({ ...o, podSpec: o.spec }))];
  const secretNames = new Set([...objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name), vals.secrets.existingSecret].filter(Boolean));

  it('renders well-formed, uniquely named, labelled objects', () => {
    expect(objects.length).toBeGreaterThanOrEqual(5);
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of objects) {
      expect(o.apiVersion).toMatch(/^[a-z0-9.]+(\/v\w+)?$|^v1$/);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      expect(o.metadata.labels).toMatchObject(RECOMMENDED);
    }
  });

  it('puts every recommended label and the component on every pod, Job and test Pod', () => {
    const podTemplates = objects.filter((o) => ['Deployment', 'Job'].includes(o.kind)).map((o) => [o, o.spec.template.metadata.labels] as const);
    const testPod = objects.filter((o) => o.kind === 'Pod').map((o) => [o, o.metadata.labels] as const);
    expect(testPod.length).toBe(vals.tests.enabled ? 1 : 0);
    for (const [o, labels] of [...podTemplates, ...testPod]) {
      expect({ name: o.metadata.name, labels }).toEqual({ name: o.metadata.name, labels: expect.objectContaining({ ...RECOMMENDED, 'app.kubernetes.io/component': expect.any(String) }) });
    }
  });

  it('gives every pod a restrictive security context, /tmp, resources, and refs that resolve', () => {
    for (const o of allPods) {
      const pod = o.podSpec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        expect(c.image).toBe(vals.image.digest ? `${vals.image.repository}@${vals.image.digest}` : `${vals.image.repository}:${vals.image.tag || '0.1.0'}`);
        expect(c.resources.requests).toBeDefined();
        expect(c.volumeMounts.map((m: any) => m.name).every((n: string) => pod.volumes.some((vol: any) => vol.name === n))).toBe(true);
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) expect(secretNames).toContain(e.valueFrom.secretKeyRef.name);
        for (const e of c.envFrom ?? []) if (e.configMapRef) expect(find('ConfigMap')?.metadata.name).toBe(e.configMapRef.name);
        const ports = (c.ports ?? []).map((p: any) => p.name);
        for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean)) expect(ports).toContain(probe.httpGet.port);
      }
    }
  });

  it('selects each Deployment\'s pods with its selector, Services, PDBs and autoscalers', () => {
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
      expect(d.spec.template.metadata.annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    }
    const podLabels = (suffix: string) => find('Deployment', suffix)!.spec.template.metadata.labels;
    for (const s of objects.filter((o) => o.kind === 'Service')) {
      const target = s.metadata.name.endsWith('-worker-metrics') ? '-worker' : '-api';
      expect(podLabels(target)).toMatchObject(s.spec.selector);
      const container = find('Deployment', target)!.spec.template.spec.containers[0];
      for (const p of s.spec.ports) expect(container.ports.map((x: any) => x.name)).toContain(p.targetPort);
    }
    for (const p of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
      expect(podLabels(p.metadata.name.endsWith('-worker') ? '-worker' : '-api')).toMatchObject(p.spec.selector.matchLabels);
    }
    const hpa = find('HorizontalPodAutoscaler');
    expect(find('Deployment', '-api')!.spec.replicas).toBe(hpa ? undefined : vals.api.replicas);
    if (hpa) expect(find('Deployment', hpa.spec.scaleTargetRef.name)).toBeDefined();
    const ingress = find('Ingress');
    if (ingress) {
      const backend = ingress.spec.rules[0].http.paths[0].backend.service;
      expect(find('Service', backend.name)!.spec.ports[0].port).toBe(backend.port.number);
    }
  });

  it('gives the worker a grace period that covers the longest batch, and the app the same figure', () => {
    const worker = find('Deployment', '-worker')!;
    const { longestBatchSeconds, extraSeconds } = vals.worker.shutdown;
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBe(longestBatchSeconds + extraSeconds);
    expect(find('ConfigMap')!.data!.WORKER_SHUTDOWN_GRACE_MS).toBe(String(longestBatchSeconds * 1000));
    expect(Number(find('ConfigMap')!.data!.MIGRATION_LEASE_MS)).toBeGreaterThan(longestBatchSeconds * 1000);
  });

  it('hands each role an environment that src/config accepts (ConfigMap + role env + Secret)', () => {
    const data = find('ConfigMap')!.data!;
    expect(Object.values(data).every((x) => typeof x === 'string')).toBe(true);
    for (const role of ['-api', '-worker']) {
      const c = find('Deployment', role)!.spec.template.spec.containers[0];
      const env: Record<string, string> = { ...(data as Record<string, string>), DATABASE_URL: 'postgresql://u:p@h:5432/d', REDIS_URL: 'redis://h:6379' };
      for (const e of c.env) if (typeof e.value === 'string') env[e.name] = e.value;
      const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, x]) => x !== '')));
      expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
      expect(c.ports?.[0]?.containerPort ?? null).toBe(role === '-api' ? Number(data.HTTP_PORT) : Number(data.WORKER_METRICS_PORT) || null);
    }
  });

  it('runs migrations as a pre-install,pre-upgrade hook Job whose database URL exists before it', () => {
    const job = find('Job');
    if (!vals.migrations.enabled) return expect(job).toBeUndefined();
    expect(job!.metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const ref = job!.spec.template.spec.containers[0].env.find((e: any) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef;
    if (vals.secrets.existingSecret) {
      expect(ref).toEqual({ name: vals.secrets.existingSecret, key: vals.secrets.keys.directDatabaseUrl || vals.secrets.keys.databaseUrl });
    } else {
      const hookSecret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name)!;
      expect(hookSecret.metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      expect(Number(hookSecret.metadata.annotations!['helm.sh/hook-weight'])).toBeLessThan(Number(job!.metadata.annotations!['helm.sh/hook-weight']));
      expect(hookSecret.stringData![ref.key]).toBe(vals.secrets.directDatabaseUrl || vals.secrets.databaseUrl);
    }
    expect(job!.spec.template.spec.serviceAccountName ?? '').toBe(vals.migrations.serviceAccountName);
  });

  it('scales workers with KEDA only when asked, on demand (Prometheus) or on the migration queue\'s wait list', () => {
    const so = find('ScaledObject');
    const worker = find('Deployment', '-worker')!;
    if (!vals.worker.keda.enabled) {
      expect(so).toBeUndefined();
      return expect(worker.spec.replicas).toBe(vals.worker.replicas);
    }
    expect(worker.spec.replicas).toBeUndefined();
    expect(so!.spec.scaleTargetRef.name).toBe(worker.metadata.name);
    const trigger = so!.spec.triggers[0];
    if (vals.worker.keda.trigger === 'demand') {
      expect(trigger.type).toBe('prometheus');
      // one API replica exports the demand (metrics per pod), so the sum over pods counts it once
      expect(trigger.metadata).toMatchObject({ serverAddress: vals.worker.keda.prometheus.serverAddress, query: 'sum(cutover_campaign_demand_users{namespace="cutover"})', threshold: String(vals.worker.keda.prometheus.usersPerWorker) });
    } else if (vals.worker.keda.redis.cluster) {
      // BullMQ's keys carry the {bull} hash tag in a cluster (docs/operations.md "Redis Cluster")
      expect(trigger.type).toBe('redis-cluster');
      expect(trigger.metadata).toMatchObject({ addresses: vals.worker.keda.redis.address, listName: `${vals.config.REDIS_PREFIX}:{bull}:migration:wait`, listLength: String(vals.worker.keda.listLength) });
    } else {
      expect(trigger.type).toBe('redis');
      expect(trigger.metadata).toMatchObject({ address: vals.worker.keda.redis.address, listName: `${vals.config.REDIS_PREFIX}:bull:migration:wait`, listLength: String(vals.worker.keda.listLength) });
    }
    expect(so!.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    if (trigger.authenticationRef) expect(find('TriggerAuthentication', trigger.authenticationRef.name)).toBeDefined();
  });

  it('points each ServiceMonitor at a Service port that exists', () => {
    for (const sm of objects.filter((o) => o.kind === 'ServiceMonitor')) {
      const svc = objects.find((o) => o.kind === 'Service' && Object.entries(sm.spec.selector.matchLabels).every(([k, x]) => o.metadata.labels?.[k] === x));
      expect(svc).toBeDefined();
      expect(svc!.spec.ports.map((p: any) => p.name)).toContain(sm.spec.endpoints[0].port);
    }
    expect(objects.some((o) => o.kind === 'ServiceMonitor')).toBe(vals.serviceMonitor.enabled);
  });

  it('renders NOTES.txt with the way to the API and the simulated-backend warning when it applies', () => {
    expect(notes).toContain('Cutover 0.1.0');
    expect(notes.includes('WARNING: SIMULATED E2EE BACKEND')).toBe(vals.config.BACKEND_KIND === 'simulated');
    expect(notes.includes(`helm test prod`)).toBe(vals.tests.enabled);
  });

  it('never blocks a node drain with a PodDisruptionBudget', () => {
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) expect(pdb.spec).toMatchObject({ maxUnavailable: 1 });
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) expect(pdb.spec.minAvailable).toBeUndefined();
  });

  it('probes the worker\'s consumption heartbeat, not just its event loop', () => {
    const probe = find('Deployment', '-worker')!.spec.template.spec.containers[0].livenessProbe;
    if (Number(vals.worker.metrics.port) === 0) return expect(probe).toBeUndefined();
    expect(probe.httpGet).toEqual({ path: '/health/live', port: 'metrics' });
    expect(Number(find('ConfigMap')!.data!.WORKER_HEARTBEAT_TIMEOUT_MS)).toBeGreaterThan(vals.worker.shutdown.longestBatchSeconds * 1000);
  });

  it('runs helm test against the API Service with the Secret\'s evaluator key', () => {
    const pod = find('Pod', '-test');
    if (!vals.tests.enabled) return expect(pod).toBeUndefined();
    expect(pod!.metadata.annotations!['helm.sh/hook']).toBe('test');
    const c = pod!.spec.containers[0];
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    const svc = find('Service', '-api')!;
    expect(env.CUTOVER_URL).toBe(`http://${svc.metadata.name}:${svc.spec.ports[0].port}`);
    expect(env.EVALUATOR_KEY.secretKeyRef).toEqual({ name: vals.secrets.existingSecret || find('Secret', 'prod-cutover')!.metadata.name, key: vals.secrets.keys.evaluatorKey });
    expect(env.FLAG_KEY).toBe(vals.tests.flagKey);
    if (!vals.secrets.existingSecret) expect(find('Secret', 'prod-cutover')!.stringData!.AUTH_EVALUATOR_KEY).toMatch(/^co_[a-z0-9]{8}_[A-Za-z0-9_-]{20,}$/);
    // the script itself is valid JavaScript for the image's Node
    expect(() => new Function(c.command[2])).not.toThrow();
  });

  it('ships the alert rules and the dashboard unrendered, when asked', () => {
    const rule = find('PrometheusRule');
    expect(Boolean(rule)).toBe(vals.prometheusRule.enabled);
    if (rule) expect(rule.spec).toEqual(parse(readText(CHART, 'files', 'prometheus-rules.yaml')));
    const dashboard = find('ConfigMap', '-dashboard');
    expect(Boolean(dashboard)).toBe(vals.grafanaDashboard.enabled);
    if (dashboard) {
      expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
      expect((dashboard.metadata as any).namespace).toBe(vals.grafanaDashboard.namespace || 'cutover');
      expect(JSON.parse(String(dashboard.data!['cutover.json']))).toEqual(JSON.parse(readText(CHART, 'files', 'grafana-dashboard.json')));
    }
  });
});

describe('the chart refuses values that would break the product', () => {
  it.each([
    ['no database URL and no existing Secret', values({ config: minimal.config as Values }), 'secrets.databaseUrl is required'],
    ['no backend chosen (the chart defaults)', values({ secrets: minimal.secrets as Values }), 'config.BACKEND_KIND is required'],
    ['the simulated backend without allowSimulatedBackend', values(minimal, { config: { BACKEND_KIND: 'simulated' } }), 'set allowSimulatedBackend: true'],
    ['a heartbeat timeout shorter than the longest batch', values(minimal, { config: { WORKER_HEARTBEAT_TIMEOUT_MS: '20000' } }), 'WORKER_HEARTBEAT_TIMEOUT_MS (20000) must exceed'],
    ['an Ingress without hosts', values(minimal, { api: { ingress: { enabled: true } } }), 'api.ingress.hosts is required'],
    ['a batch longer than the worker may wait (600 s)', values(minimal, { config: { MIGRATION_LEASE_MS: '900000', WORKER_HEARTBEAT_TIMEOUT_MS: '900000' }, worker: { shutdown: { longestBatchSeconds: 601 } } }), 'at most 600'],
    ['zero KEDA minimum replicas (the control queue would have no worker)', values(minimal, { worker: { keda: { enabled: true, minReplicas: 0, redis: { address: 'r:6379' } } } }), 'worker.keda.minReplicas must be at least 1'],
    ['a lease shorter than the longest batch', values(minimal, { worker: { shutdown: { longestBatchSeconds: 120 } } }), 'MIGRATION_LEASE_MS (60000) must exceed'],
    ['the real backend without its URL', values(minimal, { config: { BACKEND_HTTP_URL: '' } }), 'BACKEND_HTTP_URL is required'],
    ['KEDA on the queue without a Redis address', values(minimal, { worker: { keda: { enabled: true, trigger: 'queue' } } }), 'worker.keda.redis.address'],
    ['KEDA on demand without a Prometheus address', values(minimal, { worker: { keda: { enabled: true } } }), 'worker.keda.prometheus.serverAddress'],
    ['an unknown KEDA trigger', values(minimal, { worker: { keda: { enabled: true, trigger: 'cpu' } } }), 'worker.keda.trigger must be demand'],
    ['an API grace period shorter than its preStop sleep', values(minimal, { api: { preStopSleepSeconds: 30 } }), 'must exceed api.preStopSleepSeconds'],
  ])('%s', (_what, v, message) => {
    expect(() => render(v)).toThrow(TemplateError);
    expect(() => render(v)).toThrow(message);
  });

  it('prints a float64 of a million or more the way Helm does, which is why config values are strings', () => {
    const v = values(minimal, { api: { env: {} } }) as any;
    v.config.MIGRATION_BATCH_SIZE = 1_000_000;
    expect(render(v).find('ConfigMap')!.data!.MIGRATION_BATCH_SIZE).toBe('1e+06');
  });
});
