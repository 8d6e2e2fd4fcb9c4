import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule } from '../../config/config.module';
import { CoreModule } from '../core.module';
import { SYSTEM_ACTOR } from '../auth/auth.types';
import { PrismaService } from '../database/prisma.service';
import { AuditService } from './audit.service';
import { createTestEnvironment, type TestEnvironment } from '../../../test/support/app';

/** The outbox is written with the audit row: a rolled-back change publishes nothing. */
describe('audit outbox', () => {
  let env: TestEnvironment;
  let app: INestApplicationContext;

  beforeAll(async () => {
    env = await createTestEnvironment();
    @Module({ imports: [ConfigModule.forRoot(env.config), CoreModule] })
    class M {}
    app = await NestFactory.createApplicationContext(M, { logger: false });
  });
  afterAll(async () => {
    await app?.close();
    await env?.dropDatabase();
  });

  it('holds a published action once it commits, nothing for a rolled-back one, and never an unpublished action', async () => {
    const prisma = app.get(PrismaService);
    const audit = app.get(AuditService);
    const actor = SYSTEM_ACTOR('test');
    await expect(
      prisma.transaction(async (tx) => {
        await audit.record({ actor, action: 'campaign.halted', entityType: 'campaign', entityId: '1', reason: 'rolled back' }, tx);
        throw new Error('the change failed after its audit row');
      }),
    ).rejects.toThrow('the change failed');
    await prisma.transaction(async (tx) => {
      await audit.record({ actor, action: 'campaign.halted', entityType: 'campaign', entityId: '2', reason: 'kept' }, tx);
      await audit.record({ actor, action: 'campaign.updated', entityType: 'campaign', entityId: '2' }, tx);
      await audit.record({ actor, action: 'flag.killed', entityType: 'flag', entityId: 'f' }, tx);
    });
    const outbox = await prisma.client.eventOutbox.findMany({ orderBy: { id: 'asc' } });
    const events = await prisma.client.auditEvent.findMany({ where: { id: { in: outbox.map((o) => o.auditEventId) } }, orderBy: { id: 'asc' } });
    expect(outbox.map((o) => o.eventType)).toEqual(['campaign.halted', 'flag.killed']);
    expect(events.map((e) => [e.action, e.entityId, e.reason])).toEqual([['campaign.halted', '2', 'kept'], ['flag.killed', 'f', null]]);
  });
});
