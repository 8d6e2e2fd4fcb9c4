import { Injectable } from '@nestjs/common';
import { PrismaService, type Db } from '../core/database/prisma.service';

export interface AlertReceiptKey {
  fingerprint: string;
  startsAt: Date;
  campaignId: bigint;
}

@Injectable()
export class AlertsRepository {
  constructor(readonly prisma: PrismaService) {}

  async findReceipt(k: AlertReceiptKey): Promise<{ outcome: string; receivedAt: Date } | null> {
    return this.prisma.client.alertReceipt.findUnique({
      where: { fingerprint_startsAt_campaignId: k },
      select: { outcome: true, receivedAt: true },
    });
  }

  /** Records that the alert acted; false when a concurrent delivery recorded it first. */
  async markReceived(k: AlertReceiptKey & { action: string; outcome: string }, db: Db): Promise<boolean> {
    const n = await db.$executeRaw`
      INSERT INTO alert_receipts (fingerprint, starts_at, campaign_id, action, outcome)
      VALUES (${k.fingerprint}, ${k.startsAt}, ${k.campaignId}, ${k.action}, ${k.outcome})
      ON CONFLICT DO NOTHING`;
    return n > 0;
  }
}
