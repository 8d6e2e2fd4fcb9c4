import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import { CurrentActor, Roles } from '../core/auth/auth.decorators';
import type { Actor } from '../core/auth/auth.types';
import { etagFor, versionFromIfMatch } from '../core/http/etag';
import { toJsonSafe } from '../core/json';
import { ZodBody, ZodParam, ZodQuery } from '../core/validation/zod.pipe';
import {
  createWebhookSchema,
  deleteWebhookSchema,
  listDeliveriesSchema,
  patchWebhookSchema,
  webhookIdSchema,
  type CreateWebhookInput,
  type DeleteWebhookInput,
  type ListDeliveriesInput,
  type PatchWebhookInput,
  type WebhookIdInput,
} from './webhooks.schemas';
import { WebhooksService, webhookView } from './webhooks.service';
import { Documented } from '../core/http/openapi/api-docs.decorators';
import { createdWebhookSchema, deliveryListSchema, webhookListSchema, webhookSchema } from './webhooks.responses';
import type { WebhookSubscription } from './webhooks.types';

function send(reply: FastifyReply, w: WebhookSubscription, status = 200): unknown {
  void reply.status(status).header('etag', etagFor(w.version));
  return toJsonSafe(webhookView(w));
}

/** Webhook subscriptions: notifications out for ramp, guardrail, lifecycle and kill events (admin). */
@ApiTags('webhooks')
@Controller('api/v1/webhooks')
@Roles('admin')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Documented('Subscribe a URL to events; the signing secret is in this answer only', createdWebhookSchema)
  @Post()
  async create(@Body(new ZodBody(createWebhookSchema)) body: CreateWebhookInput, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply) {
    const { webhook, secret } = await this.webhooks.create(body, actor);
    void reply.status(201).header('etag', etagFor(webhook.version));
    return { webhook: toJsonSafe(webhookView(webhook)), secret };
  }

  @Documented('List webhook subscriptions', webhookListSchema)
  @Get()
  async list() {
    return { items: toJsonSafe((await this.webhooks.list()).map(webhookView)) };
  }

  @Documented('One webhook subscription', webhookSchema)
  @Get(':id')
  async get(@Param(new ZodParam(webhookIdSchema)) p: WebhookIdInput, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.webhooks.get(p.id));
  }

  @Documented('Change a subscription (If-Match)', webhookSchema)
  @Patch(':id')
  async patch(
    @Param(new ZodParam(webhookIdSchema)) p: WebhookIdInput,
    @Body(new ZodBody(patchWebhookSchema)) body: PatchWebhookInput,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.webhooks.patch(p.id, body, versionFromIfMatch(ifMatch), actor));
  }

  @Documented('Delete a subscription (If-Match); its pending deliveries are cancelled', { schema: z.null(), status: 204, description: 'deleted' })
  @Delete(':id')
  @HttpCode(204)
  async remove(
    @Param(new ZodParam(webhookIdSchema)) p: WebhookIdInput,
    @Body(new ZodBody(deleteWebhookSchema)) body: DeleteWebhookInput,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.webhooks.remove(p.id, versionFromIfMatch(ifMatch), actor, body.reason);
  }

  @Documented('The latest deliveries, newest first: status, attempts, last HTTP status and error', deliveryListSchema)
  @Get(':id/deliveries')
  async deliveries(@Param(new ZodParam(webhookIdSchema)) p: WebhookIdInput, @Query(new ZodQuery(listDeliveriesSchema)) q: ListDeliveriesInput) {
    return { items: toJsonSafe(await this.webhooks.deliveries(p.id, q.limit)) };
  }
}
