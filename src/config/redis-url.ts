/**
 * Where Redis is: one server (`redis://`, `rediss://`) or a Redis Cluster
 * (`redis+cluster://[user:password@]host:port[,host:port…]`, `rediss+cluster://` for TLS). The
 * cluster form lists seed nodes; the client discovers the others and the slot map from them.
 */
export type RedisTopology =
  | { mode: 'standalone'; url: string }
  | { mode: 'cluster'; nodes: Array<{ host: string; port: number }>; username?: string; password?: string; tls: boolean };

const CLUSTER = /^(rediss?)\+cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)\/?(\d+)?$/;
const NODE = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i;

/** The topology of a REDIS_URL, or a sentence saying what is wrong with it (never its value). */
export function parseRedisUrl(raw: string): RedisTopology | string {
  if (/^rediss?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      return 'must be a URL (redis://host:port, rediss://…, or redis+cluster://host:port,host:port)';
    }
    return { mode: 'standalone', url: raw };
  }
  const m = CLUSTER.exec(raw);
  if (!m) return 'must be redis://host:port, rediss://host:port or redis+cluster://host:port[,host:port…]';
  const [, scheme, user, password, hosts, db] = m;
  if (db !== undefined && db !== '0') return 'a Redis Cluster has only database 0: remove the /<db> part';
  const nodes: Array<{ host: string; port: number }> = [];
  for (const part of hosts.split(',')) {
    const n = NODE.exec(part.trim());
    if (!n || Number(n[2]) < 1 || Number(n[2]) > 65535) return 'each cluster node must be host:port (port 1-65535), separated by commas';
    nodes.push({ host: n[1].replace(/^\[|\]$/g, ''), port: Number(n[2]) });
  }
  return {
    mode: 'cluster',
    nodes,
    username: user ? decodeURIComponent(user) : undefined,
    password: password !== undefined ? decodeURIComponent(password) : undefined,
    tls: scheme === 'rediss',
  };
}

export function redisTopology(raw: string): RedisTopology {
  const t = parseRedisUrl(raw);
  if (typeof t === 'string') throw new Error(`REDIS_URL ${t}`);
  return t;
}
