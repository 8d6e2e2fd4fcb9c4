/**
 * A key whose first `group.length` parts form its Redis Cluster hash tag: keys that a script or
 * a multi-key command uses together share a group, so they share a slot; different groups
 * spread over the cluster. Without a cluster the braces are left out, so a single Redis keeps
 * the key names it always had.
 */
export function groupedKey(cluster: boolean, prefix: string, group: ReadonlyArray<string | number | bigint>, rest: ReadonlyArray<string | number | bigint>): string {
  const tag = group.map(String).join(':');
  return [prefix, cluster ? `{${tag}}` : tag, ...rest.map(String)].join(':');
}

/** BullMQ's key prefix: in a cluster every queue's keys share one hash tag, as BullMQ requires. */
export function bullPrefix(cluster: boolean, prefix: string): string {
  return cluster ? `${prefix}:{bull}` : `${prefix}:bull`;
}

/** The Redis Cluster slot of a key (CRC16/XMODEM of its hash tag, or of the whole key, mod 16384). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
