import { Injectable } from '@nestjs/common';
import { PrismaService, type Db } from '../../core/database/prisma.service';
import { addCounters } from '../migration/counters';
import type { CampaignStatus, Pacing } from './campaigns.types';
import type { WalSample } from './guardrail-signals.service';
import { rulesOf, type BacklogFigures, type GuardrailRule, type Measured, type QueryFailure, type Trip, type WindowFigures } from './guardrails';
import type { RampThroughput } from './pace';
import { stepsOf, type RampStep } from './ramp-plan';
import { move } from '../state/migration-states';

const STEP_BACK = move('ramp step back', { eligible: ['legacy'], ineligible: ['legacy'] });

/** The columns of a campaign the ramp controller reads. */
export interface RampCampaign {
  id: bigint;
  key: string;
  status: CampaignStatus;
  version: number;
  flagId: bigint;
  pacing: Pacing;
  steps: RampStep[];
  rules: GuardrailRule[];
  currentStep: number;
  stepEnteredAt: Date | null;
  approvedStep: number;
  admittedPpm: number;
  plannedPpm: number;
  paceUsersPerSecond: number;
  guardrailState: GuardrailStateJson;
  materializedAt: Date | null;
  autoComplete: boolean;
}

/** campaigns.guardrail_state (read by progress and the dashboard). */
export interface GuardrailStateJson {
  healthy?: boolean;
  throttled?: boolean;
  verdict?: string;
  trips?: Trip[];
  measured?: Measured[];
  /** external reads (Prometheus, database health) that failed at the last evaluation */
  failures?: QueryFailure[];
  walSample?: WalSample;
  evaluatedAt?: string;
  /** after a pause/halt trip, windows start here (so a resume is judged on fresh batches) */
  windowStartAt?: string | null;
  paceDirection?: string;
  rampWait?: { reason: string; detail: string } | null;
}

interface Row {
  id: bigint;
  key: string;
  status: CampaignStatus;
  version: number;
  flagId: bigint;
  pacing: unknown;
  rampPlan: unknown;
  guardrails: unknown;
  currentStep: number;
  stepEnteredAt: Date | null;
  approvedStep: number;
  admittedPpm: number;
  plannedPpm: number;
  paceUsersPerSecond: number;
  guardrailState: unknown;
  materializedAt: Date | null;
  autoComplete: boolean;
}

function toRamp(r: Row): RampCampaign {
  return {
    ...r,
    pacing: r.pacing as Pacing,
    steps: stepsOf(r.rampPlan),
    rules: rulesOf(r.guardrails),
    guardrailState: (r.guardrailState ?? {}) as GuardrailStateJson,
  };
}

export interface StepChange {
  id: bigint;
  fromStep: number;
  toStep: number;
  expectedVersion: number;
  enteredAt: Date;
  statuses: readonly CampaignStatus[];
}

@Injectable()
export class RampRepository {
  constructor(readonly prisma: PrismaService) {}

  async find(id: bigint, db: Db = this.prisma.client): Promise<RampCampaign | null> {
    const [r] = await db.$queryRaw<Row[]>`
      SELECT id, key, status::text AS status, version, flag_id AS "flagId", pacing, ramp_plan AS "rampPlan", guardrails,
             current_step AS "currentStep", step_entered_at AS "stepEnteredAt", approved_step AS "approvedStep",
             admitted_ppm AS "admittedPpm", planned_ppm AS "plannedPpm", pace_users_per_second AS "paceUsersPerSecond",
             guardrail_state AS "guardrailState", materialized_at AS "materializedAt", auto_complete AS "autoComplete"
      FROM campaigns WHERE id = ${id}`;
    return r ? toRamp(r) : null;
  }

  /** Campaigns the controller looks at: running or paused (a small table). */
  async activeIds(): Promise<bigint[]> {
    const rows = await this.prisma.client.$queryRaw<Array<{ id: bigint }>>`
      SELECT id FROM campaigns WHERE status IN ('running', 'paused') ORDER BY id`;
    return rows.map((r) => r.id);
  }

  /**
   * THE step change: compare-and-set on the step index AND the campaign version in one
   * statement, so that of two controllers (or an operator and a controller) exactly one wins.
   */
  async changeStep(c: StepChange, db: Db): Promise<boolean> {
    const n = await db.$executeRaw`
      UPDATE campaigns SET current_step = ${c.toStep}, step_entered_at = ${c.enteredAt}, version = version + 1, updated_at = clock_timestamp()
      WHERE id = ${c.id} AND current_step = ${c.fromStep} AND version = ${c.expectedVersion}
        AND status::text = ANY(${[...c.statuses]}::text[])`;
    return n === 1;
  }

  async setApproved(id: bigint, expectedVersion: number, approvedStep: number, db: Db): Promise<boolean> {
    const n = await db.$executeRaw`
      UPDATE campaigns SET approved_step = ${approvedStep}, version = version + 1, updated_at = clock_timestamp()
      WHERE id = ${id} AND version = ${expectedVersion} AND approved_step < ${approvedStep}`;
    return n === 1;
  }

  async setPlan(id: bigint, expectedVersion: number, plan: { steps: RampStep[]; rules?: GuardrailRule[] }, db: Db): Promise<boolean> {
    const n = await db.$executeRaw`
      UPDATE campaigns SET ramp_plan = ${JSON.stringify(plan.steps)}::jsonb,
        guardrails = CASE WHEN ${plan.rules !== undefined} THEN ${JSON.stringify(plan.rules ?? [])}::jsonb ELSE guardrails END,
        version = version + 1, updated_at = clock_timestamp()
      WHERE id = ${id} AND version = ${expectedVersion}`;
    return n === 1;
  }

  /**
   * Observed state, not configuration: no version bump (operators' ETags stay valid).
   * Compare-and-set on the previous state, so that of two controllers evaluating the same
   * tick only one records (and audits) a trip.
   */
  async casObserved(id: bigint, previous: GuardrailStateJson, next: GuardrailStateJson, paceUsersPerSecond: number, db: Db): Promise<boolean> {
    const n = await db.$executeRaw`
      UPDATE campaigns SET guardrail_state = ${JSON.stringify(next)}::jsonb, pace_users_per_second = ${paceUsersPerSecond}
      WHERE id = ${id} AND guardrail_state = ${JSON.stringify(previous)}::jsonb`;
    return n === 1;
  }

  /** Why the ramp is not advancing (read by the dashboard); written only when it changes. */
  async setRampWait(id: bigint, wait: GuardrailStateJson['rampWait'], db: Db = this.prisma.client): Promise<boolean> {
    const n = await db.$executeRaw`
      UPDATE campaigns SET guardrail_state = jsonb_set(coalesce(guardrail_state, '{}'::jsonb), '{rampWait}', ${JSON.stringify(wait ?? null)}::jsonb)
      WHERE id = ${id} AND guardrail_state -> 'rampWait' IS DISTINCT FROM ${JSON.stringify(wait ?? null)}::jsonb`;
    return n > 0;
  }

  /**
   * Users with a bucket below `ppm` and how many of them are E2EE-capable, from the bucket
   * histogram (the last bin pro rata): at most 1,000 rows, never user_migrations.
   */
  async capability(id: bigint, ppm: number): Promise<{ users: number; capable: number }> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ users: number; capable: number }>>`
      SELECT coalesce(sum(CASE WHEN bin < ${ppm}::int / 1000 THEN total ELSE total * (${ppm}::int % 1000) / 1000.0 END), 0)::float8 AS users,
             coalesce(sum(CASE WHEN bin < ${ppm}::int / 1000 THEN capable ELSE capable * (${ppm}::int % 1000) / 1000.0 END), 0)::float8 AS capable
      FROM bucket_histograms WHERE campaign_id = ${id} AND bin <= ${ppm}::int / 1000`;
    return { users: Math.round(r?.users ?? 0), capable: Math.round(r?.capable ?? 0) };
  }

  /**
   * The ramp's batches (bucket ranges, not opt-in lists) finished in the last `windowSeconds`:
   * users processed and the union of their running times (PostgreSQL's clock stamps them).
   */
  async rampThroughput(id: bigint, windowSeconds: number): Promise<RampThroughput> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ processed: number; busySeconds: number }>>`
      SELECT coalesce(sum(n), 0)::float8 AS processed,
             coalesce(sum(greatest(0, extract(epoch FROM f - greatest(s, coalesce(prev_f, s))))), 0)::float8 AS "busySeconds"
      FROM (SELECT started_at AS s, finished_at AS f, enabled + failed AS n,
                   max(finished_at) OVER (ORDER BY started_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_f
            FROM migration_batches WHERE campaign_id = ${id} AND finished_at >= clock_timestamp() - ${windowSeconds} * interval '1 second'
              AND status = 'done' AND started_at IS NOT NULL AND cardinality(user_ids) = 0) b`;
    return { processed: r?.processed ?? 0, busySeconds: r?.busySeconds ?? 0 };
  }

  /** Users per state that still have work ahead of them (a sum over 16 counter shards). */
  async pending(id: bigint): Promise<{ legacy: number; eligible: number; enrolling: number; held: number }> {
    const [r] = await this.prisma.client.$queryRaw<Array<Record<'legacy' | 'eligible' | 'enrolling' | 'held', bigint | null>>>`
      SELECT sum(legacy) AS legacy, sum(eligible) AS eligible, sum(enrolling) AS enrolling, sum(held) AS held FROM progress_counters WHERE campaign_id = ${id}`;
    return { legacy: Number(r?.legacy ?? 0), eligible: Number(r?.eligible ?? 0), enrolling: Number(r?.enrolling ?? 0), held: Number(r?.held ?? 0) };
  }

  /** PostgreSQL's clock: guardrail windows are measured on it (it stamps the batches). */
  async dbNow(): Promise<Date> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ now: Date }>>`SELECT clock_timestamp() AS now`;
    return r.now;
  }

  /**
   * Lowering the ceiling: ramp-admitted users in [ceiling, planned) that no batch has claimed
   * yet (`eligible`, or `ineligible` waiting for a capable device) go back to `legacy`;
   * opt-ins, enrolling, enabled, failed and held users are untouched. planned_ppm comes down
   * to the ceiling so that raising it again plans the range anew. One transaction, counters
   * included; the campaign row is locked first so that a planner round serialises with it.
   * With `expectStep`, nothing happens (null) unless the campaign is still at that step.
   */
  async lowerCeiling(id: bigint, ceilingPpm: number, db: Db, expectStep?: number): Promise<{ demotedEligible: number; demotedIneligible: number; plannedFrom: number } | null> {
    const [c] = await db.$queryRaw<Array<{ planned: number; step: number }>>`
      SELECT planned_ppm AS planned, current_step AS step FROM campaigns WHERE id = ${id} FOR UPDATE`;
    if (!c || (expectStep !== undefined && c.step !== expectStep)) return null;
    const upper = Math.max(c.planned, ceilingPpm);
    const demote = (state: keyof typeof STEP_BACK.from) => db.$executeRaw`
      UPDATE user_migrations SET state = ${STEP_BACK.to.legacy}, enrolled_via = NULL, enrolled_step = NULL, admitted_at = NULL, flag_version = NULL,
        last_error = NULL, updated_at = clock_timestamp()
      WHERE campaign_id = ${id} AND bucket >= ${ceilingPpm} AND bucket < ${upper} AND state = ${state}::migration_state AND enrolled_via = 'ramp'`;
    const demotedEligible = await demote('eligible');
    const demotedIneligible = await demote('ineligible');
    await addCounters(db, id, { eligible: -demotedEligible, ineligible: -demotedIneligible, legacy: demotedEligible + demotedIneligible });
    await db.$executeRaw`UPDATE campaigns SET planned_ppm = least(planned_ppm, ${ceilingPpm}) WHERE id = ${id}`;
    return { demotedEligible, demotedIneligible, plannedFrom: c.planned };
  }

  /** Queued + running batches now, and the age of the oldest queued one (PostgreSQL's clock). */
  async backlog(id: bigint): Promise<BacklogFigures & { queued: number; running: number }> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ queued: bigint; running: bigint; age: number | null }>>`
      SELECT count(*) FILTER (WHERE status = 'queued') AS queued, count(*) FILTER (WHERE status = 'running') AS running,
             extract(epoch FROM clock_timestamp() - min(queued_at) FILTER (WHERE status = 'queued'))::float8 AS age
      FROM migration_batches WHERE campaign_id = ${id} AND status IN ('queued', 'running')`;
    const queued = Number(r?.queued ?? 0);
    const running = Number(r?.running ?? 0);
    return { queued, running, backlogBatches: queued + running, oldestQueuedAgeSeconds: r?.age ?? null };
  }

  /**
   * Outcomes recorded in the last `windowSeconds` (and not before `since`): batches that
   * finished in the window, plus batches still being retried that were claimed in it.
   * Batch times come from PostgreSQL, so the window is measured on PostgreSQL's clock.
   */
  async window(id: bigint, windowSeconds: number, since: Date | null): Promise<WindowFigures> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ enabled: bigint; failed: bigint; retried: bigint; batches: bigint; p95: number | null }>>`
      WITH w AS (SELECT greatest(clock_timestamp() - ${windowSeconds} * interval '1 second', coalesce(${since}::timestamptz, '-infinity')) AS t0)
      SELECT coalesce(sum(b.enabled), 0) AS enabled, coalesce(sum(b.failed), 0) AS failed, coalesce(sum(b.retried), 0) AS retried,
             count(*) FILTER (WHERE b.backend_ms IS NOT NULL) AS batches,
             (percentile_cont(0.95) WITHIN GROUP (ORDER BY b.backend_ms) FILTER (WHERE b.backend_ms IS NOT NULL))::float8 AS p95
      FROM migration_batches b, w
      WHERE b.campaign_id = ${id}
        AND (b.finished_at >= w.t0 OR (b.status IN ('queued', 'running') AND b.started_at >= w.t0))`;
    const enabled = Number(r.enabled);
    const failed = Number(r.failed);
    const retried = Number(r.retried);
    return { enabled, failed, retried, outcomes: enabled + failed + retried, batches: Number(r.batches), backendP95Ms: r.p95 };
  }
}
