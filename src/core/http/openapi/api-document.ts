import type { INestApplication, Type } from '@nestjs/common';
import { HTTP_CODE_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { z, type ZodType } from 'zod';
import { PUBLIC_KEY, ROLES_KEY } from '../../auth/auth.decorators';
import { errorBodySchema } from '../../errors/error-body.schema';
import { ZodPipe } from '../../validation/zod.pipe';
import { IF_MATCH_OPTIONAL_KEY, OPERATION_KEY, REQUEST_CONTENT_KEY, type DocumentedOperation, type DocumentedRequestContent } from './api-docs.decorators';
import { SchemaRegistry, type JsonSchema } from './schema-registry';

type Operation = Record<string, unknown> & { operationId?: string; parameters?: unknown[]; responses?: Record<string, unknown> };
type Handler = { cls: Type<unknown>; method: string; fn: (...args: unknown[]) => unknown };

/** Paths that are not Nest controllers (the OFREP routes), described with the same registry. */
export type ExtraPaths = (registry: SchemaRegistry) => Record<string, unknown>;

const ERROR_RESPONSES: Record<string, { name: string; description: string; example: z.infer<typeof errorBodySchema> }> = {
  '400': { name: 'BadRequest', description: 'the request is invalid; `details` names each field', example: { code: 'request.validation_failed', message: 'body.reason: a reason of at least 3 characters is required', details: [{ field: 'body.reason', message: 'a reason of at least 3 characters is required' }] } },
  '401': { name: 'Unauthorized', description: 'no API key, or an unknown or revoked one', example: { code: 'auth.unauthorized', message: 'a valid API key is required: Authorization: Bearer <key>', details: { header: 'authorization', scheme: 'Bearer' } } },
  '403': { name: 'Forbidden', description: 'the key\'s role may not do this', example: { code: 'auth.forbidden', message: 'role viewer may not do this (needs operator or admin)', details: { role: 'viewer', needed: ['operator', 'admin'] } } },
  '404': { name: 'NotFound', description: 'no such entity', example: { code: 'campaign.not_found', message: 'campaign 42 does not exist', details: { entity: 'campaign', id: '42' } } },
  '409': { name: 'Conflict', description: 'the entity is not in a state that allows this, or changed since the If-Match version', example: { code: 'campaign.invalid_transition', message: 'campaign cannot go from completed to running', details: { from: 'completed', to: 'running' } } },
  '428': { name: 'PreconditionRequired', description: 'this write needs If-Match with the ETag of the last read', example: { code: 'request.if_match_required', message: 'this write needs an If-Match header carrying the ETag of your last read', details: { header: 'if-match' } } },
  '429': { name: 'TooManyRequests', description: 'too many failed authentications from this address (or a rate limit); see Retry-After', example: { code: 'auth.rate_limited', message: 'too many failed authentications; retry later', details: { retryAfterSeconds: 30 } } },
  '503': { name: 'Unavailable', description: 'PostgreSQL or Redis is unavailable, or a concurrent change conflicted; nothing was written, retry after Retry-After', example: { code: 'service.unavailable', message: 'a backing service (database or Redis) is unavailable; retry shortly', details: { retryAfterSeconds: 1 } } },
};

function handlersByOperationId(app: INestApplication): Map<string, Handler> {
  const map = new Map<string, Handler>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const cls = wrapper.metatype as Type<unknown> | null;
      if (!cls) continue;
      for (const method of Object.getOwnPropertyNames(cls.prototype)) {
        const fn = (cls.prototype as Record<string, unknown>)[method];
        if (method !== 'constructor' && typeof fn === 'function') map.set(`${cls.name}_${method}`, { cls, method, fn: fn as Handler['fn'] });
      }
    }
  }
  return map;
}

interface RouteArg {
  index: number;
  data?: unknown;
  pipes?: unknown[];
}

function routeArgs(h: Handler): Array<RouteArg & { type: number }> {
  const meta = (Reflect.getMetadata(ROUTE_ARGS_METADATA, h.cls, h.method) ?? {}) as Record<string, RouteArg>;
  return Object.entries(meta).map(([key, arg]) => ({ ...arg, type: Number(key.split(':')[0]) }));
}

function zodOf(arg: RouteArg, where: string): ZodType {
  const pipe = arg.pipes?.find((p): p is ZodPipe<ZodType> => p instanceof ZodPipe);
  if (!pipe) throw new Error(`${where} reads input without a zod pipe; every input is validated (and documented) by one`);
  if (arg.data !== undefined) throw new Error(`${where}: validate the whole object, not one field ('${String(arg.data)}')`);
  return pipe.schema;
}

function metadata<T>(key: string, h: Handler): T | undefined {
  return (Reflect.getMetadata(key, h.fn) ?? Reflect.getMetadata(key, h.cls)) as T | undefined;
}

function describeInput(op: Operation, h: Handler, registry: SchemaRegistry): { hasInput: boolean; ifMatch: boolean } {
  const where = `${h.cls.name}.${h.method}`;
  const params: unknown[] = [];
  let hasInput = false;
  let ifMatch = false;
  for (const arg of routeArgs(h)) {
    if (arg.type === RouteParamtypes.PARAM || arg.type === RouteParamtypes.QUERY) {
      const at = arg.type === RouteParamtypes.PARAM ? 'path' : 'query';
      for (const p of registry.properties(zodOf(arg, where))) {
        const { description, ...schema } = p.schema;
        params.push({ name: p.name, in: at, required: at === 'path' || p.required, schema, ...(description ? { description } : {}) });
      }
      hasInput = true;
    } else if (arg.type === RouteParamtypes.BODY) {
      const schema = zodOf(arg, where);
      op.requestBody = { required: !schema.safeParse({}).success, content: { 'application/json': { schema: registry.schema(schema, 'input') } } };
      hasInput = true;
    } else if (arg.type === RouteParamtypes.HEADERS && arg.data === 'if-match') {
      const optional = metadata<boolean>(IF_MATCH_OPTIONAL_KEY, h) === true;
      params.push({ name: 'If-Match', in: 'header', required: !optional, description: 'the ETag of your last read of this entity (optimistic concurrency)', schema: { type: 'string' }, example: '"3"' });
      ifMatch = !optional;
    }
  }
  const raw = metadata<DocumentedRequestContent>(REQUEST_CONTENT_KEY, h);
  if (raw) {
    const content = Object.fromEntries(Object.entries(raw.content).map(([type, s]) => [type, { schema: registry.schema(s, 'input') }]));
    op.requestBody = { required: true, description: raw.description, content };
    hasInput = true;
  }
  op.parameters = params;
  return { hasInput, ifMatch };
}

function describeResponses(op: Operation, h: Handler, verb: string, registry: SchemaRegistry): void {
  const documented = metadata<DocumentedOperation>(OPERATION_KEY, h);
  if (!documented) return;
  op.summary = documented.summary;
  const routeStatus = (Reflect.getMetadata(HTTP_CODE_METADATA, h.fn) as number | undefined) ?? (verb === 'post' ? 201 : 200);
  const responses: Record<string, unknown> = {};
  for (const r of documented.responses) {
    const schema = registry.schema(r.schema, 'output');
    const description = r.description ?? (typeof schema.description === 'string' ? schema.description : 'success');
    const status = r.status ?? routeStatus;
    responses[String(status)] = status === 204 ? { description } : { description, content: { [r.contentType ?? 'application/json']: { schema } } };
  }
  op.responses = responses;
}

function describeAccess(op: Operation, h: Handler): void {
  if (metadata<boolean>(PUBLIC_KEY, h)) {
    op.security = [];
    return;
  }
  const role = metadata<string>(ROLES_KEY, h);
  op.security = [{ bearer: [] }];
  if (role) op.description = [op.description, `Needs a key with the \`${role}\` role or higher.`].filter(Boolean).join('\n\n');
}

function addErrors(op: Operation, path: string, verb: string, input: { hasInput: boolean; ifMatch: boolean }, isPublic: boolean): void {
  const codes = new Set<string>(['503']);
  if (input.hasInput) codes.add('400');
  if (!isPublic) ['401', '403', '429'].forEach((c) => codes.add(c));
  if (path.includes('{')) codes.add('404');
  if (verb !== 'get' && path.includes('{')) codes.add('409');
  if (input.ifMatch) codes.add('428');
  for (const code of [...codes].sort()) {
    if (!op.responses?.[code]) op.responses = { ...op.responses, [code]: { $ref: `#/components/responses/${ERROR_RESPONSES[code].name}` } };
  }
}

function errorComponents(registry: SchemaRegistry): Record<string, unknown> {
  const schema = registry.schema(errorBodySchema, 'output');
  return Object.fromEntries(
    Object.values(ERROR_RESPONSES).map((e) => [e.name, { description: e.description, content: { 'application/json': { schema, example: e.example } } }]),
  );
}

/**
 * Completes Nest's document from the zod schemas the routes already validate with: path,
 * query and body parameters from each `ZodPipe`, success answers from `@Responds`, the error
 * answers every route can give, and the role each route needs.
 */
export function describeApi(app: INestApplication, doc: OpenAPIObject, extraPaths: ExtraPaths | undefined): OpenAPIObject {
  const registry = new SchemaRegistry();
  const handlers = handlersByOperationId(app);
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [verb, op] of Object.entries(item as Record<string, Operation>)) {
      const id = op.operationId?.replace(/\[(\d+)\]$/, '');
      const h = id ? handlers.get(id) : undefined;
      if (!h) continue;
      const alias = /\[(\d+)\]$/.exec(op.operationId ?? '')?.[1];
      op.operationId = alias && alias !== '0' ? `${id}_${alias}` : id;
      const input = describeInput(op, h, registry);
      describeResponses(op, h, verb, registry);
      describeAccess(op, h);
      addErrors(op, path, verb, input, (op.security as unknown[]).length === 0);
    }
  }
  const paths = { ...doc.paths, ...(extraPaths?.(registry) ?? {}) } as OpenAPIObject['paths'];
  const responses = errorComponents(registry);
  return { ...doc, openapi: '3.1.0', paths, components: { ...doc.components, schemas: sortKeys(registry.components), responses } } as OpenAPIObject;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

export type { JsonSchema };
