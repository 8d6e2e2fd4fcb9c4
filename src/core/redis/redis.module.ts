import { Global, Module } from '@nestjs/common';
import { RedisEpoch } from './redis-epoch';
import { RedisService } from './redis.service';

@Global()
@Module({ providers: [RedisService, RedisEpoch], exports: [RedisService, RedisEpoch] })
export class RedisModule {}
