import type { AlertBody } from './alerts.schemas';

/** The labels an alert names its campaigns and its action with (see docs/ramp.md, "Alerts in"). */
export const CAMPAIGN_LABEL = 'cutover_campaign';
export const ACTION_LABEL = 'cutover_action';
export const ALERT_ACTIONS = ['pause', 'halt'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

const REASON_MAX = 2000;

/** One thing to do: an alert names a campaign and an action. */
export interface AlertTarget {
  /** with startsAt, what makes a repeat of the same alert act once; null: no deduplication */
  fingerprint: string | null;
  startsAt: Date;
  campaign: string;
  action: AlertAction;
  alertName: string;
  reason: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface IgnoredAlert {
  fingerprint: string | null;
  alertName: string;
  why: string;
}

const NO_START = new Date(0);

function reasonOf(alertName: string, annotations: Record<string, string>): string {
  const text = annotations.summary ?? annotations.description ?? annotations.message;
  return `alert ${alertName}${text ? `: ${text}` : ''}`.slice(0, REASON_MAX);
}

/** The campaign keys or ids a label value names: one, or several separated by commas. */
export function campaignRefs(value: string): string[] {
  return [...new Set(value.split(',').map((v) => v.trim()).filter((v) => v.length > 0))];
}

/**
 * What a payload asks for. Only firing alerts act (a resolved alert never resumes a
 * campaign: that stays an operator's decision); an alert without the campaign label, or with
 * an action this endpoint does not take, is reported as ignored.
 */
export function alertTargets(body: AlertBody): { targets: AlertTarget[]; ignored: IgnoredAlert[] } {
  if (body.kind === 'plain') {
    const p = body.payload;
    const alertName = p.labels.alertname ?? 'plain';
    return {
      targets: campaignRefs(p.campaign).map((campaign) => ({
        fingerprint: p.id ?? null, startsAt: NO_START, campaign, action: p.action, alertName, reason: p.reason, labels: p.labels, annotations: p.annotations,
      })),
      ignored: [],
    };
  }
  const targets: AlertTarget[] = [];
  const ignored: IgnoredAlert[] = [];
  for (const a of body.payload.alerts) {
    const alertName = a.labels.alertname ?? '(unnamed)';
    const skip = (why: string) => ignored.push({ fingerprint: a.fingerprint, alertName, why });
    const refs = campaignRefs(a.labels[CAMPAIGN_LABEL] ?? '');
    const action = a.labels[ACTION_LABEL] ?? 'pause';
    if (a.status !== 'firing') skip('resolved: a resolved alert never resumes a campaign');
    else if (refs.length === 0) skip(`no ${CAMPAIGN_LABEL} label`);
    else if (!(ALERT_ACTIONS as readonly string[]).includes(action)) skip(`${ACTION_LABEL} must be pause or halt, not ${JSON.stringify(action)}`);
    else {
      for (const campaign of refs) {
        targets.push({
          fingerprint: a.fingerprint, startsAt: new Date(a.startsAt), campaign, action: action as AlertAction, alertName,
          reason: reasonOf(alertName, a.annotations), labels: a.labels, annotations: a.annotations,
        });
      }
    }
  }
  return { targets, ignored };
}
