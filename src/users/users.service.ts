import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../core/audit/audit.service';
import type { Actor } from '../core/auth/auth.types';
import { PrismaService } from '../core/database/prisma.service';
import { ConflictError, NotFoundError } from '../core/errors/domain-error';
import { JobsService } from '../core/queue/jobs.service';
import { QUEUES } from '../core/queue/queue.constants';
import { USERS_REASSESS_JOB } from '../core/queue/job-registry';
import { UsersRepository } from './users.repository';
import type { PatchUserInput, SeedUsersInput } from './users.schemas';
import {
  ELIGIBILITY_FIELDS,
  type SeedSummary,
  type UserAttributes,
  type UserRecord,
  type UserView,
} from './users.types';

type Field = keyof UserAttributes;
const FIELDS: readonly Field[] = ['country', 'platform', 'appVersion', 'e2eeCapable', 'attributes'];

export function toUserView(u: UserRecord): UserView {
  return { ...u, id: u.id.toString(), createdAt: u.createdAt.toISOString(), updatedAt: u.updatedAt.toISOString() };
}

/** The user's version for ETag / If-Match: its last change in epoch milliseconds. */
export function userVersion(u: UserRecord): number {
  return u.updatedAt.getTime();
}

function same(a: unknown, b: unknown): boolean {
  return typeof a === 'object' ? JSON.stringify(a) === JSON.stringify(b) : a === b;
}

function pick(u: UserRecord, fields: readonly Field[]): Partial<UserAttributes> {
  return Object.fromEntries(fields.map((f) => [f, u[f]]));
}

@Injectable()
export class UsersService {
  private readonly log = new Logger(UsersService.name);

  constructor(
    private readonly repo: UsersRepository,
    private readonly prisma: PrismaService,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
  ) {}

  async getUser(id: bigint): Promise<UserRecord> {
    const user = await this.repo.findById(id);
    if (!user) throw new NotFoundError('user', id);
    return user;
  }

  /**
   * Changes attributes (audited with before/after). When the request names an attribute that
   * decides eligibility, a `users-reassess` job follows; its id carries the user's version, so
   * repeating the same request (say, after a failed enqueue) enqueues it again at most once.
   */
  async patchUser(id: bigint, input: PatchUserInput, expectedVersion: number | undefined, actor: Actor): Promise<UserRecord> {
    const { reason, ...changes } = input;
    const user = await this.prisma.transaction(async (tx) => {
      const before = await this.repo.findById(id, tx, true);
      if (!before) throw new NotFoundError('user', id);
      if (expectedVersion !== undefined && userVersion(before) !== expectedVersion) {
        throw new ConflictError('user.version_conflict', `user ${id} was changed by someone else (If-Match ${expectedVersion}, current ${userVersion(before)}); reload and retry`);
      }
      const changed = FIELDS.filter((f) => changes[f] !== undefined && !same(changes[f], before[f]));
      if (changed.length === 0) return before;
      const after = (await this.repo.update(id, changes, tx))!;
      await this.audit.record(
        { actor, action: 'user.updated', entityType: 'user', entityId: id.toString(), before: pick(before, changed), after: pick(after, changed), reason },
        tx,
      );
      return after;
    });
    if (ELIGIBILITY_FIELDS.some((f) => changes[f] !== undefined)) await this.enqueueReassess(user);
    return user;
  }

  private async enqueueReassess(user: UserRecord): Promise<void> {
    await this.jobs.add(QUEUES.control, {
      name: USERS_REASSESS_JOB,
      data: { userIds: [user.id.toString()] },
      jobId: `${USERS_REASSESS_JOB}-${user.id}-${userVersion(user)}`,
    });
    this.log.debug(`queued ${USERS_REASSESS_JOB} for user ${user.id}`);
  }

  /** Adds `count` synthetic users after the highest id; re-running extends the population. */
  async seed(input: SeedUsersInput, actor: Actor): Promise<SeedSummary> {
    // about 20k rows/s is a slow machine's floor; the transaction may take that long
    const timeoutMs = 30_000 + Math.ceil(input.count / 20);
    return this.prisma.transaction(async (tx) => {
      const r = await this.repo.seed(input.count, input.seed, tx);
      const summary: SeedSummary = {
        added: r.added,
        fromId: r.fromId?.toString() ?? null,
        toId: r.toId?.toString() ?? null,
        incapable: r.incapable,
        seed: input.seed,
      };
      const entityId = summary.fromId ? `${summary.fromId}-${summary.toId}` : 'none';
      await this.audit.record({ actor, action: 'users.seeded', entityType: 'users', entityId, after: summary }, tx);
      return summary;
    }, timeoutMs);
  }
}
