import { Module, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { UsersController } from './users.controller';
import { UsersImportService } from './users-import.service';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';
import { IMPORT_MEDIA_TYPES } from './users.types';

/** The population: import, seed, read and change users. Exports UsersService only. */
@Module({
  controllers: [UsersController],
  providers: [UsersRepository, UsersService, UsersImportService],
  exports: [UsersService],
})
export class UsersModule implements OnModuleInit {
  constructor(@Optional() private readonly adapterHost?: HttpAdapterHost) {}

  /**
   * Import bodies are handed to the route as the raw request stream: no body-size limit
   * applies (a file can be gigabytes) and nothing is buffered; the importer bounds each line.
   */
  onModuleInit(): void {
    const fastify = this.adapterHost?.httpAdapter?.getInstance() as FastifyInstance | undefined;
    if (!fastify?.addContentTypeParser) return;
    for (const mediaType of Object.values(IMPORT_MEDIA_TYPES)) {
      if (!fastify.hasContentTypeParser(mediaType)) {
        fastify.addContentTypeParser(mediaType, (_req, payload, done) => done(null, payload));
      }
    }
    // An answer given before a streamed body was read (bad key, bad CSV header) closes the
    // connection; kept alive, the server would stop reading and never see the client leave.
    fastify.addHook('onSend', (req, reply, payload, done) => {
      if (!req.raw.complete) void reply.header('connection', 'close');
      done(null, payload);
    });
  }
}
