import { toJsonSafe } from '../core/json';
import type { PublishedEvent, WebhookFormat } from './webhooks.types';

/** The subject an event is about: a campaign's key when known, else the audit row's entity. */
export interface EventSubject {
  type: string;
  id: string;
  key?: string;
}

const SUMMARY: Record<string, string> = {
  'step.advanced': 'advanced its ramp step',
  'approval.needed': 'waits for an approval',
  'guardrail.tripped': 'tripped a guardrail',
  'campaign.paused': 'was paused',
  'campaign.halted': 'was halted (intake stopped)',
  'campaign.completed': 'completed',
  'flag.killed': 'was killed',
};

function subjectText(s: EventSubject): string {
  return `${s.type} ${s.key ?? s.id}`;
}

export function eventText(e: PublishedEvent, subject: EventSubject): string {
  const who = e.actor.id === 'system' ? e.actor.name : `${e.actor.name} (${e.actor.role})`;
  return `[cutover] ${subjectText(subject)} ${SUMMARY[e.type] ?? e.type} by ${who}${e.reason ? `: ${e.reason}` : ''}`;
}

/**
 * The body of one delivery. `json`: the event with its id (stable across retries, for the
 * receiver's deduplication), type, time, subject, actor, reason and the audit row's before and
 * after. `slack`: Slack's incoming-webhook shape (`text`), with the event id alongside.
 */
export function webhookBody(e: PublishedEvent, subject: EventSubject, format: WebhookFormat): string {
  if (format === 'slack') return JSON.stringify({ text: eventText(e, subject), eventId: String(e.id), type: e.type });
  return JSON.stringify(
    toJsonSafe({ id: String(e.id), type: e.type, occurredAt: e.at.toISOString(), action: e.action, subject, actor: e.actor, reason: e.reason, before: e.before, after: e.after }),
  );
}
