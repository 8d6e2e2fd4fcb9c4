import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ConfigModule } from '../../config/config.module';
import { CoreModule } from '../core.module';
import { Clock, FakeClock } from '../clock/clock';
import { PrismaService } from '../database/prisma.service';
import { generateApiKey } from './api-key-format';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { SYSTEM_ACTOR, type Actor } from './auth.types';
import { createTestEnvironment, type TestEnvironment } from '../../../test/support/app';

async function context(env: TestEnvironment, clock?: FakeClock): Promise<INestApplicationContext> {
  @Module({ imports: [ConfigModule.forRoot(env.config), CoreModule] })
  class M {}
  if (!clock) return NestFactory.createApplicationContext(M, { logger: false });
  const moduleRef = await Test.createTestingModule({ imports: [M] }).overrideProvider(Clock).useValue(clock).compile();
  moduleRef.useLogger(false);
  return moduleRef.init();
}

const admin = (id: string): Actor => ({ id, name: `admin ${id}`, role: 'admin' });

describe('API keys', () => {
  let env: TestEnvironment;
  let app: INestApplicationContext;
  afterEach(async () => {
    await app?.close();
    await env.dropDatabase();
  });

  it('registers AUTH_ADMIN_KEY exactly once when several replicas start at once, and creates no other key', async () => {
    env = await createTestEnvironment();
    const apps = await Promise.all([context(env), context(env), context(env)]);
    app = apps[0];
    await Promise.all(apps.map((a) => a.get(ApiKeysService).bootstrapKeys()));
    await Promise.all(apps.map((a) => a.get(ApiKeysService).bootstrapKeys()));
    const prisma = app.get(PrismaService).client;
    expect(await prisma.apiKey.count()).toBe(1);
    expect(await prisma.auditEvent.count({ where: { action: 'api_key.created' } })).toBe(1);
    expect(await apps[1].get(ApiKeysService).authenticate(env.adminKey)).toMatchObject({ role: 'admin' });
    expect(await app.get(ApiKeysService).authenticate(env.adminKey.slice(0, -1) + (env.adminKey.endsWith('x') ? 'y' : 'x'))).toBeNull();
    await Promise.all(apps.slice(1).map((a) => a.close()));
  });

  it('registers AUTH_EVALUATOR_KEY as an evaluator key once, next to the admin key', async () => {
    env = await createTestEnvironment({ AUTH_EVALUATOR_KEY: generateApiKey().key });
    app = await context(env);
    const keys = app.get(ApiKeysService);
    await keys.bootstrapKeys();
    await keys.bootstrapKeys();
    const rows = await app.get(PrismaService).client.apiKey.findMany({ select: { role: true, name: true } });
    expect(rows.sort((a, b) => a.role.localeCompare(b.role))).toEqual([
      { role: 'admin', name: 'bootstrap admin (AUTH_ADMIN_KEY)' },
      { role: 'evaluator', name: 'bootstrap evaluator (AUTH_EVALUATOR_KEY)' },
    ]);
    expect(await keys.authenticate(env.config.auth.evaluatorKey!)).toMatchObject({ role: 'evaluator' });
  });

  it('never makes up an admin key without AUTH_ADMIN_KEY, and never revives a revoked one', async () => {
    env = await createTestEnvironment();
    const configured = env.config.auth.adminKey;
    env.config.auth.adminKey = undefined;
    app = await context(env);
    const keys = app.get(ApiKeysService);
    await keys.bootstrapKeys();
    const prisma = app.get(PrismaService).client;
    expect(await prisma.apiKey.count()).toBe(0);
    env.config.auth.adminKey = configured;
    await keys.bootstrapKeys();
    const second = await keys.create({ name: 'second admin', role: 'admin' }, SYSTEM_ACTOR('test'));
    const first = (await prisma.apiKey.findFirst({ where: { name: { startsWith: 'bootstrap' } } }))!;
    await keys.revoke(first.id, { reason: 'rotated' }, admin(second.apiKey.id));
    await keys.bootstrapKeys();
    expect(await prisma.apiKey.findUnique({ where: { id: first.id } })).toMatchObject({ revokedAt: expect.any(Date) });
  });

  it('refuses to revoke the last active admin key, and the caller own key without force', async () => {
    env = await createTestEnvironment();
    app = await context(env);
    const keys = app.get(ApiKeysService);
    const a = await keys.create({ name: 'a', role: 'admin' }, SYSTEM_ACTOR('test'));
    const viewer = await keys.create({ name: 'v', role: 'viewer' }, SYSTEM_ACTOR('test'));
    const aId = BigInt(a.apiKey.id);
    await expect(keys.revoke(aId, {}, admin('999'))).rejects.toMatchObject({ code: 'api_key.last_admin', status: 409 });
    const b = await keys.create({ name: 'b', role: 'admin' }, SYSTEM_ACTOR('test'));
    await expect(keys.revoke(aId, {}, admin(a.apiKey.id))).rejects.toMatchObject({ code: 'api_key.own_key', status: 409 });
    expect(await keys.revoke(BigInt(viewer.apiKey.id), {}, admin(a.apiKey.id))).toMatchObject({ revokedAt: expect.any(Date) });
    expect(await keys.revoke(aId, { force: true, reason: 'leaving' }, admin(a.apiKey.id))).toMatchObject({ revokedAt: expect.any(Date) });
    await expect(keys.revoke(BigInt(b.apiKey.id), { force: true }, admin(b.apiKey.id))).rejects.toMatchObject({ code: 'api_key.last_admin' });
    expect(await keys.authenticate(b.key)).toMatchObject({ role: 'admin' });
  });

  it('keeps one admin key when two admins revoke each other at the same moment', async () => {
    env = await createTestEnvironment();
    app = await context(env);
    const keys = app.get(ApiKeysService);
    const [a, b] = await Promise.all([keys.create({ name: 'a', role: 'admin' }, SYSTEM_ACTOR('t')), keys.create({ name: 'b', role: 'admin' }, SYSTEM_ACTOR('t'))]);
    const results = await Promise.allSettled([keys.revoke(BigInt(b.apiKey.id), {}, admin(a.apiKey.id)), keys.revoke(BigInt(a.apiKey.id), {}, admin(b.apiKey.id))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await app.get(PrismaService).client.apiKey.count({ where: { role: 'admin', revokedAt: null } })).toBe(1);
  });

  it('writes LAST USED off the request path, at most once a minute per key', async () => {
    env = await createTestEnvironment();
    const clock = new FakeClock(Date.UTC(2026, 5, 1, 12, 0, 0));
    app = await context(env, clock);
    const keys = app.get(ApiKeysService);
    const prisma = app.get(PrismaService).client;
    const { key, apiKey } = await keys.create({ name: 'user', role: 'viewer' }, SYSTEM_ACTOR('test'));
    const lastUsed = async () => {
      await keys.settleLastUsed();
      return (await prisma.apiKey.findUnique({ where: { id: BigInt(apiKey.id) } }))!.lastUsedAt?.toISOString() ?? null;
    };
    expect(await lastUsed()).toBeNull();
    await keys.authenticate(key);
    expect(await lastUsed()).toBe('2026-06-01T12:00:00.000Z');
    const writes = jest.spyOn(app.get(ApiKeysRepository, { strict: false }), 'touchLastUsed');
    for (let i = 0; i < 50; i++) {
      clock.advance(1_000);
      await keys.authenticate(key);
    }
    expect(await lastUsed()).toBe('2026-06-01T12:00:00.000Z');
    clock.advance(10_000);
    await keys.authenticate(key);
    expect(await lastUsed()).toBe('2026-06-01T12:01:00.000Z');
    expect(writes).toHaveBeenCalledTimes(1);
  });
});
