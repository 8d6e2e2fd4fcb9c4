import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from './config/config';
import { createLogger, PinoNestLogger } from './core/logging/logger';
import { WorkerModule } from './worker.module';
import { installWorkerShutdown } from './worker-shutdown';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel, 'cutover-worker');
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger: new PinoNestLogger(logger) });
  await app.init();
  installWorkerShutdown(app, config, logger);
  logger.info({ concurrency: config.worker.concurrency }, 'cutover worker started');
}

main().catch((err: unknown) => {
  process.stderr.write(`cutover worker failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
