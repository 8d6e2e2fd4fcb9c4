#!/usr/bin/env bash
# Stops the PostgreSQL and Redis that scripts/services.sh started for this checkout (if any).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA_DIR="${CUTOVER_DATA_DIR:-$PWD/.cutover}"
for pgdir in "$DATA_DIR/postgres" "/var/tmp/cutover-$(echo "$PWD" | sha1sum | cut -c1-10)/postgres"; do
  [ -f "$pgdir/postmaster.pid" ] || continue
  bindir=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)")
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "'$bindir/pg_ctl' -D '$pgdir' -m fast stop"; else "$bindir/pg_ctl" -D "$pgdir" -m fast stop; fi
done
if [ -f "$DATA_DIR/redis/redis.log" ] && command -v redis-cli >/dev/null; then
  redis-cli -p "${CUTOVER_REDIS_PORT:-63799}" shutdown 2>/dev/null || true
fi
