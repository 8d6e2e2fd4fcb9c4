import { PreconditionRequiredError, BadRequestError } from '../errors/domain-error';

/** Weak-free ETag for a versioned entity: `"<version>"`. */
export function etagFor(version: number): string {
  return `"${version}"`;
}

/** Reads `If-Match`; a missing header is a 428, a malformed one a 400. */
export function versionFromIfMatch(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') throw new PreconditionRequiredError();
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(value);
  if (!m) throw new BadRequestError('request.if_match_invalid', 'If-Match must be the ETag of your last read, e.g. "3"', { header: 'if-match' });
  return Number(m[1]);
}
