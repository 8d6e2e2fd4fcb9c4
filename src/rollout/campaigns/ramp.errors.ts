import { ConflictError, DomainError } from '../../core/errors/domain-error';

/** Messages name steps as people count them (from 1); `details` carry the API's 0-based indexes. */
const named = (steps: number[]) => steps.map((s) => s + 1).join(', ');

export class NoRampPlanError extends ConflictError {
  constructor(key: string) {
    super('ramp.no_plan', `campaign ${key} has no ramp plan; set one with PUT /api/v1/campaigns/${key}/ramp`);
  }
}

export class StepOutOfRangeError extends ConflictError {
  constructor(step: number, steps: number) {
    super('ramp.step_out_of_range', `step index ${step} does not exist (the plan has ${steps} steps, indexes 0..${steps - 1})`, { step, steps });
  }
}

export class FinalStepError extends ConflictError {
  constructor(step: number) {
    super('ramp.final_step', `step ${step + 1} is the last step of the plan; there is nothing to promote to`, { step });
  }
}

export class ApprovalRequiredError extends ConflictError {
  constructor(steps: number[], count: number) {
    super('ramp.approval_required', `step ${named(steps)} of ${count} requires approval first: POST .../ramp/approve`, { steps });
  }
}

export class ApprovalNotNeededError extends ConflictError {
  constructor(step: number) {
    super('ramp.approval_not_required', `the next step (step ${step + 1}) does not require approval`, { step });
  }
}

/** Going below a passed point of no return: an admin key is needed (403). */
export class PointOfNoReturnError extends DomainError {
  readonly status = 403;
  constructor(steps: number[]) {
    super('ramp.point_of_no_return', `step ${named(steps)} is a point of no return already passed; only an admin key may go below it, with a reason`, { steps });
  }
}

/** An admin going below a passed point of no return must say why (409). */
export class PointOfNoReturnReasonError extends ConflictError {
  constructor(steps: number[]) {
    super('ramp.point_of_no_return_reason_required', `going below the point of no return at step ${named(steps)} needs a reason`, { steps });
  }
}

export class PassedStepChangedError extends ConflictError {
  constructor(step: number) {
    super('ramp.passed_step_changed', `step ${step + 1} was already entered; its ppm cannot change (lower with set-step first)`, { step });
  }
}

export class RampNotActiveError extends ConflictError {
  constructor(key: string, status: string) {
    super('ramp.not_active', `campaign ${key} is ${status}; ramp steps change only while it is running or paused`, { status });
  }
}

/** Explain: the user exists but is not in the campaign's population (404: nothing to explain). */
export class UserNotInCampaignError extends DomainError {
  readonly status = 404;
  constructor(userId: bigint, key: string) {
    super('campaign.user_not_in_population', `user ${userId} is not in the population of campaign ${key}`, { userId: String(userId) });
  }
}

/** A prometheus guardrail Prometheus itself refused (its own parse message), or one this server cannot check. */
export class GuardrailQueryError extends DomainError {
  constructor(
    readonly status: 400 | 503,
    code: 'guardrail.invalid_promql' | 'guardrail.prometheus_not_configured' | 'guardrail.prometheus_unreachable',
    field: string,
    message: string,
  ) {
    super(code, `${field}: ${message}`, [{ field, message }]);
  }
}
