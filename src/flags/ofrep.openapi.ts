import { z } from 'zod';
import type { ExtraPaths } from '../core/http/openapi/api-document';
import type { SchemaRegistry } from '../core/http/openapi/schema-registry';
import { errorBodySchema } from '../core/errors/error-body.schema';
import { ERROR_CODES, REASONS } from './evaluator';
import { bulkQuerySchema, conversationSchema, ofrepKeySchema } from './ofrep.schemas';

const contextSchema = z
  .object({
    targetingKey: z.string().meta({ description: 'the user id', example: '123456789' }).optional(),
    conversation: conversationSchema
      .meta({ description: 'Evaluate for a conversation: on only when every participant is enabled (ratchet) or in the rollout and `e2eeCapable`; the answer names the first participant who is not (`metadata.notReadyParticipant`, `notReadyReason`).' })
      .optional(),
  })
  .catchall(z.unknown())
  .meta({ id: 'OfrepContext', description: 'The evaluation context: `targetingKey` and any attributes the targeting rules read.' });

const requestSchema = z.object({ context: contextSchema.optional() }).meta({ id: 'OfrepRequest' });

const evaluationSchema = z
  .object({
    key: z.string(),
    value: z.union([z.boolean(), z.string()]).optional().meta({ description: 'boolean or string, per the flag' }),
    reason: z.enum(REASONS).optional(),
    variant: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()).optional().meta({ description: 'flagVersion; `ratchet: enabled` when the user is already migrated' }),
    errorCode: z.enum(ERROR_CODES).optional(),
    errorDetails: z.string().optional(),
  })
  .meta({ id: 'OfrepEvaluation', example: { key: 'e2ee-default', value: true, reason: 'SPLIT', variant: 'on', metadata: { flagVersion: 3 } } });

const errorSchema = z
  .object({ key: z.string().optional(), errorCode: z.enum(ERROR_CODES), errorDetails: z.string() })
  .extend(errorBodySchema.shape)
  .meta({ id: 'OfrepError', description: "OFREP's error fields with the API's `{ code, message, details }` alongside" });

const eventStreamsSchema = z
  .array(
    z.object({
      type: z.literal('sse'),
      endpoint: z.object({ requestUri: z.string().meta({ example: '/ofrep/v1/events?token=abcd1234.…' }) }),
      inactivityDelaySec: z.number().int().min(1).meta({ example: 120 }),
    }),
  )
  .meta({ description: 'OFREP event streams (ADR 0008): connect to `endpoint.requestUri` on the OFREP origin and re-fetch on each `refetchEvaluation` message' });

const bulkSchema = z.object({ flags: z.array(evaluationSchema), eventStreams: eventStreamsSchema.optional() }).meta({ id: 'OfrepBulkEvaluation' });

const headerParam = (name: string, description: string) => ({ name, in: 'header', required: false, description, schema: { type: 'string' } });

function authErrors(r: SchemaRegistry) {
  const err = (description: string) => ({ description, content: { 'application/json': { schema: r.schema(errorBodySchema, 'output') } } });
  return {
    '401': err('missing, unknown or revoked API key'),
    '403': err('a key without the evaluator role (or higher)'),
    '429': err('too many failed authentications from this address'),
  };
}

/** The OFREP routes of ofrep.routes.ts, for /docs, from the schemas the routes and the evaluator use. */
export const ofrepOpenApiPaths: ExtraPaths = (r) => {
  const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema: r.schema(schema, 'output') } } });
  const requestBody = { required: false, content: { 'application/json': { schema: r.schema(requestSchema, 'input') } } };
  const security = [{ bearer: [] }];
  const refetchQuery = r.properties(bulkQuerySchema).map((p) => ({ name: p.name, in: 'query', required: false, schema: p.schema }));
  return {
    '/ofrep/v1/evaluate/flags/{key}': {
      post: {
        tags: ['ofrep'],
        operationId: 'ofrep_evaluateFlag',
        summary: 'Evaluate one flag (OpenFeature Remote Evaluation Protocol)',
        security,
        parameters: [{ name: 'key', in: 'path', required: true, schema: r.schema(ofrepKeySchema, 'input') }],
        requestBody,
        responses: {
          '200': json(evaluationSchema, 'the evaluation'),
          '400': json(errorSchema, 'TARGETING_KEY_MISSING, INVALID_CONTEXT or PARSE_ERROR'),
          '404': json(errorSchema, 'FLAG_NOT_FOUND'),
          ...authErrors(r),
        },
      },
    },
    '/ofrep/v1/evaluate/flags': {
      post: {
        tags: ['ofrep'],
        operationId: 'ofrep_evaluateFlags',
        summary: 'Evaluate every live flag; ETag, and 304 on a matching If-None-Match',
        security,
        parameters: [headerParam('If-None-Match', 'the ETag of the last bulk answer'), ...refetchQuery],
        requestBody,
        responses: {
          '200': json(bulkSchema, 'every flag, with an ETag header'),
          '304': { description: 'the ETag sent in If-None-Match still matches' },
          '400': json(errorSchema, 'INVALID_CONTEXT or PARSE_ERROR'),
          ...authErrors(r),
        },
      },
    },
    '/ofrep/v1/events': {
      get: {
        tags: ['ofrep'],
        operationId: 'ofrep_events',
        summary: 'Server-sent events (OFREP ADR 0008): a `refetchEvaluation` message on every flag configuration change',
        description:
          'Authenticate with `Authorization: Bearer <key>` or with the `token` the bulk answer puts in `eventStreams` (for EventSource). Each message: `id: <etag>`, `event: message`, `data: {"type":"refetchEvaluation","etag":"…","lastModified":<unix s>,"keys":[…]}`; `Last-Event-ID` older than the current etag gets one message at once.',
        security,
        parameters: [{ name: 'token', in: 'query', required: false, schema: { type: 'string' } }, headerParam('Last-Event-ID', 'the id of the last message received')],
        responses: { '200': { description: 'a stream of server-sent events', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...authErrors(r) },
      },
    },
  };
};
