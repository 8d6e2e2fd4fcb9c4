import type { OpenApiPaths } from '../core/http/openapi-extras';

const context = {
  type: 'object',
  description: 'The evaluation context: `targetingKey` (the user id) and any attributes the targeting rules read.',
  properties: { targetingKey: { type: 'string', example: '123456789' } },
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
      parameters: [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
      requestBody,
      responses: {
        '200': json({ type: 'object', properties: { flags: { type: 'array', items: evaluation } } }, 'every flag, with an ETag header'),
        '304': { description: 'the ETag sent in If-None-Match still matches' },
        '400': json({ type: 'object', properties: { errorCode: { type: 'string' }, errorDetails: { type: 'string' } } }, 'INVALID_CONTEXT or PARSE_ERROR'),
        ...authErrors,
      },
    },
  },
  '/ofrep/v1/events': {
    get: {
      tags: ['ofrep'],
      summary: 'Server-sent events: `flags_changed` with the changed keys, so that clients re-fetch',
      security,
      responses: { '200': { description: 'text/event-stream: `ready`, then `flags_changed` events `{"keys":[...]}` and keep-alive comments', content: { 'text/event-stream': {} } }, ...authErrors },
    },
  },
};
