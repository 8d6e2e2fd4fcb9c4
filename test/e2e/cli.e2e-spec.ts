import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApi, type TestApi } from '../support/app';
import { cliEnv, runCli } from '../support/cli';

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('cutover CLI (built bin/cutover.js against a running API)', () => {
  let api: TestApi;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await startTestApi();
    dir = await mkdtemp(join(tmpdir(), 'cutover-cli-'));
    env = cliEnv(api);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await api.close();
  });

  it('creates, lists and revokes keys, in text and JSON; a revoked key exits with code 3', async () => {
    const created = await runCli(['keys', 'create', '--name', 'ops bot', '--role', 'operator'], env);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(/^key:\s+co_[a-z0-9]{8}_/m);
    expect(created.stdout).toContain('not shown again');

    const json = await runCli(['keys', 'create', '--name', 'script', '--role', 'viewer', '--json'], env);
    const body = JSON.parse(json.stdout);
    expect(body).toMatchObject({ key: expect.stringMatching(/^co_/), apiKey: { name: 'script', role: 'viewer' } });

    const list = await runCli(['keys', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^\s*ID\s+NAME\s+ROLE/);
    expect(list.stdout).toContain('ops bot');
    const listJson = JSON.parse((await runCli(['--json', 'keys', 'list'], env)).stdout);
    expect(listJson.items.map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(['ops bot', 'script']));

    const revoked = await runCli(['keys', 'revoke', body.apiKey.id, '--reason', 'rotated'], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`key ${body.apiKey.id} \\(script\\) revoked at`));
    const denied = await runCli(['users', 'get', '1'], { ...env, CUTOVER_API_KEY: body.key });
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/^error: .*\(auth\.unauthorized, HTTP 401\)/);
  });

  it('imports NDJSON and CSV files with a summary and the rejected lines; re-running adds nobody', async () => {
    const ndjson = join(dir, 'users.ndjson');
    const rows = [
      { id: 1, country: 'DE', platform: 'ios', appVersion: '6.4.0', e2eeCapable: true },
      { id: 2, country: 'Germany', platform: 'ios', appVersion: '6.4.0', e2eeCapable: true },
      { id: 3, country: 'BR', platform: 'android', appVersion: '6.3.2', e2eeCapable: false },
    ];
    await writeFile(ndjson, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const first = await runCli(['users', 'import', ndjson], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^inserted:\s+2$/m);
    expect(first.stdout).toMatch(/^rejected:\s+1$/m);
    expect(first.stdout).toContain('line 2: country: must be an ISO 3166-1 alpha-2 code');

    const again = JSON.parse((await runCli(['users', 'import', ndjson, '--json'], env)).stdout);
    expect(again).toMatchObject({ read: 3, inserted: 0, updated: 0, unchanged: 2, rejected: 1 });
    expect(again.rejectedLines).toEqual([{ line: 2, reason: expect.any(String) }]);

    const strict = await runCli(['users', 'import', ndjson, '--fail-on-rejected'], env);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('1 line(s) were rejected');

    const csv = join(dir, 'more.csv');
    await writeFile(csv, 'id,country,platform,app_version,e2ee_capable\n10,NL,web,2.26.4,true\n11,NL,web,2.26.4,true\n');
    const fromCsv = JSON.parse((await runCli(['--json', 'users', 'import', csv], env)).stdout);
    expect(fromCsv).toMatchObject({ format: 'csv', inserted: 2, rejected: 0 });

    const txt = join(dir, 'users.txt');
    await writeFile(txt, '{}');
    const unknownFormat = await runCli(['users', 'import', txt], env);
    expect(unknownFormat.code).toBe(1);
    expect(unknownFormat.stderr).toContain('--format ndjson|csv');
    const forced = JSON.parse((await runCli(['users', 'import', txt, '--format', 'ndjson', '--json'], env)).stdout);
    expect(forced).toMatchObject({ read: 1, rejected: 1 });
  });

  it('reports the API error of a streamed file, such as a CSV without the required columns', async () => {
    const csv = join(dir, 'bad-header.csv');
    await writeFile(csv, 'id,country\n' + '1,DE\n'.repeat(300_000));
    const r = await runCli(['users', 'import', csv], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lacks column\(s\): platform, appVersion, e2eeCapable \(users\.import_bad_header, HTTP 400\)/);
  });

  it('seeds users and shows one, in text and JSON', async () => {
    const seeded = await runCli(['users', 'seed', '--count', '500', '--seed', '3'], env);
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toMatch(/^added 500 users \(ids 12–511\); \d+ cannot do E2EE yet$/m);
    const json = JSON.parse((await runCli(['users', 'seed', '--count', '10', '--json'], env)).stdout);
    expect(json).toMatchObject({ added: 10, fromId: '512', toId: '521' });

    const shown = await runCli(['users', 'get', '3'], env);
    expect(shown.stdout).toMatch(/^country:\s+BR$/m);
    expect(shown.stdout).toMatch(/^e2ee capable:\s+no$/m);
    const user = JSON.parse((await runCli(['users', 'get', '3', '--json'], env)).stdout);
    expect(user).toMatchObject({ id: '3', platform: 'android', e2eeCapable: false });

    const updated = JSON.parse((await runCli(['users', 'update', '3', '--e2ee-capable', 'true', '--app-version', '6.4.1', '--json'], env)).stdout);
    expect(updated).toMatchObject({ id: '3', e2eeCapable: true, appVersion: '6.4.1' });
  });

  it('creates a webhook with --endpoint while the global --url still names the API', async () => {
    const created = await runCli(['webhooks', 'create', '--name', 'pager', '--endpoint', 'https://hooks.example/cutover', '--events', 'flag.killed,campaign.halted', '--url', env.CUTOVER_URL, '--json'], env);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const body = JSON.parse(created.stdout);
    expect(body.webhook).toMatchObject({ name: 'pager', url: 'https://hooks.example/cutover' });
    expect([...body.webhook.events].sort()).toEqual(['campaign.halted', 'flag.killed']);
    expect(body.secret).toEqual(expect.any(String));
    const list = await runCli(['webhooks', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('https://hooks.example/cutover');
  });

  it('exits 1 for API and usage errors, 2 when the API is unreachable, 3 without a key', async () => {
    const missing = await runCli(['users', 'get', '999999999'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: user 999999999 does not exist (user.not_found, HTTP 404)\n');
    const missingJson = await runCli(['users', 'get', '999999999', '--json'], env);
    expect(JSON.parse(missingJson.stderr)).toEqual({
      error: { code: 'user.not_found', message: expect.stringContaining('(user.not_found, HTTP 404)'), details: { entity: 'user', id: '999999999' } },
    });

    const usage = await runCli(['keys', 'create', '--name', 'x', '--role', 'root'], env);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain("argument 'root' is invalid");

    const closed = `http://127.0.0.1:${await closedPort()}`;
    const down = await runCli(['keys', 'list', '--url', closed], env);
    expect(down.code).toBe(2);
    expect(down.stderr).toBe(`error: cannot reach the Cutover API at ${closed}: ECONNREFUSED\n`);

    const noKey = await runCli(['keys', 'list'], { CUTOVER_URL: api.url });
    expect(noKey.code).toBe(3);
    expect(noKey.stderr).toContain('pass --key or set CUTOVER_API_KEY');
    const viewer = await api.newKey('viewer');
    const forbidden = await runCli(['users', 'seed', '--count', '1', '--key', viewer], env);
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toContain('auth.forbidden');
  });
});
