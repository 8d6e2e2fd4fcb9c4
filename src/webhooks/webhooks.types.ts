export type WebhookFormat = 'json' | 'slack';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

export interface WebhookSubscription {
  id: bigint;
  name: string;
  url: string;
  secret: string;
  events: string[];
  format: WebhookFormat;
  enabled: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** What the API shows: never the secret. */
export type WebhookView = Omit<WebhookSubscription, 'secret'>;

export interface WebhookDelivery {
  id: bigint;
  subscriptionId: bigint;
  eventId: bigint;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** An audit row as published: the event. */
export interface PublishedEvent {
  id: bigint;
  type: string;
  at: Date;
  action: string;
  entityType: string;
  entityId: string;
  actor: { id: string; name: string; role: string };
  reason: string | null;
  before: unknown;
  after: unknown;
}
