import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ZodError } from 'zod';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { DomainError } from '../core/errors/domain-error';
import { cutoverMetrics } from '../core/metrics/metrics';
import { staticSecurityHeaders } from '../core/http/security-headers';
import { toErrorResponse } from '../core/errors/error.filter';
import { zodIssues } from '../core/validation/zod.pipe';
import { ValidationError } from '../core/validation/zod.pipe';
import { evalError, ofrepErrorBody, type ErrorCode, type EvalOutcome } from './evaluator';
import { EvaluatorAuth } from './evaluator-auth';
import { FlagEvaluationService } from './flag-evaluation.service';
import { FlagSnapshotService } from './flag-snapshot.service';
import { EVENTS_PATH, OfrepEvents } from './ofrep-events';
import type { EvalContext } from './rules';
import { bulkQuerySchema, conversationSchema, ofrepKeySchema, ofrepRequestSchema } from './ofrep.schemas';
import { ConversationEvaluationService, toConversation, type Conversation } from './conversation-evaluation.service';

const JSON_TYPE = 'application/json; charset=utf-8';
/** Helmet's headers, set by hand on the evaluation routes, which skip helmet's per-request middlewares. */
const SECURITY_HEADERS = staticSecurityHeaders();
const STATUS: Record<ErrorCode, number> = { TARGETING_KEY_MISSING: 400, INVALID_CONTEXT: 400, PARSE_ERROR: 400, FLAG_NOT_FOUND: 404, GENERAL: 500 };
const EMPTY: EvalContext = Object.freeze({});

type Parsed = { ok: true; ctx: EvalContext; conversation: Conversation | null } | { ok: false; details: string };

function parseContext(body: unknown): Parsed {
  // a body Fastify did not parse as JSON (the users module streams NDJSON/CSV bodies to any route)
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.getPrototypeOf(body) !== Object.prototype) {
    return { ok: false, details: 'body: send a JSON object with Content-Type: application/json' };
  }
  const r = ofrepRequestSchema.safeParse(body);
  if (!r.success) return { ok: false, details: issues(r.error, 'body') };
  const ctx = r.data?.context ?? EMPTY;
  if (ctx.conversation === undefined) return { ok: true, ctx, conversation: null };
  const c = conversationSchema.safeParse(ctx.conversation);
  if (!c.success) return { ok: false, details: issues(c.error, 'body.context.conversation') };
  return { ok: true, ctx, conversation: toConversation(c.data) };
}

function issues(err: ZodError, at: string): string {
  return zodIssues(err, at).map((i) => `${i.field}: ${i.message}`).join('; ');
}

/**
 * OFREP evaluation, registered straight on Fastify rather than as a Nest controller: the
 * Nest pipeline (guard, pipes, interceptors, filter) costs about a third of the throughput of
 * this hot path (machine-limits.md). Auth (evaluator or higher), zod validation and error
 * shapes are kept here explicitly; OpenAPI describes the routes in docs/flags.md.
 */
@Injectable()
export class OfrepRoutes implements OnModuleInit {
  private readonly log = new Logger('ofrep');

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly evaluation: FlagEvaluationService,
    private readonly snapshot: FlagSnapshotService,
    private readonly auth: EvaluatorAuth,
    private readonly events: OfrepEvents,
    private readonly conversations: ConversationEvaluationService,
  ) {}

  onModuleInit(): void {
    const app = this.host.httpAdapter.getInstance<FastifyInstance>();
    const onRequest = async (req: FastifyRequest) => void (await this.auth.check(req));
    const errorHandler = (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => this.fail(err, req, reply);
    // helmet runs a dozen middlewares per request (~10% of an evaluation's CPU) to set headers
    // that never change: these routes set the same headers from SECURITY_HEADERS instead
    const fast = { onRequest, errorHandler, helmet: false } as const;
    const timed = (endpoint: 'single' | 'bulk') => {
      const histogram = cutoverMetrics.evaluationDuration.labels(endpoint);
      return { onResponse: async (_req: FastifyRequest, reply: FastifyReply) => histogram.observe(reply.elapsedTime / 1000) };
    };
    app.route({ method: 'POST', url: '/ofrep/v1/evaluate/flags/:key', ...fast, ...timed('single'), handler: (req, reply) => this.single(req, reply) });
    app.route({ method: 'POST', url: '/ofrep/v1/evaluate/flags', ...fast, ...timed('bulk'), handler: (req, reply) => this.bulk(req, reply) });
    const onStreamRequest = async (req: FastifyRequest) => void (await this.auth.checkStream(req));
    app.route({ method: 'GET', url: EVENTS_PATH, onRequest: onStreamRequest, errorHandler, handler: (req, reply) => this.events.open(req, reply) });
  }

  private async single(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const key = (req.params as { key: string }).key;
    const parsed = parseContext(req.body);
    if (!parsed.ok) return send(reply, evalError(key, 'INVALID_CONTEXT', parsed.details));
    if (!ofrepKeySchema.safeParse(key).success) return send(reply, evalError(key, 'FLAG_NOT_FOUND', `flag ${key} does not exist`));
    const out = parsed.conversation ? this.conversations.evaluate(key, parsed.conversation) : this.evaluation.evaluate(key, parsed.ctx);
    return send(reply, out instanceof Promise ? await out : out);
  }

  private async bulk(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const parsed = parseContext(req.body);
    if (!parsed.ok) return badBulk(reply, parsed.details);
    const query = bulkQuerySchema.safeParse(req.query ?? {});
    if (!query.success) return badBulk(reply, issues(query.error, 'query'));
    if (query.data.flagConfigEtag !== undefined || query.data.flagConfigLastModified !== undefined) {
      await this.snapshot.catchUp(query.data.flagConfigEtag, query.data.flagConfigLastModified);
    }
    const conv = parsed.conversation;
    const outs = conv ? [...this.snapshot.all()].map((f) => this.conversations.evaluateFlag(f, conv)) : this.evaluation.evaluateAll(parsed.ctx);
    const settled: EvalOutcome[] = outs.some((o) => o instanceof Promise) ? await Promise.all(outs) : (outs as EvalOutcome[]);
    const token = await this.auth.streamToken(req.headers.authorization!);
    const streams = token ? `,"eventStreams":${this.events.advertise(token)}` : '';
    const body = `{"flags":[${settled.map((o) => o.json).join(',')}]${streams}}`;
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    void reply.header('etag', etag);
    if (notModified(req.headers['if-none-match'], etag)) return reply.code(304).headers(SECURITY_HEADERS).send();
    return reply.code(200).type(JSON_TYPE).headers(SECURITY_HEADERS).send(body);
  }

  /**
   * Auth and transport errors keep the API's `{code, message, details}`; a body that is not
   * JSON is OFREP's PARSE_ERROR and a context the input guard refused its INVALID_CONTEXT
   * (both with the API's fields alongside OFREP's).
   */
  private fail(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const key = (req.params as { key?: string } | undefined)?.key;
    const ofrep = ofrepFailure(err);
    if (ofrep) {
      const body = ofrepErrorBody(key, ofrep.errorCode, ofrep.message, ofrep.details);
      return reply.code(400).header('x-request-id', String(req.id)).type(JSON_TYPE).headers(SECURITY_HEADERS).send(JSON.stringify(body));
    }
    const { status, body, headers } = toErrorResponse(err, this.log);
    if (headers) void reply.headers(headers);
    if (status >= 500) {
      const general = { ...ofrepErrorBody(key, 'GENERAL', body.message, body.details as Record<string, unknown>), code: body.code };
      return reply.code(500).type(JSON_TYPE).headers(SECURITY_HEADERS).send(JSON.stringify(general));
    }
    return reply.code(status).header('x-request-id', String(req.id)).type(JSON_TYPE).headers(SECURITY_HEADERS).send(JSON.stringify(body));
  }
}

/** `If-None-Match` may list several tags, weak or not, or be `*`. */
function notModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function badBulk(reply: FastifyReply, details: string): FastifyReply {
  return reply.code(400).type(JSON_TYPE).headers(SECURITY_HEADERS).send(JSON.stringify(ofrepErrorBody(undefined, 'INVALID_CONTEXT', details)));
}

function send(reply: FastifyReply, out: EvalOutcome): FastifyReply {
  return reply.code(out.ok ? 200 : STATUS[out.errorCode]).type(JSON_TYPE).headers(SECURITY_HEADERS).send(out.ok ? out.json : out.httpJson);
}

const PARSE_CODES = new Set(['request.malformed_json', 'request.empty_body', 'request.invalid_utf8']);

/** The request errors OFREP has its own codes for. */
function ofrepFailure(err: unknown): { errorCode: ErrorCode; message: string; details: Record<string, unknown> } | null {
  if (err instanceof ValidationError) return { errorCode: 'INVALID_CONTEXT', message: err.message, details: { issues: err.issues } };
  if (err instanceof DomainError && PARSE_CODES.has(err.code)) return { errorCode: 'PARSE_ERROR', message: err.message, details: { ...(err.details as Record<string, unknown>) } };
  return null;
}
