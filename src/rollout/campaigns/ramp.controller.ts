import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentActor, Roles } from '../../core/auth/auth.decorators';
import type { Actor } from '../../core/auth/auth.types';
import { Clock } from '../../core/clock/clock';
import { etagFor, versionFromIfMatch } from '../../core/http/etag';
import { KillSwitch } from '../../core/http/input-guard';
import { toJsonSafe } from '../../core/json';
import { ZodBody, ZodParam } from '../../core/validation/zod.pipe';
import { actionBodySchema, campaignRefSchema, haltBodySchema, type ActionBodyInput, type CampaignRefInput, type HaltBodyInput } from './campaigns.schemas';
import { CampaignsService } from './campaigns.service';
import type { CampaignAction } from './campaigns.types';
import { holdRemainingMs, needsApproval, stepPpm } from './ramp-plan';
import type { RampCampaign } from './ramp.repository';
import {
  rampActionSchema,
  setGuardrailsSchema,
  setRampSchema,
  setStepSchema,
  type RampActionInput,
  type SetGuardrailsInput,
  type SetRampInput,
  type SetStepInput,
} from './ramp.schemas';
import { RampService } from './ramp.service';
import type { GuardrailRule } from './guardrails';
import { GuardrailQueryError } from './ramp.errors';
import { PrometheusClient } from './prometheus.client';
import { Documented } from '../../core/http/openapi/api-docs.decorators';
import { campaignSchema, rampSchema } from './campaigns.responses';

const IdParam = () => Param(new ZodParam(campaignRefSchema));
type Reply = FastifyReply;

/**
 * The ramp of a campaign: plan and guardrails (PUT), promote / approve / set-step, and the
 * lifecycle actions under /ramp as aliases of the campaign's own (same service, same audit).
 * `/:id/promote` and `/:id/approve` are kept as aliases: the CLI and dashboard call them.
 */
@ApiTags('ramp')
@Controller('api/v1/campaigns')
export class RampController {
  constructor(
    private readonly ramp: RampService,
    private readonly campaigns: CampaignsService,
    private readonly prometheus: PrometheusClient,
    private readonly clock: Clock,
  ) {}

  @Documented('Read the ramp: steps, current step, hold remaining, next step, guardrails', rampSchema)
  @Get(':id/ramp')
  @Roles('viewer')
  async get(@IdParam() p: CampaignRefInput, @Res({ passthrough: true }) reply: Reply) {
    const c = await this.ramp.get(p.id);
    void reply.header('etag', etagFor(c.version));
    return this.view(c);
  }

  @Documented('Replace the ramp plan (and optionally the guardrails) (If-Match)', rampSchema)
  @Put(':id/ramp')
  @Roles('operator')
  async setPlan(@IdParam() p: CampaignRefInput, @Body(new ZodBody(setRampSchema)) b: SetRampInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: Reply) {
    await this.checkQueries(b.guardrails ?? [], 'guardrails');
    const c = await this.ramp.setPlan(p.id, b, versionFromIfMatch(m), a);
    void r.header('etag', etagFor(c.version));
    return this.view(c);
  }

  @Documented('Replace the guardrail rules (If-Match)', rampSchema)
  @Put(':id/guardrails')
  @Roles('operator')
  async setGuardrails(@IdParam() p: CampaignRefInput, @Body(new ZodBody(setGuardrailsSchema)) b: SetGuardrailsInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: Reply) {
    await this.checkQueries(b.rules, 'rules');
    const c = await this.ramp.setGuardrails(p.id, b, versionFromIfMatch(m), a);
    void r.header('etag', etagFor(c.version));
    return this.view(c);
  }

  @Documented('Advance to the next step now, ignoring the hold (If-Match)', campaignSchema)
  @Post([':id/ramp/promote', ':id/promote'])
  @HttpCode(200)
  @Roles('operator')
  async promote(@IdParam() p: CampaignRefInput, @Body(new ZodBody(rampActionSchema)) b: RampActionInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: Reply) {
    await this.ramp.promote(p.id, versionFromIfMatch(m), a, b.reason);
    return this.campaign(p.id, r);
  }

  /** Approval is a second pair of eyes: an admin key. */
  @Documented('Approve the next step, which requires approval (If-Match)', campaignSchema)
  @Post([':id/ramp/approve', ':id/approve'])
  @HttpCode(200)
  @Roles('admin')
  async approve(@IdParam() p: CampaignRefInput, @Body(new ZodBody(rampActionSchema)) b: RampActionInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: Reply) {
    await this.ramp.approve(p.id, versionFromIfMatch(m), a, b.reason);
    return this.campaign(p.id, r);
  }

  @Documented('Move to a given step (0-based) (If-Match)', campaignSchema)
  @Post(':id/ramp/set-step')
  @HttpCode(200)
  @Roles('operator')
  async setStep(@IdParam() p: CampaignRefInput, @Body(new ZodBody(setStepSchema)) b: SetStepInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: Reply) {
    await this.ramp.setStep(p.id, b.step, versionFromIfMatch(m), a, b.reason);
    return this.campaign(p.id, r);
  }

  @Documented('Pause the campaign (alias of POST /campaigns/{id}/pause) (If-Match)', campaignSchema)
  @Post(':id/ramp/pause')
  @KillSwitch()
  @HttpCode(200)
  @Roles('operator')
  pause(@IdParam() p: CampaignRefInput, @Body(new ZodBody(actionBodySchema)) b: ActionBodyInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: Reply) {
    return this.act(p.id, 'pause', m, a, r, b.reason);
  }

  @Documented('Resume the campaign (alias of POST /campaigns/{id}/resume) (If-Match)', campaignSchema)
  @Post(':id/ramp/resume')
  @HttpCode(200)
  @Roles('operator')
  resume(@IdParam() p: CampaignRefInput, @Body(new ZodBody(actionBodySchema)) b: ActionBodyInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: Reply) {
    return this.act(p.id, 'resume', m, a, r, b.reason);
  }

  @Documented('Halt the campaign (alias of POST /campaigns/{id}/halt) (If-Match)', campaignSchema)
  @Post(':id/ramp/halt')
  @KillSwitch()
  @HttpCode(200)
  @Roles('operator')
  halt(@IdParam() p: CampaignRefInput, @Body(new ZodBody(haltBodySchema)) b: HaltBodyInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: Reply) {
    return this.act(p.id, 'halt', m, a, r, b.reason);
  }

  /** Prometheus parses every PromQL query before it is saved; its 400 message goes back to the operator. */
  private async checkQueries(rules: readonly GuardrailRule[], field: string): Promise<void> {
    for (const [i, r] of rules.entries()) {
      if (r.metric !== 'prometheus') continue;
      const v = await this.prometheus.validate(r.query ?? '', r.windowSeconds);
      if (v.ok) continue;
      const at = `body.${field}.${i}.query`;
      if (v.kind === 'invalid') throw new GuardrailQueryError(400, 'guardrail.invalid_promql', at, v.message);
      if (v.kind === 'not_configured') throw new GuardrailQueryError(400, 'guardrail.prometheus_not_configured', at, v.message);
      throw new GuardrailQueryError(503, 'guardrail.prometheus_unreachable', at, `${v.message}; the query could not be checked, try again`);
    }
  }

  private async act(ref: string, action: CampaignAction, ifMatch: string | undefined, actor: Actor, reply: Reply, reason?: string) {
    await this.campaigns.act(ref, action, versionFromIfMatch(ifMatch), actor, reason);
    return this.campaign(ref, reply);
  }

  private async campaign(ref: string, reply: Reply) {
    const c = await this.campaigns.get(ref);
    void reply.header('etag', etagFor(c.version));
    return toJsonSafe(c);
  }

  private view(c: RampCampaign) {
    const now = this.clock.now();
    const next = c.currentStep + 1 < c.steps.length ? c.currentStep + 1 : null;
    const remaining = holdRemainingMs(c, now);
    return toJsonSafe({
      campaignId: c.id,
      key: c.key,
      status: c.status,
      version: c.version,
      steps: c.steps,
      currentStep: c.currentStep,
      currentPpm: stepPpm(c.steps, c.currentStep),
      stepEnteredAt: c.stepEnteredAt,
      holdRemainingSeconds: remaining === null ? null : Math.ceil(remaining / 1000),
      approvedStep: c.approvedStep,
      next: next === null ? null : { step: next, ppm: c.steps[next].ppm, requiresApproval: c.steps[next].requiresApproval, awaitingApproval: needsApproval(c, next) },
      admittedPpm: c.admittedPpm,
      plannedPpm: c.plannedPpm,
      guardrails: c.rules,
      guardrailState: c.guardrailState,
      paceUsersPerSecond: c.paceUsersPerSecond,
    });
  }
}
