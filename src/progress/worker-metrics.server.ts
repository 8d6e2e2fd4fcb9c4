import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { enableDefaultMetrics, metricsRegistry } from '../core/metrics/metrics';

/**
 * The worker's own /metrics (batch durations, backend latency and errors, users enabled by
 * this process) on WORKER_METRICS_PORT when it is > 0. Users per state and queue depth are
 * served by the API only.
 */
@Injectable()
export class WorkerMetricsServer implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(WorkerMetricsServer.name);
  private server?: Server;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get port(): number | null {
    return (this.server?.address() as AddressInfo | null)?.port ?? null;
  }

  async onModuleInit(): Promise<void> {
    const port = this.config.worker.metricsPort;
    if (port <= 0) return;
    enableDefaultMetrics();
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
        return;
      }
      metricsRegistry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
        (err: unknown) => {
          this.log.error(`metrics rendering failed: ${(err as Error).message}`);
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.http.host, () => resolve());
    });
    this.server = server;
    this.log.log(`worker metrics on http://${this.config.http.host}:${this.port}/metrics`);
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
