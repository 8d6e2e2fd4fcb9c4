import { parseRedisUrl } from '../../config/redis-url';
import { bullPrefix, groupedKey, keySlot as calculateSlot } from './redis-topology';
import { topologyMismatch } from './redis-topology-check';

describe('REDIS_URL topology', () => {
  it('reads a single Redis URL unchanged', () => {
    expect(parseRedisUrl('redis://:pw@10.0.0.1:6379/2')).toEqual({ mode: 'standalone', url: 'redis://:pw@10.0.0.1:6379/2' });
    expect(parseRedisUrl('rediss://r.example:6380')).toMatchObject({ mode: 'standalone' });
  });

  it('reads a cluster URL as seed nodes with credentials and TLS', () => {
    expect(parseRedisUrl('rediss+cluster://app:s%40cret@a.example:7000,b.example:7001,[::1]:7002')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'a.example', port: 7000 },
        { host: 'b.example', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: 'app',
      password: 's@cret',
      tls: true,
    });
    expect(parseRedisUrl('redis+cluster://127.0.0.1:7000/0')).toMatchObject({ mode: 'cluster', tls: false, nodes: [{ host: '127.0.0.1', port: 7000 }] });
  });

  it.each([
    ['redis+cluster://a:7000/3', 'only database 0'],
    ['redis+cluster://a,b:7001', 'host:port'],
    ['redis+cluster://a:70000', 'host:port'],
    ['http://a:6379', 'must be redis://'],
    ['redis://a:notaport', 'must be a URL'],
  ])('refuses %s and says why', (url, why) => {
    expect(parseRedisUrl(url)).toEqual(expect.stringContaining(why));
  });

  it('computes the slots Redis computes (CLUSTER KEYSLOT)', () => {
    expect(calculateSlot('foo')).toBe(12182);
    expect(calculateSlot('somekey')).toBe(11058);
    expect(calculateSlot('{user1000}.following')).toBe(calculateSlot('user1000'));
  });

  it('puts the keys of a group in one slot in a cluster, and keeps the single-Redis names', () => {
    expect(groupedKey(false, 'cutover', ['pace', 7n], ['ticket', 9])).toBe('cutover:pace:7:ticket:9');
    const timeline = groupedKey(true, 'cutover', ['pace', 7n], []);
    const ticket = groupedKey(true, 'cutover', ['pace', 7n], ['ticket', 9]);
    expect(ticket).toBe('cutover:{pace:7}:ticket:9');
    expect(calculateSlot(ticket)).toBe(calculateSlot(timeline));
    expect(calculateSlot(groupedKey(true, 'other', ['pace', 7n], []))).toBe(calculateSlot(timeline));
    // different groups spread: 64 slabs of one flag's ratchet land on many slots
    const slots = new Set(Array.from({ length: 64 }, (_, s) => calculateSlot(groupedKey(true, 'cutover', ['ratchet', 1n, `s${s}`], ['synced']))));
    expect(slots.size).toBeGreaterThan(60);
  });

  it("gives BullMQ one hash tag for every queue in a cluster (BullMQ's rule), its old prefix otherwise", () => {
    expect(bullPrefix(false, 'cutover')).toBe('cutover:bull');
    expect(bullPrefix(true, 'cutover')).toBe('cutover:{bull}');
    expect(calculateSlot(`${bullPrefix(true, 'x')}:migration:wait`)).toBe(calculateSlot(`${bullPrefix(true, 'x')}:control:meta`));
  });

  it('refuses a URL whose kind the server contradicts, and accepts a match', () => {
    expect(topologyMismatch('standalone', '# Cluster\r\ncluster_enabled:1\r\n')).toContain('redis+cluster://');
    expect(topologyMismatch('cluster', '# Cluster\r\ncluster_enabled:0\r\n')).toContain('cluster mode disabled');
    expect(topologyMismatch('standalone', '# Cluster\r\ncluster_enabled:0\r\n')).toBeNull();
    expect(topologyMismatch('cluster', '# Cluster\r\ncluster_enabled:1\r\n')).toBeNull();
  });
});
