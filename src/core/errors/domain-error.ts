/** Errors a service throws on purpose. `code` is stable (`<feature>.<snake_case>`). */
export abstract class DomainError extends Error {
  abstract readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  constructor(entity: string, id: string | number | bigint) {
    super(`${entity}.not_found`, `${entity} ${String(id)} does not exist`, { entity, id: String(id) });
  }
}

export class ConflictError extends DomainError {
  readonly status = 409;
}

export class VersionConflictError extends ConflictError {
  constructor(entity: string, expected: number, actual?: number) {
    super(
      `${entity}.version_conflict`,
      `${entity} was changed by someone else (If-Match ${expected}${actual === undefined ? '' : `, current ${actual}`}); reload and retry`,
      actual === undefined ? undefined : { expectedVersion: expected, currentVersion: actual },
    );
  }
}

export class InvalidTransitionError extends ConflictError {
  constructor(entity: string, from: string, to: string) {
    super(`${entity}.invalid_transition`, `${entity} cannot go from ${from} to ${to}`, { from, to });
  }
}

export class PreconditionRequiredError extends DomainError {
  readonly status = 428;
  constructor() {
    super('request.if_match_required', 'this write needs an If-Match header carrying the ETag of your last read', { header: 'if-match' });
  }
}

export class BadRequestError extends DomainError {
  readonly status = 400;
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  constructor(message = 'a valid API key is required: Authorization: Bearer <key>') {
    super('auth.unauthorized', message, { header: 'authorization', scheme: 'Bearer' });
  }
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  constructor(role: string, needed: readonly string[]) {
    super('auth.forbidden', `role ${role} may not do this (needs ${needed.join(' or ')})`, { role, needed });
  }
}

export class TooManyRequestsError extends DomainError {
  readonly status = 429;
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(code, message, { retryAfterSeconds });
  }
}

/** A dependency this request needs is down; nothing was written. Answered with Retry-After. */
export class ServiceUnavailableError extends DomainError {
  readonly status = 503;
  readonly retryAfterSeconds = 1;
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { ...details, retryAfterSeconds: 1 });
  }
}
