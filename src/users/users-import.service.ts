import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { AuditService } from '../core/audit/audit.service';
import type { Actor } from '../core/auth/auth.types';
import { Clock } from '../core/clock/clock';
import { PrismaService } from '../core/database/prisma.service';
import { BadRequestError } from '../core/errors/domain-error';
import { JobsService } from '../core/queue/jobs.service';
import { QUEUES } from '../core/queue/queue.constants';
import { CsvDecoder, decodeNdjson, ImportHeaderError, toCopyLine, type Decoded } from './import-rows';
import { LineSplitter, type LineEvent } from './line-splitter';
import type { StagingTable } from './users-staging';
import { UsersRepository } from './users.repository';
import { USERS_REASSESS_JOB, USERS_REASSESS_MAX_USERS } from '../core/queue/job-registry';
import { type ImportFormat, type ImportSummary, type RejectedLine } from './users.types';

interface StageStats {
  bytes: number;
  read: number;
  valid: number;
  rejected: number;
  rejectedLines: RejectedLine[];
}

/**
 * Streams an import file into PostgreSQL: lines are validated one by one, valid ones go to a
 * staging table with COPY, then one upsert moves them into `users` with the audit row. The
 * file is never held in memory: at most one input chunk plus one COPY buffer.
 */
@Injectable()
export class UsersImportService {
  constructor(
    private readonly repo: UsersRepository,
    private readonly prisma: PrismaService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobsService,
  ) {}

  limits() {
    return {
      formats: { ndjson: 'application/x-ndjson', csv: 'text/csv' },
      maxLineBytes: this.config.users.importMaxLineBytes,
      rejectedLinesReported: this.config.users.importRejectedSample,
    };
  }

  async import(format: ImportFormat, body: AsyncIterable<Buffer>, actor: Actor): Promise<ImportSummary> {
    const startedMs = this.clock.nowMs();
    const staging = await this.repo.openStaging();
    try {
      const stats = await this.stage(format, body, staging);
      const staged = await staging.finish();
      await staging.close();
      const stagedMs = this.clock.nowMs();
      const counts = await this.prisma.transaction(async (tx) => {
        const c = await this.repo.upsertFromStaging(staging.name, tx);
        const after = { format, bytes: stats.bytes, read: stats.read, valid: staged, rejected: stats.rejected, inserted: c.inserted, updated: c.updated, distinct: c.distinct, reassessed: c.reassess.length };
        await this.audit.record({ actor, action: 'users.imported', entityType: 'users', entityId: staging.importId, after }, tx);
        return c;
      }, this.repo.upsertTimeoutMs());
      await this.enqueueReassess(staging.importId, counts.reassess);
      return {
        importId: staging.importId,
        format,
        ...stats,
        duplicates: staged - counts.distinct,
        inserted: counts.inserted,
        updated: counts.updated,
        unchanged: counts.distinct - counts.inserted - counts.updated,
        reassessed: counts.reassess.length,
        durationMs: this.clock.nowMs() - startedMs,
        phasesMs: { receive: stagedMs - startedMs, upsert: this.clock.nowMs() - stagedMs },
      };
    } finally {
      await staging.close();
      await this.repo.dropStaging(staging.name);
    }
  }

  /**
   * Users whose capability the import changed while they are in a campaign get the same
   * `users-reassess` job as after a PATCH (an ineligible user who became capable is admitted
   * again; an eligible one who lost it becomes ineligible), in jobs of at most 10,000 users
   * whose ids derive from the import's, so that a repeated enqueue adds nothing.
   */
  private async enqueueReassess(importId: string, userIds: readonly bigint[]): Promise<void> {
    const jobs = [];
    for (let i = 0; i < userIds.length; i += USERS_REASSESS_MAX_USERS) {
      jobs.push({
        name: USERS_REASSESS_JOB,
        data: { userIds: userIds.slice(i, i + USERS_REASSESS_MAX_USERS).map(String) },
        jobId: `${USERS_REASSESS_JOB}-import-${importId}-${i / USERS_REASSESS_MAX_USERS}`,
      });
    }
    if (jobs.length > 0) await this.jobs.addBulk(QUEUES.control, jobs);
  }

  private async stage(format: ImportFormat, body: AsyncIterable<Buffer>, staging: StagingTable): Promise<StageStats> {
    const stats: StageStats = { bytes: 0, read: 0, valid: 0, rejected: 0, rejectedLines: [] };
    const maxLineBytes = this.config.users.importMaxLineBytes;
    const sample = this.config.users.importRejectedSample;
    const splitter = new LineSplitter(maxLineBytes);
    let csv: CsvDecoder | undefined;
    const reject = (line: number, reason: string) => {
      stats.rejected++;
      if (stats.rejectedLines.length < sample) stats.rejectedLines.push({ line, reason });
    };
    const onLine = (e: LineEvent) => {
      if ('tooLong' in e || 'notUtf8' in e) {
        const what = 'tooLong' in e ? `longer than ${maxLineBytes} bytes (USERS_IMPORT_MAX_LINE_BYTES)` : 'not valid UTF-8';
        if (format === 'csv' && !csv) throw headerError(`the CSV header line is ${what}`);
        stats.read++;
        return reject(e.line, `line ${what}`);
      }
      if (e.text.trim() === '') return;
      if (format === 'csv' && !csv) {
        csv = newCsvDecoder(e.text);
        return;
      }
      stats.read++;
      const decoded: Decoded = csv ? csv.decode(e.text) : decodeNdjson(e.text);
      if ('reason' in decoded) return reject(e.line, decoded.reason);
      stats.valid++;
      staging.add(toCopyLine(decoded.row, e.line));
    };
    try {
      for await (const chunk of body) {
        stats.bytes += chunk.length;
        splitter.push(chunk, onLine);
        await staging.flushIfFull();
      }
    } catch (err) {
      if (isAborted(err)) throw new BadRequestError('users.import_aborted', 'the upload ended before the body was complete; nothing was imported');
      throw err;
    }
    splitter.end(onLine);
    if (format === 'csv' && !csv) throw headerError('the CSV is empty: it needs a header line');
    return stats;
  }
}

function newCsvDecoder(header: string): CsvDecoder {
  try {
    return new CsvDecoder(header);
  } catch (err) {
    if (err instanceof ImportHeaderError) throw headerError(err.message);
    throw err;
  }
}

/** The client went away mid-upload (Node's IncomingMessage reports it as `aborted`). */
function isAborted(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === 'ECONNRESET' || e?.message === 'aborted';
}

function headerError(message: string): BadRequestError {
  return new BadRequestError('users.import_bad_header', message);
}
