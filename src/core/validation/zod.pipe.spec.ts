import { z } from 'zod';
import { ValidationError, ZodPipe } from './zod.pipe';

function fieldsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues.map((i) => i.field);
  }
  throw new Error('expected a ValidationError');
}

describe('ZodPipe field names', () => {
  const pipe = new ZodPipe(z.object({ id: z.string().regex(/^\d+$/) }).strict());

  it('names a path parameter params.<name>, like the input guard and the README', () => {
    expect(fieldsOf(() => pipe.transform({ id: 'abc' }, { type: 'param' }))).toEqual(['params.id']);
  });

  it('names body and query fields by their location', () => {
    expect(fieldsOf(() => pipe.transform({ id: 'x' }, { type: 'body' }))).toEqual(['body.id']);
    expect(fieldsOf(() => pipe.transform({ id: 'x' }, { type: 'query' }))).toEqual(['query.id']);
  });
});
