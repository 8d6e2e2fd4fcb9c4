#!/usr/bin/env bash
# A throwaway local Redis Cluster (three masters, no replicas) from Debian's redis-server, for
# the cluster test run. Source it: it exports REDIS_URL=redis+cluster://… and stops the nodes
# and removes their folder when the sourcing shell exits.
# CUTOVER_CLUSTER_PORT: first of three consecutive ports (default: a free range picked at random).
set -euo pipefail

CUTOVER_ROOT="${CUTOVER_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
command -v redis-server >/dev/null || { printf '[cutover] redis-server is not installed\n' >&2; exit 1; }

_cluster_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_cluster_pick_ports() {
  local base
  for _ in $(seq 50); do
    base=$((20000 + RANDOM % 20000))
    # a node also listens on port + 10000 (cluster bus)
    if ! _cluster_port_open $base && ! _cluster_port_open $((base + 1)) && ! _cluster_port_open $((base + 2)) \
      && ! _cluster_port_open $((base + 10000)) && ! _cluster_port_open $((base + 10001)) && ! _cluster_port_open $((base + 10002)); then
      echo $base; return 0
    fi
  done
  return 1
}

CLUSTER_BASE_PORT="${CUTOVER_CLUSTER_PORT:-$(_cluster_pick_ports)}"
CLUSTER_PORTS=("$CLUSTER_BASE_PORT" $((CLUSTER_BASE_PORT + 1)) $((CLUSTER_BASE_PORT + 2)))
CLUSTER_DIR="$CUTOVER_ROOT/.cutover/redis-cluster-$CLUSTER_BASE_PORT"

stop_redis_cluster() {
  for p in "${CLUSTER_PORTS[@]}"; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  rm -rf "$CLUSTER_DIR"
}
trap stop_redis_cluster EXIT
trap 'exit 143' INT TERM

mkdir -p "$CLUSTER_DIR"
printf '[cutover] starting a Redis Cluster on 127.0.0.1:%s-%s (data in %s)\n' "${CLUSTER_PORTS[0]}" "${CLUSTER_PORTS[2]}" "$CLUSTER_DIR" >&2
for p in "${CLUSTER_PORTS[@]}"; do
  redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "nodes-$p.conf" \
    --save '' --appendonly no --daemonize yes --dir "$CLUSTER_DIR" --logfile "$CLUSTER_DIR/redis-$p.log" >/dev/null
done
for p in "${CLUSTER_PORTS[@]}"; do
  for _ in $(seq 50); do _cluster_port_open "$p" && break; sleep 0.1; done
done
if ! redis-cli --cluster create "${CLUSTER_PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >"$CLUSTER_DIR/create.log" 2>&1; then
  printf '[cutover] creating the Redis Cluster failed:\n' >&2; cat "$CLUSTER_DIR/create.log" >&2; exit 1
fi
# ready when every node serves all slots and they agree on the slot map: a client connecting
# earlier meets CLUSTERDOWN on a node that has not heard of the new configuration yet
_cluster_ready() {
  for p in "${CLUSTER_PORTS[@]}"; do
    redis-cli -p "$p" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || return 1
  done
  redis-cli --cluster check "127.0.0.1:${CLUSTER_PORTS[0]}" 2>/dev/null | grep -q 'All nodes agree about slots configuration'
}
for _ in $(seq 300); do _cluster_ready && break; sleep 0.1; done
_cluster_ready || { printf '[cutover] the Redis Cluster did not come up (see %s)\n' "$CLUSTER_DIR" >&2; exit 1; }
export REDIS_URL="redis+cluster://127.0.0.1:${CLUSTER_PORTS[0]},127.0.0.1:${CLUSTER_PORTS[1]},127.0.0.1:${CLUSTER_PORTS[2]}"
