import { HttpException, Logger } from '@nestjs/common';
import { z } from 'zod';
import { ConflictError, NotFoundError, TooManyRequestsError, VersionConflictError } from './domain-error';
import { toErrorResponse } from './error.filter';

const log = { error: jest.fn() } as unknown as Logger;

describe('toErrorResponse', () => {
  it('maps domain errors to their status and stable code', () => {
    expect(toErrorResponse(new NotFoundError('flag', 'x'), log)).toMatchObject({ status: 404, body: { code: 'flag.not_found' } });
    expect(toErrorResponse(new VersionConflictError('campaign', 2, 3), log)).toMatchObject({
      status: 409,
      body: { code: 'campaign.version_conflict', details: { expectedVersion: 2, currentVersion: 3 } },
    });
    expect(toErrorResponse(new ConflictError('flag.salt_frozen', 'frozen'), log).status).toBe(409);
    expect(toErrorResponse(new TooManyRequestsError('x.limited', 'slow down', 7), log)).toMatchObject({
      status: 429,
      headers: { 'retry-after': '7' },
    });
  });

  it('names fields of a zod error', () => {
    const r = z.object({ a: z.number() }).safeParse({ a: 'x' });
    expect(toErrorResponse(r.error, log)).toMatchObject({ status: 400, body: { code: 'request.validation_failed', details: [{ field: 'a' }] } });
  });

  it('recovers the codes of Fastify request errors', () => {
    expect(toErrorResponse(new HttpException('Request body is too large', 413), log).body.code).toBe('request.body_too_large');
    expect(toErrorResponse(new HttpException("Body is not valid JSON but content-type is set to 'application/json'", 400), log).body.code).toBe(
      'request.malformed_json',
    );
    expect(toErrorResponse(new HttpException('Cannot GET /x', 404), log).body.code).toBe('http.not_found');
  });

  it('hides unexpected errors behind an errorId and logs them once', () => {
    const error = jest.fn();
    const r = toErrorResponse(new Error('db exploded'), { error } as unknown as Logger);
    expect(r.status).toBe(500);
    expect(r.body.message).not.toContain('db exploded');
    expect(error).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(error.mock.calls[0])).toContain((r.body.details as { errorId: string }).errorId);
  });

  it('answers 503 with Retry-After when PostgreSQL or Redis is unavailable, wherever the cause sits', () => {
    const warn = jest.fn();
    const l = { warn, error: jest.fn() } as unknown as Logger;
    const prismaWrapped = Object.assign(new Error('Invalid invocation'), { meta: { driverAdapterError: { cause: { kind: 'ConnectionClosed' } } } });
    for (const err of [
      new Error('Connection terminated unexpectedly'),
      new Error('Connection is closed.'),
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('x'), { code: '57P01' }),
      Object.assign(new Error('x'), { code: 'P1001' }),
      new Error('outer', { cause: Object.assign(new Error('inner'), { code: '08006' }) }),
      prismaWrapped,
    ]) {
      expect(toErrorResponse(err, l)).toMatchObject({ status: 503, body: { code: 'service.unavailable' }, headers: { 'retry-after': '1' } });
    }
    expect(toErrorResponse(Object.assign(new Error('x'), { code: '23505' }), l).status).toBe(500);
  });

  it('answers 503 service.contention when PostgreSQL aborted the transaction for a concurrent one', () => {
    const l = { warn: jest.fn(), error: jest.fn() } as unknown as Logger;
    for (const code of ['40P01', '40001', '55P03', 'P2028', 'P2034']) {
      const wrapped = Object.assign(new Error('Invalid invocation'), { meta: { driverAdapterError: { cause: { originalCode: code, kind: 'postgres' } } } });
      expect(toErrorResponse(wrapped, l)).toMatchObject({ status: 503, body: { code: 'service.contention' }, headers: { 'retry-after': '1' } });
    }
  });
});
