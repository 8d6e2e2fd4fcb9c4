import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApi, type TestApi } from '../support/app';
import { waitFor } from '../support/wait';

const ROOT = join(__dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(bin: 'cutover' | 'cutover-admin', args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', `${bin}.js`), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Operator safety around API keys: nobody locks everyone out, and a lost admin key can be recovered from the machine. */
describe('API key safety', () => {
  let api: TestApi;
  let dir: string;
  let cli: Record<string, string>;
  let machine: Record<string, string>;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'admin.js'))) throw new Error('build first: npm run build (npm test does it)');
    api = await startTestApi();
    dir = await mkdtemp(join(tmpdir(), 'cutover-keys-'));
    cli = { CUTOVER_URL: api.url, CUTOVER_API_KEY: api.adminKey };
    const c = api.env.config;
    machine = { DATABASE_URL: c.database.url, REDIS_URL: c.redis.url, REDIS_PREFIX: c.redis.prefix };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await api.close();
  });

  async function myId(key: string): Promise<string> {
    return (await api.request('GET', '/api/v1/keys/me', { key })).body.id as string;
  }

  it('refuses to revoke the last admin key (409 naming why), and the key in use without force', async () => {
    const bootstrap = await myId(api.adminKey);
    const last = await api.request('POST', `/api/v1/keys/${bootstrap}/revoke`, { body: { reason: 'oops', force: true } });
    expect(last).toMatchObject({ status: 409, body: { code: 'api_key.last_admin', message: expect.stringContaining('last active admin key'), details: { id: bootstrap } } });

    const second = await api.request('POST', '/api/v1/keys', { body: { name: 'second admin', role: 'admin' } });
    const own = await run('cutover', ['keys', 'revoke', bootstrap, '--reason', 'rotating'], cli);
    expect(own.code).toBe(1);
    expect(own.stderr).toMatch(/key making this request.*--force/);
    expect(await myId(api.adminKey)).toBe(bootstrap);

    const forced = await run('cutover', ['keys', 'revoke', bootstrap, '--reason', 'rotating', '--force'], cli);
    expect(forced).toMatchObject({ code: 0, stdout: expect.stringContaining(`key ${bootstrap}`) });
    expect((await api.request('GET', '/api/v1/keys/me')).status).toBe(401);
    const secondKey: string = second.body.key;
    expect(await run('cutover', ['keys', 'revoke', second.body.apiKey.id, '--force'], { ...cli, CUTOVER_API_KEY: secondKey })).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/last active admin key/),
    });
    cli.CUTOVER_API_KEY = secondKey;
  });

  it('mints an admin key from the machine when none works any more, into a 0600 file, audited as "machine"', async () => {
    const file = join(dir, 'admin-key');
    const minted = await run('cutover-admin', ['mint-admin-key', '--reason', 'lost the admin key', '--out', file], machine);
    expect(minted).toMatchObject({ code: 0, stdout: expect.stringContaining(`written to ${file}`) });
    expect(minted.stdout).not.toMatch(/co_[a-z0-9]{8}_/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const key = (await readFile(file, 'utf8')).trim();
    const me = await api.request('GET', '/api/v1/keys/me', { key });
    expect(me.body).toMatchObject({ role: 'admin', name: 'recovered admin' });
    const audit = await api.request('GET', `/api/v1/audit?entityType=api_key&entityId=${me.body.id}`, { key });
    expect(audit.body.items[0]).toMatchObject({ action: 'api_key.created', actor: { id: 'machine', role: 'system' }, reason: 'lost the admin key' });
    expect(audit.body.items[0].actor.name).toMatch(/^cutover-admin .+@.+/);

    const json = await run('cutover-admin', ['--json', 'mint-admin-key', '--reason', 'printed instead'], machine);
    expect(JSON.parse(json.stdout)).toMatchObject({ key: expect.stringMatching(/^co_/), prefix: expect.any(String) });
    expect((await run('cutover-admin', ['mint-admin-key'], machine)).code).toBe(1);
  });

  it('shows LAST USED in keys list once a key was used', async () => {
    const viewer = await api.request('POST', '/api/v1/keys', { key: cli.CUTOVER_API_KEY, body: { name: 'watcher', role: 'viewer' } });
    const before = await api.request('GET', '/api/v1/keys', { key: cli.CUTOVER_API_KEY });
    expect(before.body.items.find((k: { name: string }) => k.name === 'watcher').lastUsedAt).toBeNull();
    expect((await api.request('GET', '/api/v1/campaigns', { key: viewer.body.key })).status).toBe(200);
    // The CLI prints local times with their zone: CREATED and LAST USED are both dates, REVOKED is "-".
    const row = /watcher\s+viewer\s+\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+\s+-/;
    const listed = await waitFor('the viewer key listed with a LAST USED time', async () => (await run('cutover', ['keys', 'list'], cli)).stdout, (out) => row.test(out), 10_000);
    expect(listed).toMatch(row);
  });
});
