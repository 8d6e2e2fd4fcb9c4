-- Alerts in: a narrow API-key role for alert senders (Alertmanager), and the receipts that make
-- a repeated alert (same fingerprint and startsAt) act on a campaign once.
ALTER TYPE "api_key_role" ADD VALUE 'alerter';

CREATE TABLE "alert_receipts" (
    "fingerprint" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "campaign_id" BIGINT NOT NULL,
    "action" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "alert_receipts_pkey" PRIMARY KEY ("fingerprint","starts_at","campaign_id")
);

CREATE INDEX "alert_receipts_received_at_idx" ON "alert_receipts"("received_at");
