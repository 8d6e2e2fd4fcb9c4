import { Global, Module } from '@nestjs/common';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { RequestAuth } from './request-auth';

@Global()
@Module({ providers: [ApiKeysRepository, ApiKeysService, RequestAuth], exports: [ApiKeysService, RequestAuth] })
export class AuthModule {}
