import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PassThrough } from 'node:stream';
import { FlagSnapshotService } from './flag-snapshot.service';

export const EVENTS_PATH = '/ofrep/v1/events';
const HEARTBEAT_MS = 15_000;
/** What the bulk answer advertises: a browser tab hidden this long closes its stream. */
const INACTIVITY_DELAY_SEC = 120;

/**
 * OFREP's event stream (the accepted SSE extension): the bulk answer advertises it in
 * `eventStreams`; every flag configuration change on this replica sends one
 * `refetchEvaluation` message carrying the configuration's etag and time, and providers
 * re-fetch the bulk evaluation with them as `flagConfigEtag` / `flagConfigLastModified`.
 * Notification only: no evaluation travels on the stream.
 */
@Injectable()
export class OfrepEvents implements OnModuleDestroy {
  private readonly streams = new Map<PassThrough, FastifyReply>();
  private closing = false;

  constructor(private readonly snapshot: FlagSnapshotService) {}

  /**
   * Open streams would hold the server's close until their clients leave: cut them, and refuse
   * the reconnects EventSource clients make while the rest of the app shuts down.
   */
  onModuleDestroy(): void {
    this.closing = true;
    for (const [stream, reply] of this.streams) {
      stream.end();
      reply.raw.destroy();
    }
  }

  /** The `eventStreams` member of a bulk answer for a key whose stream token is `token`. */
  advertise(token: string): string {
    const requestUri = `${EVENTS_PATH}?token=${encodeURIComponent(token)}`;
    return JSON.stringify([{ type: 'sse', endpoint: { requestUri }, inactivityDelaySec: INACTIVITY_DELAY_SEC }]);
  }

  /**
   * The SSE envelope is always `message`; the id is the configuration's etag, so a client that
   * reconnects with an older `Last-Event-ID` missed a change and is told at once (one
   * notification stands for any number of missed ones). `keys` (the flags that changed) is a
   * Cutover extension that providers ignore.
   */
  private message(keys: readonly string[]): string {
    const { etag, lastModified } = this.snapshot.configStamp;
    return `id: ${etag}\nevent: message\ndata: ${JSON.stringify({ type: 'refetchEvaluation', etag, lastModified, keys })}\n\n`;
  }

  open(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (this.closing) {
      return reply
        .code(503)
        .header('retry-after', '2')
        .header('connection', 'close')
        .send({ code: 'service.shutting_down', message: 'this replica is shutting down; reconnect to another', details: { retryAfterSeconds: 2 } });
    }
    const stream = new PassThrough();
    this.streams.set(stream, reply);
    const off = this.snapshot.onChange((keys) => stream.write(this.message(keys)));
    const beat = setInterval(() => stream.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const close = () => {
      clearInterval(beat);
      off();
      this.streams.delete(stream);
      stream.end();
    };
    reply.raw.on('close', close);
    stream.on('close', close);
    stream.write('retry: 2000\n: ready\n\n');
    const lastSeen = req.headers['last-event-id'];
    if (typeof lastSeen === 'string' && lastSeen !== this.snapshot.configStamp.etag) stream.write(this.message([]));
    return reply
      .code(200)
      .header('content-type', 'text/event-stream')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(stream);
  }
}
