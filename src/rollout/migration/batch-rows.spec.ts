import { batchRows } from './batches.repository';

describe('batchRows', () => {
  it('selects a range batch by its bucket range (the bucket index)', () => {
    const q = batchRows({ fromBucket: 10, toBucket: 20, userIds: [] }, 'um');
    expect(q.sql).toBe('um.bucket >= ? AND um.bucket < ?');
    expect(q.values).toEqual([10, 20]);
  });

  it('selects a batch of explicit users by id alone (the primary key), whatever its range', () => {
    const q = batchRows({ fromBucket: 0, toBucket: 1_000_000, userIds: [5n, 7n] }, 'user_migrations');
    expect(q.sql).toBe('user_migrations.user_id = ANY(?::bigint[])');
    expect(q.values).toEqual(['{5,7}']);
    expect(q.sql).not.toContain('bucket');
  });
});
