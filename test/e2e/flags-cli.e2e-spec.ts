import { startTestApi, type TestApi } from '../support/app';
import { cliEnv, runCli } from '../support/cli';

describe('cutover flags CLI against a running API', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ AUTH_FAILED_LIMIT_PER_MINUTE: '1000' });
    await api.request('POST', '/api/v1/flags', { body: { key: 'cli.flag', rolloutPercent: 1 } });
  });
  afterAll(() => api.close());

  it('answers for a conversation, naming the participant who is not ready', async () => {
    await api.request('POST', '/api/v1/flags', { body: { key: 'cli.conv', rolloutPercent: 100 } });
    for (let i = 0; i < 100 && (await runCli(['flags', 'conversation', 'cli.conv', '1:capable'], cliEnv(api))).code !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    const off = await runCli(['flags', 'conversation', 'cli.conv', '42:capable', '43', '--id', 'chat-1'], cliEnv(api));
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('OFF for conversation chat-1: 43 is not ready (not_capable)');
    expect(off.stdout).toMatch(/42\s+\d+\s+on\s+yes\s+-\s+yes/);
    const on = await runCli(['--json', 'flags', 'conversation', 'cli.conv', '42:capable', '43:capable'], cliEnv(api));
    expect(JSON.parse(on.stdout)).toMatchObject({ on: true, notReady: null });
    const bad = await runCli(['flags', 'conversation', 'cli.conv', 'bob'], cliEnv(api));
    expect(bad.code).toBe(1);
  });

  it('lists and shows flags, as text and as JSON', async () => {
    const list = await runCli(['flags', 'list'], cliEnv(api));
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/KEY\s+STATE\s+ROLLOUT %/);
    expect(list.stdout).toMatch(/cli\.flag\s+live\s+1\b/);
    const get = await runCli(['--json', 'flags', 'get', 'cli.flag'], cliEnv(api));
    expect(JSON.parse(get.stdout)).toMatchObject({ key: 'cli.flag', rolloutPpm: 10_000, version: 1 });
  });

  it('sets the rollout, kills and revives with a reason, all audited', async () => {
    const set = await runCli(['--json', 'flags', 'set-rollout', 'cli.flag', '--percent', '12.5', '--reason', 'step two'], cliEnv(api));
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ rolloutPpm: 125_000, version: 2 });
    const kill = await runCli(['flags', 'kill', 'cli.flag', '--reason', 'incident 7'], cliEnv(api));
    expect(kill.code).toBe(0);
    expect(kill.stdout).toMatch(/KILLED \(incident 7\)/);
    const revive = await runCli(['--json', 'flags', 'revive', 'cli.flag', '--reason', 'resolved'], cliEnv(api));
    expect(JSON.parse(revive.stdout)).toMatchObject({ killed: false, version: 4 });
    const audit = await api.request('GET', '/api/v1/audit?entityType=flag&entityId=cli.flag');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['flag.revived', 'flag.killed', 'flag.rollout_changed', 'flag.created']);
  });

  it('reports API errors with their code and a non-zero exit', async () => {
    const stale = await runCli(['flags', 'kill', 'cli.flag', '--reason', 'again', '--if-match', '1'], cliEnv(api));
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('flag.version_conflict');
    const missing = await runCli(['flags', 'get', 'no.such.flag'], cliEnv(api));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('flag.not_found');
    const usage = await runCli(['flags', 'set-rollout', 'cli.flag', '--percent', '101'], cliEnv(api));
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('percentage');
    const viewer = await api.newKey('viewer');
    const forbidden = await runCli(['flags', 'kill', 'cli.flag', '--reason', 'nope'], cliEnv(api, viewer));
    expect(forbidden.code).toBe(3);
  });
});
