import type { Provider } from '@nestjs/common';
import { APP_CONFIG } from '../../../config/config';
import type { AppConfig } from '../../../config/config.schema';
import { RedisService } from '../../../core/redis/redis.service';
import { MigrationBackend } from './backend.port';
import { HttpBackend } from './http-backend';
import { SimulatedBackend } from './simulated-backend';

export const backendProvider: Provider = {
  provide: MigrationBackend,
  inject: [APP_CONFIG, RedisService],
  useFactory: (config: AppConfig, redis: RedisService): MigrationBackend => {
    if (config.backend.kind === 'http') {
      if (!config.backend.http.url) throw new Error('BACKEND_HTTP_URL is required when BACKEND_KIND=http');
      return new HttpBackend({ url: config.backend.http.url, timeoutMs: config.backend.http.timeoutMs });
    }
    return new SimulatedBackend(redis.client, { ...config.backend.sim, keyPrefix: redis.prefix });
  },
};
