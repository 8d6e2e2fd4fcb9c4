import { Module } from '@nestjs/common';
import { ConversationEvaluationService } from './conversation-evaluation.service';
import { EvaluatorAuth } from './evaluator-auth';
import { FlagEvaluationService } from './flag-evaluation.service';
import { FlagSnapshotService } from './flag-snapshot.service';
import { FlagConversationsController } from './flag-conversations.controller';
import { FlagsController } from './flags.controller';
import { FlagsModule } from './flags.module';
import { FlagsRepository } from './flags.repository';
import { OfrepEvents } from './ofrep-events';
import { OfrepRoutes } from './ofrep.routes';
import { ofrepOpenApiPaths } from './ofrep.openapi';
import { OPENAPI_EXTRA_PATHS } from '../core/http/openapi-extras';

/**
 * The API side of flags: admin controller, the evaluation snapshot (pub/sub + periodic
 * check), OFREP routes and their event stream. Imported by ApiModule only.
 */
@Module({
  imports: [FlagsModule],
  controllers: [FlagsController, FlagConversationsController],
  providers: [FlagsRepository, FlagSnapshotService, FlagEvaluationService, ConversationEvaluationService, EvaluatorAuth, OfrepEvents, OfrepRoutes, { provide: OPENAPI_EXTRA_PATHS, useValue: ofrepOpenApiPaths }],
  exports: [FlagEvaluationService],
})
export class FlagsHttpModule {}
