import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import { levels } from 'pino';
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { Logger as Pino } from 'pino';
import type { AppConfig } from '../../config/config.schema';
import { PinoNestLogger, redactUrl } from '../logging/logger';
import { onClientError, onFrameworkError } from './framework-errors';
import { useInputGuard } from './input-guard';
import { useJsonBodyParser } from './json-body';
import { HELMET_OPTIONS } from './security-headers';
import { OPENAPI_EXTRA_PATHS } from './openapi-extras';
import { describeApi, type ExtraPaths } from './openapi/api-document';

/** The OpenAPI document of the application, as served at /docs and /docs/openapi.json. */
export function buildApiDocument(app: INestApplication): OpenAPIObject {
  const base = new DocumentBuilder()
    .setTitle('Cutover')
    .setDescription('Control plane for moving users from legacy messaging to E2EE. Admin API under /api/v1, OFREP evaluation under /ofrep/v1. Every error answer is `{ code, message, details }`.')
    .setVersion('1')
    .addServer('/', 'this Cutover API')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API key: `Authorization: Bearer <key>`' }, 'bearer')
    .build();
  const extra = (() => {
    try {
      return app.get<ExtraPaths>(OPENAPI_EXTRA_PATHS, { strict: false });
    } catch {
      return undefined; // no module provides extra paths
    }
  })();
  return describeApi(app, SwaggerModule.createDocument(app, base), extra);
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

const pinoLevels: Record<string, number> = levels.values;

export async function createApiApp(module: Type<unknown>, config: AppConfig, logger: Pino): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    disableRequestLogging: true,
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    routerOptions: { maxParamLength: 1000 },
    clientErrorHandler: onClientError,
    frameworkErrors: onFrameworkError,
    // Nest closes the server after its modules (database, Redis) are gone, so no request still
    // open then can finish; an event stream or a request stuck on a closed pool must not hold it
    forceCloseConnections: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module.valueOf() as Type<unknown>, adapter, {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
    // Nest's parsers (JSON, urlencoded) would replace ours; the API speaks JSON only
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.setReplySerializer((payload) => JSON.stringify(payload, bigintSafe));
  useJsonBodyParser(fastify);
  useInputGuard(fastify);
  fastify.addHook('onResponse', (req, reply, done) => {
    const level = reply.statusCode >= 500 ? 'error' : req.url.startsWith('/ofrep/') ? 'debug' : 'info';
    // checked first: building the line (and redacting the URL) costs more than an evaluation
    if (pinoLevels[level] >= (pinoLevels[req.log.level] ?? 0)) req.log[level]({ method: req.method, url: redactUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });
  await app.register(helmet, HELMET_OPTIONS);
  await app.register(cors, {
    origin: config.http.corsOrigins.length > 0 ? config.http.corsOrigins : false,
    exposedHeaders: ['ETag', 'X-Request-Id'],
  });
  SwaggerModule.setup('docs', app, buildApiDocument(app), { jsonDocumentUrl: 'docs/openapi.json' });
  app.enableShutdownHooks();
  return app;
}
