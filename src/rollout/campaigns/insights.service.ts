import { Injectable } from '@nestjs/common';
import { Clock } from '../../core/clock/clock';
import { BadRequestError, NotFoundError } from '../../core/errors/domain-error';
import { bucketOf } from '../../flags/bucketing';
import { FlagsService } from '../../flags/flags.service';
import { CampaignsService } from './campaigns.service';
import { explain } from './explain';
import { campaignWhy, COMPLETION_RULE } from './campaign-why';
import { floorStatus, trendOf, type FloorStatus } from './floors';
import { forecastStep, type Forecast } from './forecast';
import { rampRate, type PaceRate } from './pace';
import { InsightsRepository } from './insights.repository';
import { UserNotInCampaignError } from './ramp.errors';
import { RampRepository, type RampCampaign } from './ramp.repository';
import { stepPpm } from './ramp-plan';

const THROUGHPUT_WINDOW_SECONDS = 300;

/** Forecast of a step (bucket histogram) and the explanation of one user (primary-key lookups only). */
@Injectable()
export class InsightsService {
  constructor(
    private readonly repo: InsightsRepository,
    private readonly ramp: RampRepository,
    private readonly campaigns: CampaignsService,
    private readonly flags: FlagsService,
    private readonly clock: Clock,
  ) {}

  /**
   * How many users a rollout of `ppm` newly admits, how long they take at the ramp's pace, and
   * when the target step's capability floor (if any) will be met.
   */
  async forecast(ref: string, q: { ppm?: number; percent?: number }) {
    const c = (await this.ramp.find((await this.campaigns.get(ref)).id))!;
    const flag = await this.flags.getFlagById(c.flagId);
    const target = q.ppm ?? (q.percent !== undefined ? Math.round(q.percent * 10_000) : c.steps[c.currentStep + 1]?.ppm);
    if (target === undefined) throw new BadRequestError('forecast.ppm_required', 'give ?ppm= or ?percent= (the campaign has no next ramp step)');
    const from = flag.killed ? 0 : Math.max(flag.rolloutPpm, stepPpm(c.steps, c.currentStep));
    const now = this.clock.now();
    const f: Forecast = forecastStep({
      bins: await this.repo.bins(c.id, from, target),
      fromPpm: from,
      toPpm: target,
      status: c.status,
      rate: await this.rateOf(c),
      now,
    });
    const targetStep = c.steps.findIndex((s) => s.ppm === target);
    const capabilityFloor = targetStep >= 0 ? await this.floorOf(c, targetStep, now) : null;
    return { campaignId: String(c.id), status: c.status, currentStep: c.currentStep, targetStep: targetStep >= 0 ? targetStep : null, ...f, capabilityFloor };
  }

  /**
   * Why a campaign is (not) moving: the ramp controller's last reason to wait, every step's
   * capability floor with its forecast (and which one holds the next step), and completion.
   */
  async explainCampaign(ref: string) {
    const c = (await this.ramp.find((await this.campaigns.get(ref)).id))!;
    const now = this.clock.now();
    const floors: FloorStatus[] = [];
    for (let i = 0; i < c.steps.length; i++) {
      const f = await this.floorOf(c, i, now);
      if (f) floors.push(f);
    }
    const next = c.currentStep + 1 < c.steps.length ? c.currentStep + 1 : null;
    const holding = floors.find((f) => f.step === next && !f.met) ?? null;
    const wait = c.guardrailState.rampWait ?? null;
    return {
      campaignId: String(c.id),
      campaign: c.key,
      status: c.status,
      currentStep: c.currentStep,
      nextStep: next,
      waiting: wait,
      heldByFloor: holding,
      why: campaignWhy(c, wait, holding),
      floors,
      completion: { auto: c.autoComplete, lastStep: c.steps.length - 1, rule: COMPLETION_RULE },
    };
  }

  private async rateOf(c: RampCampaign): Promise<PaceRate | null> {
    const ramp = await this.ramp.rampThroughput(c.id, THROUGHPUT_WINDOW_SECONDS);
    return rampRate({ maxUsersPerSecond: c.pacing.maxUsersPerSecond, paceUsersPerSecond: c.paceUsersPerSecond, ramp });
  }

  private async floorOf(c: RampCampaign, index: number, now: Date): Promise<FloorStatus | null> {
    const step = c.steps[index];
    if (!step?.minCapablePercent) return null;
    const readings = await this.repo.capabilityReadings(c.id, now);
    const trend = trendOf({ at: now, capable: readings.capable, users: readings.users }, readings.then);
    return floorStatus(index, step, await this.ramp.capability(c.id, step.ppm), trend, now);
  }

  async explainUser(ref: string, userId: bigint) {
    const campaign = await this.campaigns.get(ref);
    const c = (await this.ramp.find(campaign.id))!;
    const flag = await this.flags.getFlagById(c.flagId);
    const row = await this.repo.userMigration(c.id, userId);
    if (!row) {
      const inside = await this.repo.inPopulation(userId, campaign.populationFilter);
      if (inside === null) throw new NotFoundError('user', userId);
      if (!inside || campaign.materializedAt !== null) {
        throw new UserNotInCampaignError(userId, c.key);
      }
    }
    const bucket = row?.bucket ?? bucketOf(flag.salt, String(userId));
    const facts = {
      state: row?.state ?? null,
      bucket,
      attempts: row?.attempts ?? 0,
      lastError: row?.lastError ?? null,
      enrolledVia: row?.enrolledVia ?? null,
      enrolledStep: row?.enrolledStep ?? null,
      enabledAt: row?.enabledAt ?? null,
      hold: row?.holdId ? { id: row.holdId, reason: row.holdReason ?? '' } : null,
      campaignStatus: c.status,
      steps: c.steps,
      currentStep: c.currentStep,
      ceilingPpm: flag.killed ? 0 : flag.rolloutPpm,
      flagKilled: flag.killed,
      plannedPpm: c.plannedPpm,
    };
    const e = explain(facts);
    return {
      campaignId: String(c.id),
      campaign: c.key,
      userId: String(userId),
      bucket,
      state: facts.state,
      admittedByCurrentStep: e.admittedByCurrentStep,
      reason: e.code,
      why: e.why,
      attempts: facts.attempts,
      lastError: facts.lastError,
      enrolledVia: facts.enrolledVia,
      enrolledBy: e.enrolledBy,
      enrolledStep: facts.enrolledStep,
      flagVersion: row?.flagVersion ?? null,
      admittedAt: row?.admittedAt?.toISOString() ?? null,
      enabledAt: row?.enabledAt?.toISOString() ?? null,
      updatedAt: row?.updatedAt.toISOString() ?? null,
      recoveryState: row?.recoveryState ?? null,
      recoveryMethod: row?.recoveryMethod ?? null,
      hold: facts.hold ? { id: String(facts.hold.id), reason: facts.hold.reason } : null,
      admission: {
        campaignStatus: c.status,
        currentStep: c.currentStep,
        currentStepPpm: stepPpm(c.steps, c.currentStep),
        flag: { key: flag.key, version: flag.version, rolloutPpm: flag.rolloutPpm, killed: flag.killed },
        plannedPpm: c.plannedPpm,
        firstStepAdmitting: e.firstStepAdmitting,
      },
      user: row ? { country: row.country, platform: row.platform, appVersion: row.appVersion, e2eeCapable: row.e2eeCapable } : null,
    };
  }
}
