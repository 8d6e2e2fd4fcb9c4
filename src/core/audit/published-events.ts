/**
 * The audit actions published to webhook subscribers, and the event type each is published
 * as. The audit row is the event: its id is the event id receivers deduplicate on.
 */
export const PUBLISHED_EVENTS: Readonly<Record<string, string>> = {
  'campaign.ramp_advanced': 'step.advanced',
  'campaign.ramp_promoted': 'step.advanced',
  'campaign.ramp_approval_needed': 'approval.needed',
  'campaign.guardrail_tripped': 'guardrail.tripped',
  'campaign.paused': 'campaign.paused',
  'campaign.halted': 'campaign.halted',
  'campaign.completed': 'campaign.completed',
  'flag.killed': 'flag.killed',
};

export const EVENT_TYPES = ['step.advanced', 'approval.needed', 'guardrail.tripped', 'campaign.paused', 'campaign.halted', 'campaign.completed', 'flag.killed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
