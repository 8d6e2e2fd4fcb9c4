import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ApiModule } from '../../src/api.module';
import { parseConfig } from '../../src/config/config';
import type { AppConfig } from '../../src/config/config.schema';
import { generateApiKey } from '../../src/core/auth/api-key-format';
import { deleteRedisPrefix } from '../../src/core/redis/delete-prefix';
import { ApiKeysService } from '../../src/core/auth/api-keys.service';
import { SYSTEM_ACTOR, type Role } from '../../src/core/auth/auth.types';
import { createApiApp } from '../../src/core/http/create-api-app';
import { PinoNestLogger, REDACT_PATHS } from '../../src/core/logging/logger';
import { WorkerModule } from '../../src/worker.module';
import { createTestDatabase, redisUrl, testRedisPrefix } from './test-env';

export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  key?: string | null;
  headers?: Record<string, string>;
}

/** Captured log lines of a test process, so that tests can assert on them. */
export class LogSink {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      this.lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  logger(level = 'info') {
    return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, this.stream);
  }
}

export interface TestEnvironment {
  config: AppConfig;
  adminKey: string;
  dropDatabase: () => Promise<void>;
}

/** A fresh database cloned from the template plus a Redis prefix of its own. */
export async function createTestEnvironment(env: Record<string, string> = {}): Promise<TestEnvironment> {
  const db = await createTestDatabase();
  const prefix = testRedisPrefix();
  const adminKey = generateApiKey().key;
  const config = parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: prefix,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    AUTH_ADMIN_KEY: adminKey,
    ...env,
  });
  // the environment's data goes with it: the database and its Redis keys (ratchet sets alone
  // are ~95k keys for a 100k-user test; CI runs on a Redis that outlives them)
  const dropDatabase = async (): Promise<void> => {
    await db.drop();
    await deleteRedisPrefix(config.redis.url, prefix).catch(() => undefined);
  };
  return { config, adminKey, dropDatabase };
}

export class TestApi {
  constructor(
    readonly app: NestFastifyApplication,
    readonly url: string,
    readonly env: TestEnvironment,
    readonly logs: LogSink,
  ) {}

  get adminKey(): string {
    return this.env.adminKey;
  }

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    const key = opts.key === undefined ? this.adminKey : opts.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await fetch(this.url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /** Creates an API key with the given role straight through the service. */
  async newKey(role: Role): Promise<string> {
    return (await this.app.get(ApiKeysService).create({ name: `test ${role}`, role }, SYSTEM_ACTOR('test'))).key;
  }

  async close(opts: { dropDatabase?: boolean } = {}): Promise<void> {
    await this.app.close();
    if (opts.dropDatabase !== false) await this.env.dropDatabase();
  }
}

/** Starts the real API (Fastify, all modules) on a random port against real PostgreSQL and Redis. */
export async function startTestApi(env?: TestEnvironment | Record<string, string>): Promise<TestApi> {
  const environment = env && 'config' in env ? (env as TestEnvironment) : await createTestEnvironment(env as Record<string, string>);
  const logs = new LogSink();
  const logger = logs.logger(environment.config.logLevel === 'silent' ? 'warn' : environment.config.logLevel);
  const app = await createApiApp(ApiModule.forRoot(environment.config) as never, environment.config, logger);
  await app.get(ApiKeysService).bootstrapKeys();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  return new TestApi(app, `http://127.0.0.1:${address.port}`, environment, logs);
}

/** Starts a worker (all processors) in this process; its warnings and errors go to `logs`. */
export async function startTestWorker(environment: TestEnvironment, logs = new LogSink()): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(environment.config), {
    logger: new PinoNestLogger(logs.logger('warn')),
  });
  await app.init();
  return app;
}
