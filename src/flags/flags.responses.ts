import { z } from 'zod';
import { dateTime, idString, nullableDateTime, pageOf } from '../core/http/openapi/response-schemas';
import { REASONS } from './evaluator';
import { OPERATORS } from './flags.types';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const ruleView = z.object({
  name: z.string().optional(),
  conditions: z.array(z.object({ attribute: z.string(), operator: z.enum(OPERATORS), value: scalar.optional(), values: z.array(scalar).optional() })),
  variant: z.string().optional(),
  rollout: z.object({ ppm: z.number().int(), variant: z.string() }).optional(),
});

export const flagSchema = z
  .object({
    id: idString,
    key: z.string(),
    description: z.string(),
    kind: z.enum(['boolean', 'string']),
    variants: z.record(z.string(), z.union([z.boolean(), z.string()])),
    offVariant: z.string(),
    rolloutVariant: z.string(),
    rules: z.array(ruleView),
    rolloutPpm: z.number().int().min(0).max(1_000_000),
    rolloutPercent: z.number().min(0).max(100),
    salt: z.string(),
    hashVersion: z.number().int(),
    killed: z.boolean(),
    killReason: z.string().nullable(),
    killedAt: nullableDateTime,
    archivedAt: nullableDateTime,
    version: z.number().int().meta({ description: 'also in the ETag header; send it back as If-Match on the next write' }),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({
    id: 'Flag',
    example: {
      id: '1', key: 'e2ee-default', description: 'E2EE by default', kind: 'boolean', variants: { on: true, off: false }, offVariant: 'off', rolloutVariant: 'on', rules: [],
      rolloutPpm: 10_000, rolloutPercent: 1, salt: 'e2ee-default', hashVersion: 1, killed: false, killReason: null, killedAt: null, archivedAt: null, version: 3,
      createdAt: '2026-01-05T09:00:00.000Z', updatedAt: '2026-01-06T10:30:00.000Z',
    },
  });

export const flagPageSchema = pageOf(flagSchema).meta({ id: 'FlagPage' });

export const conversationAnswerSchema = z
  .object({
    flag: z.string(),
    flagVersion: z.number().int(),
    killed: z.boolean(),
    conversationId: z.string(),
    on: z.boolean().meta({ description: 'E2EE applies: every participant is ready' }),
    value: z.union([z.boolean(), z.string()]),
    variant: z.string(),
    reason: z.enum(REASONS),
    notReady: z.object({ participant: z.string(), reason: z.string() }).nullable().meta({ description: 'the first participant who holds the conversation back' }),
    participants: z.array(
      z.object({
        targetingKey: z.string(),
        bucket: z.number().int(),
        variant: z.string(),
        capable: z.boolean(),
        ratchetEnabled: z.boolean(),
        ready: z.boolean(),
        why: z.enum(['flag_killed', 'not_in_rollout', 'not_capable']).nullable(),
      }),
    ),
  })
  .meta({ id: 'ConversationEvaluation' });
