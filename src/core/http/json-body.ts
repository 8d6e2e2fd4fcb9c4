import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../errors/domain-error';
import { formatPath, jsonTooDeepAt, MAX_JSON_DEPTH } from '../validation/hostile-input';
import { ValidationError } from '../validation/zod.pipe';

const POSITION = / (?:in JSON )?at position (\d+)/;

/** V8's reason without the echo of the input it appends to some messages. */
function parseFailure(err: unknown): { reason: string; position: number | null } {
  const message = err instanceof Error ? err.message : String(err);
  const position = POSITION.exec(message);
  const reason = message.replace(/, ".*is not valid JSON$/s, '').replace(POSITION, '').replace(/ in JSON$/, '');
  return { reason, position: position ? Number(position[1]) : null };
}

/**
 * The request body as JSON, or a 400 that says exactly what is wrong with it: empty, not
 * UTF-8, malformed (with the position when V8 gives one), or nested deeper than
 * MAX_JSON_DEPTH (naming where). Over-long bodies never get here: Fastify answers 413 first.
 */
export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) {
    throw new BadRequestError('request.empty_body', 'the body is empty but Content-Type is application/json: send a JSON value, or no Content-Type', { field: 'body' });
  }
  if (!isUtf8(raw)) throw new BadRequestError('request.invalid_utf8', 'the body is not valid UTF-8', { field: 'body' });
  const text = raw.toString('utf8');
  const deep = jsonTooDeepAt(text, MAX_JSON_DEPTH);
  if (deep) throw new ValidationError([{ field: formatPath('body', deep), message: `nested deeper than ${MAX_JSON_DEPTH} levels of objects and arrays` }]);
  try {
    return JSON.parse(text);
  } catch (err) {
    const { reason, position: at } = parseFailure(err);
    const position = at ?? (reason === 'Unexpected end of JSON input' ? text.length : null);
    const where = position === null ? '' : ` at position ${position}`;
    throw new BadRequestError('request.malformed_json', `the body is not valid JSON: ${reason}${where}`, { field: 'body', position });
  }
}

/** Replaces Fastify's JSON parser (which reports every malformed body as an empty one) with parseJsonBody. */
export function useJsonBodyParser(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  // Fastify also accepts text/plain as a string, which then failed validation as "expected
  // object"; the API speaks JSON only, so such a body is a 415 like any other media type.
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
