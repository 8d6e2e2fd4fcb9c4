import 'reflect-metadata';
import { loadConfigOrExit } from './config/config';
import { ApiModule } from './api.module';
import { ApiKeysService } from './core/auth/api-keys.service';
import { createApiApp } from './core/http/create-api-app';
import { createLogger } from './core/logging/logger';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel, 'cutover-api');
  const app = await createApiApp(ApiModule.forRoot(config) as never, config, logger);
  await app.get(ApiKeysService).bootstrapKeys();
  await app.listen({ host: config.http.host, port: config.http.port });
  logger.info({ url: await app.getUrl() }, 'cutover api listening');
}

main().catch((err: unknown) => {
  process.stderr.write(`cutover api failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
