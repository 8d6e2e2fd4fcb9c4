import { Injectable, Logger } from '@nestjs/common';
import { planAction } from '../rollout/campaigns/campaign-lifecycle';
import { CampaignsService } from '../rollout/campaigns/campaigns.service';
import type { Campaign } from '../rollout/campaigns/campaigns.types';
import { AuditService } from '../core/audit/audit.service';
import type { Actor } from '../core/auth/auth.types';
import { DomainError, InvalidTransitionError, NotFoundError } from '../core/errors/domain-error';
import { alertTargets, type AlertTarget, type IgnoredAlert } from './alert-targets';
import type { AlertBody } from './alerts.schemas';
import { AlertsRepository } from './alerts.repository';

/**
 * applied: this alert paused or halted the campaign; already: it was in that state;
 * duplicate: the same alert (fingerprint and startsAt) acted before; not_applicable: the
 * campaign's status does not allow the action (draft, completed, pause of a halted one).
 */
export type AlertOutcome = 'applied' | 'already' | 'duplicate' | 'not_applicable' | 'not_found';

export interface AlertTargetResult {
  campaign: string;
  campaignId: string | null;
  action: AlertTarget['action'];
  alertName: string;
  fingerprint: string | null;
  outcome: AlertOutcome;
  status: Campaign['status'] | null;
}

export interface AlertsResult {
  results: AlertTargetResult[];
  ignored: IgnoredAlert[];
}

/** Alerts in: pause or halt the campaigns an alert names, once per alert, audited with the alert. */
@Injectable()
export class AlertsService {
  private readonly log = new Logger(AlertsService.name);

  constructor(
    private readonly repo: AlertsRepository,
    private readonly campaigns: CampaignsService,
    private readonly audit: AuditService,
  ) {}

  async receive(body: AlertBody, actor: Actor): Promise<AlertsResult> {
    const { targets, ignored } = alertTargets(body);
    const results: AlertTargetResult[] = [];
    // one target after another: two alerts naming one campaign must not race each other's If-Match
    for (const t of targets) results.push(await this.apply(t, actor));
    for (const i of ignored) this.log.warn(`alert ${i.alertName} (${i.fingerprint ?? 'no fingerprint'}) ignored: ${i.why}`);
    return { results, ignored };
  }

  private async apply(t: AlertTarget, actor: Actor): Promise<AlertTargetResult> {
    const base = { campaign: t.campaign, action: t.action, alertName: t.alertName, fingerprint: t.fingerprint };
    const found = await this.campaigns.get(t.campaign).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    if (!found) return { ...base, campaignId: null, outcome: 'not_found', status: null };
    const key = t.fingerprint === null ? null : { fingerprint: t.fingerprint, startsAt: t.startsAt, campaignId: found.id };
    if (key && (await this.repo.findReceipt(key))) return { ...base, campaignId: String(found.id), outcome: 'duplicate', status: found.status };
    const { outcome, campaign } = await this.act(found, t, actor);
    await this.repo.prisma.transaction(async (tx) => {
      if (key && !(await this.repo.markReceived({ ...key, action: t.action, outcome }, tx))) return;
      await this.audit.record(
        {
          actor,
          action: 'campaign.alert_received',
          entityType: 'campaign',
          entityId: String(found.id),
          before: { status: found.status },
          after: { status: campaign.status, action: t.action, outcome, alert: { name: t.alertName, fingerprint: t.fingerprint, startsAt: key ? t.startsAt.toISOString() : null, labels: t.labels, annotations: t.annotations } },
          reason: t.reason,
        },
        tx,
      );
    });
    return { ...base, campaignId: String(found.id), outcome, status: campaign.status };
  }

  /** Through the campaign lifecycle (the kill switch itself); a lost If-Match race is retried. */
  private async act(c: Campaign, t: AlertTarget, actor: Actor): Promise<{ outcome: AlertOutcome; campaign: Campaign }> {
    let cur = c;
    for (let attempt = 0; ; attempt++) {
      try {
        if (planAction(t.action, cur.status) === 'noop') return { outcome: 'already', campaign: cur };
        return { outcome: 'applied', campaign: await this.campaigns.act(String(cur.id), t.action, cur.version, actor, t.reason) };
      } catch (err) {
        if (err instanceof InvalidTransitionError) return { outcome: 'not_applicable', campaign: cur };
        if (!(err instanceof DomainError) || err.status !== 409 || attempt >= 2) throw err;
        cur = await this.campaigns.get(String(c.id));
      }
    }
  }
}
