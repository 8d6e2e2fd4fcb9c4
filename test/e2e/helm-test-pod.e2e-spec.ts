import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { generateApiKey } from '../../src/core/auth/api-key-format';
import { startTestApi, type TestApi } from '../support/app';
import { CHART, ciValueFiles, loadValues, mergeValues } from '../chart/chart';
import { renderChart } from '../chart/gotemplate/render';

const run = promisify(execFile);

/**
 * The `helm test` Pod's own script, taken from the rendered chart and run with Node against a
 * real API, the way the Pod runs it: it passes with the evaluator key the API registered from
 * AUTH_EVALUATOR_KEY, and fails (exit 1, saying why) with another key.
 */
describe('the helm test Pod against a real API', () => {
  let api: TestApi;
  const evaluatorKey = generateApiKey().key;
  const values = mergeValues(loadValues(), { ...ciValueFiles().get('demo-values.yaml')!, tests: { enabled: true, flagKey: 'helm.test' } });
  const pod = parse(renderChart(CHART, values, { name: 'prod', namespace: 'cutover' }).manifests.get('test-pod.yaml')![0]) as {
    spec: { containers: Array<{ command: string[]; env: Array<{ name: string; value?: string }> }> };
  };
  const [node, flag, script] = pod.spec.containers[0].command;
  const flagKey = pod.spec.containers[0].env.find((e) => e.name === 'FLAG_KEY')!.value!;
  const runPod = (key: string) =>
    run(process.execPath, [flag, script], { env: { CUTOVER_URL: api.url, EVALUATOR_KEY: key, FLAG_KEY: flagKey } }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );

  beforeAll(async () => {
    api = await startTestApi({ AUTH_EVALUATOR_KEY: evaluatorKey });
    await api.request('POST', '/api/v1/flags', { body: { key: 'helm.test', rolloutPpm: 1_000_000 } });
  }, 120_000);
  afterAll(() => api?.close());

  it('is the image\'s Node running an inline script', () => {
    expect([node, flag]).toEqual(['node', '-e']);
  });

  it('passes: the API is ready and evaluates the flags with the evaluator key', async () => {
    const r = await runPod(evaluatorKey);
    expect(r).toEqual({ code: 0, out: expect.stringContaining('ok: ready, 1 flags evaluated') });
    expect(r.out).toContain('POST /ofrep/v1/evaluate/flags/helm.test -> 200');
  });

  it('fails with a key the API does not know', async () => {
    expect(await runPod(generateApiKey().key)).toEqual({ code: 1, out: expect.stringContaining('helm test failed: OFREP bulk evaluation failed') });
  });
});
