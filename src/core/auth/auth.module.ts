import { Global, Module } from '@nestjs/common';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { RequestAuth } from './request-auth';

/** Keys themselves (database only): what `cutover-admin` needs on a machine without the API's Redis. */
@Global()
@Module({ providers: [ApiKeysRepository, ApiKeysService], exports: [ApiKeysService] })
export class ApiKeysModule {}

@Global()
@Module({ imports: [ApiKeysModule], providers: [RequestAuth], exports: [ApiKeysModule, RequestAuth] })
export class AuthModule {}
