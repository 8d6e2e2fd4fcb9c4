import { Module } from '@nestjs/common';
import { FlagsNotifier } from './flags.notifier';
import { FlagsRepository } from './flags.repository';
import { FlagsService } from './flags.service';
import { RatchetRepository } from './ratchet.repository';
import { RatchetService } from './ratchet.service';

/** Flag writes and the ratchet: importable by the API and the worker (no controllers, no timers). */
@Module({
  providers: [FlagsRepository, FlagsNotifier, FlagsService, RatchetRepository, RatchetService],
  exports: [FlagsService, RatchetService, FlagsNotifier],
})
export class FlagsModule {}
