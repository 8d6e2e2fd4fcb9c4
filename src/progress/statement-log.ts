import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';

/**
 * Records the SQL the progress repository runs while `capture` is on. Off in production
 * (one boolean check per statement); the query-plan test turns it on to EXPLAIN exactly the
 * statements a progress read, a scrape and a sampler run issue.
 */
@Injectable()
export class StatementLog {
  private capturing = false;
  private readonly captured: Prisma.Sql[] = [];

  record(sql: Prisma.Sql): void {
    if (this.capturing) this.captured.push(sql);
  }

  capture(): void {
    this.captured.length = 0;
    this.capturing = true;
  }

  stop(): Prisma.Sql[] {
    this.capturing = false;
    return this.captured.splice(0);
  }
}
