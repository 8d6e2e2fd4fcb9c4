import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APP_CONFIG } from './config/config';
import type { AppConfig } from './config/config.schema';
import { enableDefaultMetrics, metricsRegistry } from './core/metrics/metrics';
import { WorkerHeartbeat } from './worker-heartbeat';

/**
 * The worker's own HTTP port (WORKER_METRICS_PORT, when > 0): `/metrics` (batch durations,
 * backend latency and errors, users enabled by this process, jobs and heartbeat) and
 * `/health/live`, which answers 503 once the process stopped consuming (WorkerHeartbeat).
 * Users per state and queue depth are served by the API only.
 */
@Injectable()
export class WorkerHttpServer implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(WorkerHttpServer.name);
  private server?: Server;

  constructor(
    private readonly heartbeat: WorkerHeartbeat,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get port(): number | null {
    return (this.server?.address() as AddressInfo | null)?.port ?? null;
  }

  async onModuleInit(): Promise<void> {
    const port = this.config.worker.metricsPort;
    if (port <= 0) return;
    enableDefaultMetrics();
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.http.host, () => resolve());
    });
    this.server = server;
    this.log.log(`worker metrics on http://${this.config.http.host}:${this.port}/metrics, liveness on /health/live`);
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/health/live') {
      const status = this.heartbeat.status();
      res.writeHead(status.healthy ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ status: status.healthy ? 'up' : 'down', heartbeat: status }));
      return;
    }
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics or /health/live\n');
      return;
    }
    metricsRegistry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
      (err: unknown) => {
        this.log.error(`metrics rendering failed: ${(err as Error).message}`);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  }
}
