import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import type { ZodType, z } from 'zod';
import { ZodError } from 'zod';
import { DomainError } from '../errors/domain-error';

export interface FieldIssue {
  field: string;
  message: string;
}

export class ValidationError extends DomainError {
  readonly status = 400;
  constructor(readonly issues: FieldIssue[]) {
    super('request.validation_failed', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
  }
}

export function zodIssues(err: ZodError, location?: string): FieldIssue[] {
  return err.issues.map((i) => ({
    field: [location, ...i.path.map(String)].filter(Boolean).join('.') || '(root)',
    message: i.message,
  }));
}

/** Parses with a zod schema; a failure becomes a 400 naming each field. */
export function parseOrThrow<S extends ZodType>(schema: S, value: unknown, location?: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(zodIssues(r.error, location));
  return r.data;
}

@Injectable()
export class ZodPipe<S extends ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(readonly schema: S) {}
  transform(value: unknown, metadata: ArgumentMetadata): z.infer<S> {
    // Nest calls path parameters 'param'; the input guard and the docs name them 'params.<name>'.
    const location = metadata.type === 'custom' ? undefined : metadata.type === 'param' ? 'params' : metadata.type;
    return parseOrThrow(this.schema, metadata.type === 'body' && value === undefined ? {} : value, location);
  }
}

/** Aliases that read well at the call site: `@Body(new ZodBody(schema))`. */
export { ZodPipe as ZodBody, ZodPipe as ZodQuery, ZodPipe as ZodParam };
