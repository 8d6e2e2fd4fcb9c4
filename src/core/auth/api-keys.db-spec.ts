import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule } from '../../config/config.module';
import { CoreModule } from '../core.module';
import { PrismaService } from '../database/prisma.service';
import { generateApiKey } from './api-key-format';
import { ApiKeysService } from './api-keys.service';
import { createTestEnvironment, type TestEnvironment } from '../../../test/support/app';
import { Module } from '@nestjs/common';

async function context(env: TestEnvironment): Promise<INestApplicationContext> {
  @Module({ imports: [ConfigModule.forRoot(env.config), CoreModule] })
  class M {}
  return NestFactory.createApplicationContext(M, { logger: false });
}

describe('bootstrap admin key', () => {
  let env: TestEnvironment;
  afterEach(() => env.dropDatabase());

  it('creates exactly one admin key when several replicas start at once', async () => {
    env = await createTestEnvironment();
    env.config.auth.adminKey = undefined;
    const apps = await Promise.all([context(env), context(env), context(env)]);
    const printed = await Promise.all(apps.map((a) => a.get(ApiKeysService).bootstrapKeys()));
    expect(printed.filter(Boolean)).toHaveLength(1);
    const prisma = apps[0].get(PrismaService).client;
    expect(await prisma.apiKey.count({ where: { role: 'admin' } })).toBe(1);
    expect(await prisma.auditEvent.count({ where: { action: 'api_key.created' } })).toBe(1);
    const key = printed.find(Boolean)!;
    expect(await apps[1].get(ApiKeysService).authenticate(key)).toMatchObject({ role: 'admin' });
    await Promise.all(apps.map((a) => a.close()));
  });

  it('registers AUTH_ADMIN_KEY once, however often it starts', async () => {
    env = await createTestEnvironment();
    const app = await context(env);
    const keys = app.get(ApiKeysService);
    expect(await keys.bootstrapKeys()).toBeNull();
    expect(await keys.bootstrapKeys()).toBeNull();
    expect(await app.get(PrismaService).client.apiKey.count()).toBe(1);
    expect(await keys.authenticate(env.adminKey)).toMatchObject({ role: 'admin' });
    expect(await keys.authenticate(env.adminKey.slice(0, -1) + 'x')).toBeNull();
    await app.close();
  });

  it('registers AUTH_EVALUATOR_KEY as an evaluator key once, next to the admin key', async () => {
    env = await createTestEnvironment({ AUTH_EVALUATOR_KEY: generateApiKey().key });
    const app = await context(env);
    const keys = app.get(ApiKeysService);
    expect(await keys.bootstrapKeys()).toBeNull();
    expect(await keys.bootstrapKeys()).toBeNull();
    const rows = await app.get(PrismaService).client.apiKey.findMany({ select: { role: true, name: true } });
    expect(rows.sort((a, b) => a.role.localeCompare(b.role))).toEqual([
      { role: 'admin', name: 'bootstrap admin (AUTH_ADMIN_KEY)' },
      { role: 'evaluator', name: 'bootstrap evaluator (AUTH_EVALUATOR_KEY)' },
    ]);
    expect(await keys.authenticate(env.config.auth.evaluatorKey!)).toMatchObject({ role: 'evaluator' });
    await app.close();
  });
});
