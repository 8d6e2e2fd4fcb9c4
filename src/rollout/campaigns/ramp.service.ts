import { Injectable } from '@nestjs/common';
import { AuditService } from '../../core/audit/audit.service';
import { SYSTEM_ACTOR, type Actor } from '../../core/auth/auth.types';
import { Clock } from '../../core/clock/clock';
import { InvalidTransitionError, NotFoundError, VersionConflictError } from '../../core/errors/domain-error';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES } from '../../core/queue/queue.constants';
import { FlagsService } from '../../flags/flags.service';
import { planJobSpec } from './campaign-jobs';
import { CampaignsService } from './campaigns.service';
import type { CampaignStatus } from './campaigns.types';
import {
  ApprovalNotNeededError,
  ApprovalRequiredError,
  FinalStepError,
  NoRampPlanError,
  PassedStepChangedError,
  PointOfNoReturnError,
  PointOfNoReturnReasonError,
  RampNotActiveError,
  StepOutOfRangeError,
} from './ramp.errors';
import { approvalsMissing, firstChangedPassedStep, passedPointsOfNoReturn, stepPpm, type RampStep } from './ramp-plan';
import { RampRepository, type RampCampaign } from './ramp.repository';
import type { GuardrailRule } from './guardrails';

export const RAMP_ACTOR = SYSTEM_ACTOR('ramp-controller');

const OPERATOR_STATUSES: readonly CampaignStatus[] = ['running', 'paused'];
const SET_STEP_STATUSES: readonly CampaignStatus[] = ['running', 'paused', 'halted'];

interface Move {
  actor: Actor;
  action: string;
  reason?: string;
  expectedVersion: number;
  statuses: readonly CampaignStatus[];
  figures?: unknown;
}

function rampView(c: RampCampaign) {
  return { currentStep: c.currentStep, ppm: stepPpm(c.steps, c.currentStep), approvedStep: c.approvedStep, version: c.version };
}

/**
 * Operator actions on the ramp (plan, promote, approve, set step) and the controller's
 * automatic advance. The campaign row holds the step (compare-and-set on step AND version);
 * the admission flag's rollout follows it through FlagsService (audited there too). Raising:
 * campaign first, then the flag. Lowering: flag first (the planner stops admitting at once),
 * then the campaign with the demotion of unclaimed users. A crash in between is repaired by
 * the next tick, which re-aligns the flag with the step.
 */
@Injectable()
export class RampService {
  constructor(
    private readonly repo: RampRepository,
    private readonly campaigns: CampaignsService,
    private readonly flags: FlagsService,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
  ) {}

  async get(ref: string): Promise<RampCampaign> {
    const c = await this.campaigns.get(ref);
    const r = await this.repo.find(c.id);
    if (!r) throw new NotFoundError('campaign', ref);
    return r;
  }

  async setPlan(ref: string, input: { steps: RampStep[]; guardrails?: GuardrailRule[]; reason?: string }, expectedVersion: number, actor: Actor, action = 'campaign.ramp_plan_set'): Promise<RampCampaign> {
    const c = await this.get(ref);
    const changed = firstChangedPassedStep(c.steps, input.steps, c.currentStep);
    if (changed !== null) throw new PassedStepChangedError(changed);
    if (c.version !== expectedVersion) throw new VersionConflictError('campaign', expectedVersion, c.version);
    await this.repo.prisma.transaction(async (tx) => {
      if (!(await this.repo.setPlan(c.id, expectedVersion, { steps: input.steps, rules: input.guardrails }, tx))) throw new VersionConflictError('campaign', expectedVersion);
      await this.audit.record(
        {
          actor,
          action,
          entityType: 'campaign',
          entityId: String(c.id),
          before: { steps: c.steps, guardrails: c.rules },
          after: { steps: input.steps, guardrails: input.guardrails ?? c.rules },
          reason: input.reason ?? null,
        },
        tx,
      );
    });
    return this.get(String(c.id));
  }

  async setGuardrails(ref: string, input: { rules: GuardrailRule[]; reason?: string }, expectedVersion: number, actor: Actor): Promise<RampCampaign> {
    const c = await this.get(ref);
    return this.setPlan(String(c.id), { steps: c.steps, guardrails: input.rules, reason: input.reason }, expectedVersion, actor, 'campaign.guardrails_set');
  }

  /** Approves the next step. Approving an approved step again changes nothing. */
  async approve(ref: string, expectedVersion: number, actor: Actor, reason?: string): Promise<RampCampaign> {
    const c = await this.active(ref, OPERATOR_STATUSES);
    const next = c.currentStep + 1;
    if (next >= c.steps.length) throw new FinalStepError(c.currentStep);
    if (!c.steps[next].requiresApproval) throw new ApprovalNotNeededError(next);
    if (c.approvedStep >= next) return c;
    if (c.version !== expectedVersion) throw new VersionConflictError('campaign', expectedVersion, c.version);
    await this.repo.prisma.transaction(async (tx) => {
      if (!(await this.repo.setApproved(c.id, expectedVersion, next, tx))) throw new VersionConflictError('campaign', expectedVersion);
      await this.audit.record(
        { actor, action: 'campaign.ramp_step_approved', entityType: 'campaign', entityId: String(c.id), before: rampView(c), after: { ...rampView(c), approvedStep: next, approvedPpm: c.steps[next].ppm, version: c.version + 1 }, reason: reason ?? null },
        tx,
      );
    });
    return this.get(String(c.id));
  }

  /** Advances to the next step now, whatever its hold, backlog or guardrails say (approval still counts). */
  async promote(ref: string, expectedVersion: number, actor: Actor, reason?: string): Promise<RampCampaign> {
    const c = await this.active(ref, OPERATOR_STATUSES);
    const next = c.currentStep + 1;
    if (next >= c.steps.length) throw new FinalStepError(c.currentStep);
    const missing = approvalsMissing(c, next);
    if (missing.length > 0) throw new ApprovalRequiredError(missing, c.steps.length);
    await this.moveOrConflict(c, next, { actor, action: 'campaign.ramp_promoted', reason, expectedVersion, statuses: OPERATOR_STATUSES });
    return this.get(String(c.id));
  }

  /** Jumps to any step. Going below a passed point of no return needs an admin key and a reason. */
  async setStep(ref: string, step: number, expectedVersion: number, actor: Actor, reason?: string): Promise<RampCampaign> {
    const c = await this.active(ref, SET_STEP_STATUSES);
    if (step >= c.steps.length) throw new StepOutOfRangeError(step, c.steps.length);
    if (step === c.currentStep) return c;
    if (step > c.currentStep) {
      const missing = approvalsMissing(c, step);
      if (missing.length > 0) throw new ApprovalRequiredError(missing, c.steps.length);
    } else {
      const passed = passedPointsOfNoReturn(c.steps, c.currentStep, step);
      if (passed.length > 0 && actor.role !== 'admin') throw new PointOfNoReturnError(passed);
      if (passed.length > 0 && !reason) throw new PointOfNoReturnReasonError(passed);
    }
    await this.moveOrConflict(c, step, { actor, action: 'campaign.ramp_step_set', reason, expectedVersion, statuses: SET_STEP_STATUSES });
    return this.get(String(c.id));
  }

  flagOf(c: RampCampaign) {
    return this.flags.getFlagById(c.flagId);
  }

  /** Records why the ramp waits; starting to wait for an approval is audited, and so published, once. */
  async noteWait(c: RampCampaign, wait: { reason: string; detail: string } | null): Promise<void> {
    if (wait?.reason !== 'approval') {
      await this.repo.setRampWait(c.id, wait);
      return;
    }
    await this.repo.prisma.transaction(async (tx) => {
      if (!(await this.repo.setRampWait(c.id, wait, tx))) return;
      await this.audit.record(
        { actor: RAMP_ACTOR, action: 'campaign.ramp_approval_needed', entityType: 'campaign', entityId: String(c.id), after: { ...rampView(c), waitingFor: c.currentStep + 2 }, reason: wait.detail },
        tx,
      );
    });
  }

  /** The controller's advance; false when another controller (or an operator) got there first. */
  async advance(c: RampCampaign, to: number, why: string, figures: unknown): Promise<boolean> {
    return this.move(c, to, { actor: RAMP_ACTOR, action: 'campaign.ramp_advanced', reason: why, expectedVersion: c.version, statuses: ['running'], figures });
  }

  /** The controller's automatic completion; false when someone changed the campaign meanwhile. */
  async complete(c: RampCampaign, why: string): Promise<boolean> {
    try {
      await this.campaigns.act(String(c.id), 'complete', c.version, RAMP_ACTOR, why);
      return true;
    } catch (err) {
      if (err instanceof VersionConflictError || err instanceof InvalidTransitionError) return false;
      throw err;
    }
  }

  /**
   * Re-aligns the admission flag with the campaign's step (after a crash between the two
   * writes). `c` must have been read AFTER the flag at `flagVersion`; compare-and-set on that
   * version, so a flag someone changed meanwhile is left to the next tick. Returns whether it wrote.
   */
  async syncFlag(c: RampCampaign, flagKey: string, flagVersion: number): Promise<boolean> {
    try {
      await this.flags.setRollout(flagKey, { ppm: stepPpm(c.steps, c.currentStep) }, { actor: RAMP_ACTOR, reason: `re-aligned with ramp step ${c.currentStep + 1} of campaign ${c.key}`, expectedVersion: flagVersion });
      return true;
    } catch (err) {
      if (err instanceof VersionConflictError) return false;
      throw err;
    }
  }

  /** Ramp-admitted users above the step's ceiling that nobody claimed yet go back to legacy. */
  async enforceCeiling(c: RampCampaign): Promise<void> {
    const ppm = stepPpm(c.steps, c.currentStep);
    await this.repo.prisma.transaction(async (tx) => {
      const demoted = await this.repo.lowerCeiling(c.id, ppm, tx, c.currentStep);
      if (!demoted) return;
      await this.audit.record(
        { actor: RAMP_ACTOR, action: 'campaign.ramp_ceiling_enforced', entityType: 'campaign', entityId: String(c.id), before: { plannedPpm: c.plannedPpm }, after: { plannedPpm: ppm, currentStep: c.currentStep, demoted }, reason: `planned above step ${c.currentStep + 1}` },
        tx,
      );
    });
  }

  private async active(ref: string, statuses: readonly CampaignStatus[]): Promise<RampCampaign> {
    const c = await this.get(ref);
    if (c.steps.length === 0) throw new NoRampPlanError(c.key);
    if (!statuses.includes(c.status)) throw new RampNotActiveError(c.key, c.status);
    return c;
  }

  private async moveOrConflict(c: RampCampaign, to: number, m: Move): Promise<void> {
    if (c.version !== m.expectedVersion) throw new VersionConflictError('campaign', m.expectedVersion, c.version);
    if (!(await this.move(c, to, m))) throw new VersionConflictError('campaign', m.expectedVersion);
  }

  private async move(c: RampCampaign, to: number, m: Move): Promise<boolean> {
    const flag = await this.flags.getFlagById(c.flagId);
    const ppm = stepPpm(c.steps, to);
    // below the current step, or below what the flag admits now (a flag left above step 0 at start)
    const lowering = to < c.currentStep || ppm < flag.rolloutPpm;
    const flagCtx = { actor: m.actor, reason: `ramp step ${to + 1} of campaign ${c.key}${m.reason ? `: ${m.reason}` : ''}` };
    if (lowering) {
      // the flag moves before the compare-and-set here: check first that nobody moved the step meanwhile
      const fresh = await this.repo.find(c.id);
      if (!fresh || fresh.version !== m.expectedVersion || fresh.currentStep !== c.currentStep) return false;
      await this.flags.setRollout(flag.key, { ppm }, flagCtx);
    }
    const moved = await this.repo.prisma.transaction(async (tx) => {
      const ok = await this.repo.changeStep({ id: c.id, fromStep: c.currentStep, toStep: to, expectedVersion: m.expectedVersion, enteredAt: this.clock.now(), statuses: m.statuses }, tx);
      if (!ok) return false;
      const demoted = lowering ? await this.repo.lowerCeiling(c.id, ppm, tx) : undefined;
      await this.audit.record(
        {
          actor: m.actor,
          action: m.action,
          entityType: 'campaign',
          entityId: String(c.id),
          before: { ...rampView(c), flagRolloutPpm: flag.rolloutPpm },
          after: { currentStep: to, ppm, approvedStep: c.approvedStep, version: c.version + 1, figures: m.figures ?? null, demoted: demoted ?? null },
          reason: m.reason ?? null,
        },
        tx,
      );
      return true;
    });
    if (!moved) return false;
    if (!lowering) await this.flags.setRollout(flag.key, { ppm }, flagCtx);
    await this.jobs.add(QUEUES.control, planJobSpec(c.id, 'ramp'));
    return true;
  }
}
