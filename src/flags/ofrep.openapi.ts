import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { OpenApiPaths } from '../core/http/openapi-extras';

const participantSchemas: SchemaObject[] = [
  { type: 'string', description: 'a user id' },
  { type: 'object', required: ['targetingKey'], properties: { targetingKey: { type: 'string' }, e2eeCapable: { type: 'boolean' } }, additionalProperties: true },
];

const conversationContext: SchemaObject = {
  type: 'object',
  description: 'Evaluate for a conversation: on only when every participant is enabled (ratchet) or in the rollout and `e2eeCapable`; the answer names the first participant who is not (`metadata.notReadyParticipant`, `notReadyReason`). At most 32 participants.',
  required: ['id', 'participants'],
  properties: {
    id: { type: 'string', maxLength: 200 },
    participants: {
      type: 'array',
      minItems: 1,
      maxItems: 32,
      items: { oneOf: participantSchemas },
    },
  },
};

const context = {
  type: 'object',
  description: 'The evaluation context: `targetingKey` (the user id) and any attributes the targeting rules read.',
  properties: {
    targetingKey: { type: 'string', example: '123456789' },
    conversation: conversationContext,
  },
  additionalProperties: true,
} as const;

const requestBody = {
  required: false,
  content: { 'application/json': { schema: { type: 'object', properties: { context } } } },
};

const evaluation = {
  type: 'object',
  required: ['key'],
  properties: {
    key: { type: 'string' },
    value: { description: 'boolean or string, per the flag' },
    reason: { type: 'string', enum: ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'DISABLED', 'ERROR'] },
    variant: { type: 'string' },
    metadata: { type: 'object', additionalProperties: true, description: 'flagVersion; `ratchet: enabled` when the user is already migrated' },
    errorCode: { type: 'string', enum: ['TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'PARSE_ERROR', 'FLAG_NOT_FOUND', 'GENERAL'] },
    errorDetails: { type: 'string' },
  },
} as const;

const eventStreams = {
  type: 'array',
  description: 'OFREP event streams (ADR 0008): connect to `endpoint.requestUri` on the OFREP origin and re-fetch on each `refetchEvaluation` message',
  items: {
    type: 'object',
    required: ['type'],
    properties: {
      type: { type: 'string', example: 'sse' },
      endpoint: { type: 'object', required: ['requestUri'], properties: { requestUri: { type: 'string', example: '/ofrep/v1/events?token=abcd1234.…' } } },
      inactivityDelaySec: { type: 'integer', minimum: 1, example: 120 },
    },
  },
} as const;

const refetchQuery = [
  { name: 'flagConfigEtag', in: 'query' as const, required: false, description: 'the `etag` of the event that triggered this re-fetch; a replica holding another configuration re-reads the flags first', schema: { type: 'string' } },
  { name: 'flagConfigLastModified', in: 'query' as const, required: false, description: 'the `lastModified` of that event: Unix seconds or an ISO 8601 date-time', schema: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', format: 'date-time' }] } },
];

const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const authErrors = { '401': { description: 'missing, unknown or revoked API key' }, '403': { description: 'a key without the evaluator role (or higher)' }, '429': { description: 'too many failed authentications from this address' } };
const security = [{ bearer: [] }];

/** The OFREP routes of src/flags/ofrep.routes.ts, for /docs. */
export const OFREP_OPENAPI_PATHS: OpenApiPaths = {
  '/ofrep/v1/evaluate/flags/{key}': {
    post: {
      tags: ['ofrep'],
      summary: 'Evaluate one flag (OpenFeature Remote Evaluation Protocol)',
      security,
      parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody,
      responses: {
        '200': json(evaluation, 'the evaluation'),
        '400': json(evaluation, 'TARGETING_KEY_MISSING, INVALID_CONTEXT or PARSE_ERROR'),
        '404': json(evaluation, 'FLAG_NOT_FOUND'),
        ...authErrors,
      },
    },
  },
  '/ofrep/v1/evaluate/flags': {
    post: {
      tags: ['ofrep'],
      summary: 'Evaluate every live flag; ETag, and 304 on a matching If-None-Match',
      security,
      parameters: [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }, ...refetchQuery],
      requestBody,
      responses: {
        '200': json({ type: 'object', properties: { flags: { type: 'array', items: evaluation }, eventStreams } }, 'every flag, with an ETag header'),
        '304': { description: 'the ETag sent in If-None-Match still matches' },
        '400': json({ type: 'object', properties: { errorCode: { type: 'string' }, errorDetails: { type: 'string' } } }, 'INVALID_CONTEXT or PARSE_ERROR'),
        ...authErrors,
      },
    },
  },
  '/ofrep/v1/events': {
    get: {
      tags: ['ofrep'],
      summary: 'Server-sent events (OFREP ADR 0008): a `refetchEvaluation` message on every flag configuration change',
      description:
        'Authenticate with `Authorization: Bearer <key>` or with the `token` the bulk answer puts in `eventStreams` (for EventSource). Each message: `id: <etag>`, `event: message`, `data: {"type":"refetchEvaluation","etag":"…","lastModified":<unix s>,"keys":[…]}`; `Last-Event-ID` older than the current etag gets one message at once.',
      security,
      parameters: [{ name: 'token', in: 'query', required: false, schema: { type: 'string' } }, { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } }],
      responses: { '200': { description: 'text/event-stream', content: { 'text/event-stream': {} } }, ...authErrors },
    },
  },
};
