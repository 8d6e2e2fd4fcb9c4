import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../core/clock/clock';
import { ProgressService } from './progress.service';
import type { Progress } from './progress.types';

export const STREAM_INTERVAL_MS = 1_000;
export const HEARTBEAT_INTERVAL_MS = 15_000;

export interface StreamSubscriber {
  write(chunk: string): void;
  end(): void;
}

interface Channel {
  subscribers: Set<StreamSubscriber>;
  timer: NodeJS.Timeout;
  busy: boolean;
  lastBody?: string;
  lastWriteMs: number;
}

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** What changed apart from the time of the reading. */
function bodyOf(p: Progress): string {
  return JSON.stringify({ ...p, at: undefined });
}

/**
 * Server-sent progress. One poller per campaign per API process, however many clients
 * watch it: every second it reads progress once (constant cost) and writes it to every
 * subscriber while the campaign runs; otherwise only when something changed, with a
 * heartbeat comment in between so that proxies keep the connection open.
 */
@Injectable()
export class ProgressStreamHub implements OnModuleDestroy {
  private readonly log = new Logger(ProgressStreamHub.name);
  private readonly channels = new Map<bigint, Channel>();

  constructor(
    private readonly progress: ProgressService,
    private readonly clock: Clock,
  ) {}

  /** Adds a subscriber; it gets the current progress at once. Returns the unsubscribe function. */
  async subscribe(campaignId: bigint, sub: StreamSubscriber): Promise<() => void> {
    let ch = this.channels.get(campaignId);
    if (!ch) {
      const created: Channel = { subscribers: new Set(), busy: false, lastWriteMs: 0, timer: setInterval(() => void this.tick(campaignId, created), STREAM_INTERVAL_MS) };
      this.channels.set(campaignId, created);
      ch = created;
    }
    ch.subscribers.add(sub);
    try {
      sub.write(sseEvent('progress', await this.progress.getProgress(campaignId)));
    } catch (err) {
      this.unsubscribe(campaignId, sub);
      throw err;
    }
    return () => this.unsubscribe(campaignId, sub);
  }

  subscriberCount(campaignId?: bigint): number {
    if (campaignId !== undefined) return this.channels.get(campaignId)?.subscribers.size ?? 0;
    let n = 0;
    for (const ch of this.channels.values()) n += ch.subscribers.size;
    return n;
  }

  private unsubscribe(campaignId: bigint, sub: StreamSubscriber): void {
    const ch = this.channels.get(campaignId);
    if (!ch) return;
    ch.subscribers.delete(sub);
    if (ch.subscribers.size === 0) {
      clearInterval(ch.timer);
      this.channels.delete(campaignId);
    }
  }

  private async tick(campaignId: bigint, ch: Channel): Promise<void> {
    if (ch.busy) return;
    ch.busy = true;
    try {
      const p = await this.progress.getProgress(campaignId);
      const body = bodyOf(p);
      const nowMs = this.clock.nowMs();
      if (p.campaign.status === 'running' || body !== ch.lastBody) {
        this.broadcast(ch, sseEvent('progress', p), nowMs);
        ch.lastBody = body;
      } else if (nowMs - ch.lastWriteMs >= HEARTBEAT_INTERVAL_MS) {
        this.broadcast(ch, `: heartbeat ${p.at}\n\n`, nowMs);
      }
    } catch (err) {
      this.log.warn(`progress stream of campaign ${campaignId} could not read progress: ${(err as Error).message}`);
      this.broadcast(ch, sseEvent('error', { code: 'progress.unavailable', message: 'progress could not be read; retrying' }), this.clock.nowMs());
    } finally {
      ch.busy = false;
    }
  }

  private broadcast(ch: Channel, chunk: string, nowMs: number): void {
    ch.lastWriteMs = nowMs;
    for (const sub of ch.subscribers) sub.write(chunk);
  }

  /** Ends every open stream so that the HTTP server can close. */
  onModuleDestroy(): void {
    for (const ch of this.channels.values()) {
      clearInterval(ch.timer);
      for (const sub of ch.subscribers) sub.end();
    }
    this.channels.clear();
  }
}
