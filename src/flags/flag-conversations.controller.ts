import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Roles } from '../core/auth/auth.decorators';
import { ServesWithoutRedis } from '../core/health/readiness';
import { NotFoundError } from '../core/errors/domain-error';
import { ZodBody, ZodParam } from '../core/validation/zod.pipe';
import { ConversationEvaluationService, toConversation } from './conversation-evaluation.service';
import { FlagSnapshotService } from './flag-snapshot.service';
import { flagKeyParamSchema } from './flags.schemas';
import { conversationSchema } from './ofrep.schemas';
import { Documented } from '../core/http/openapi/api-docs.decorators';
import { conversationAnswerSchema } from './flags.responses';

const conversationBodySchema = z.strictObject({ conversation: conversationSchema });
type ConversationBody = z.infer<typeof conversationBodySchema>;

/**
 * The operators' read of a conversation: the answer OFREP gives for it plus, for every
 * participant, what holds them back (bucket, variant, capability, ratchet), from this
 * replica's snapshot and one Redis round trip.
 */
@ApiTags('flags')
@Controller('api/v1/flags')
export class FlagConversationsController {
  constructor(
    private readonly conversations: ConversationEvaluationService,
    private readonly snapshot: FlagSnapshotService,
  ) {}

  @Documented('Explain a conversation: whether E2EE applies, and what holds each participant back', conversationAnswerSchema)
  @Post(':key/conversations/evaluate')
  @ServesWithoutRedis()
  @Roles('viewer')
  @HttpCode(200)
  async evaluate(@Param(new ZodParam(flagKeyParamSchema)) p: { key: string }, @Body(new ZodBody(conversationBodySchema)) body: ConversationBody) {
    const f = this.snapshot.get(p.key);
    if (!f) throw new NotFoundError('flag', p.key);
    const conv = toConversation(body.conversation);
    const { outcome, participants } = await this.conversations.explain(f, conv);
    if (!outcome.ok) throw new Error(outcome.errorDetails); // the schema requires every participant's targetingKey
    const blocker = participants.find((x) => !x.ready);
    return {
      flag: f.key,
      flagVersion: f.version,
      killed: f.killed,
      conversationId: conv.id,
      on: blocker === undefined,
      value: outcome.value,
      variant: outcome.variant,
      reason: outcome.reason,
      notReady: blocker ? { participant: conv.participants[blocker.index].targetingKey, reason: blocker.why } : null,
      participants: participants.map((x) => ({
        targetingKey: conv.participants[x.index].targetingKey,
        bucket: x.bucket,
        variant: x.variant,
        capable: conv.participants[x.index].capable,
        ratchetEnabled: x.ratchetEnabled,
        ready: x.ready,
        why: x.ready ? null : x.why,
      })),
    };
  }
}
