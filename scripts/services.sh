#!/usr/bin/env bash
# Makes PostgreSQL and Redis available and exports DATABASE_URL / REDIS_URL. Source it.
# Order: the URLs already set; else servers answering on the default local ports; else our
# own instances from Debian's packages (installed when missing) in a project-local data folder.
set -euo pipefail

CUTOVER_ROOT="${CUTOVER_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
DATA_DIR="${CUTOVER_DATA_DIR:-$CUTOVER_ROOT/.cutover}"
OWN_PG_PORT="${CUTOVER_PG_PORT:-54329}"
OWN_REDIS_PORT="${CUTOVER_REDIS_PORT:-63799}"

say() { printf '[cutover] %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root (or sudo) to run: $*"; return 1; fi
}

install_packages() {
  local missing=()
  [ -n "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ] || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

start_own_postgres() {
  local bindir pgdir
  bindir=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
  pgdir="$DATA_DIR/postgres"
  mkdir -p "$DATA_DIR"
  # initdb/pg_ctl refuse to run as root: run them as the postgres user, who must own the
  # folder and be able to reach it; fall back to a folder outside the checkout if not.
  if [ "$(id -u)" = 0 ]; then
    if ! su postgres -s /bin/sh -c "test -x '$DATA_DIR'" 2>/dev/null; then
      pgdir="/var/tmp/cutover-$(echo "$CUTOVER_ROOT" | sha1sum | cut -c1-10)/postgres"
      say "postgres cannot reach $DATA_DIR; using $pgdir instead"
    fi
    mkdir -p "$pgdir" && chown -R postgres "$pgdir"
    local run="su postgres -s /bin/sh -c"
  else
    mkdir -p "$pgdir"
    local run="sh -c"
  fi
  if [ ! -f "$pgdir/PG_VERSION" ]; then
    $run "'$bindir/initdb' -D '$pgdir' -A trust -U postgres >/dev/null"
  fi
  if ! port_open 127.0.0.1 "$OWN_PG_PORT"; then
    say "starting our own PostgreSQL on 127.0.0.1:$OWN_PG_PORT (data in $pgdir)"
    $run "'$bindir/pg_ctl' -D '$pgdir' -o \"-p $OWN_PG_PORT -k '$pgdir' -c listen_addresses=127.0.0.1\" -l '$pgdir/log' -w start >/dev/null"
  fi
  export DATABASE_URL="postgresql://postgres@127.0.0.1:$OWN_PG_PORT/cutover"
}

start_own_redis() {
  mkdir -p "$DATA_DIR/redis"
  if ! port_open 127.0.0.1 "$OWN_REDIS_PORT"; then
    say "starting our own Redis on 127.0.0.1:$OWN_REDIS_PORT (data in $DATA_DIR/redis)"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$OWN_REDIS_PORT" --dir "$DATA_DIR/redis" \
      --save "" --appendonly yes --logfile "$DATA_DIR/redis/redis.log" >/dev/null
    for _ in $(seq 50); do port_open 127.0.0.1 "$OWN_REDIS_PORT" && break; sleep 0.1; done
  fi
  export REDIS_URL="redis://127.0.0.1:$OWN_REDIS_PORT"
}

if [ -n "${DATABASE_URL:-}" ]; then
  say "PostgreSQL: using DATABASE_URL"
elif port_open 127.0.0.1 "${CUTOVER_DEFAULT_PG_PORT:-5432}"; then
  export DATABASE_URL="postgresql://postgres@127.0.0.1:5432/cutover"
  say "PostgreSQL: using the server on 127.0.0.1:5432"
elif port_open 127.0.0.1 "$OWN_PG_PORT"; then
  export DATABASE_URL="postgresql://postgres@127.0.0.1:$OWN_PG_PORT/cutover"
  say "PostgreSQL: using our own server on 127.0.0.1:$OWN_PG_PORT"
else
  install_packages
  start_own_postgres
fi

if [ -n "${REDIS_URL:-}" ]; then
  say "Redis: using REDIS_URL"
elif port_open 127.0.0.1 "${CUTOVER_DEFAULT_REDIS_PORT:-6379}"; then
  export REDIS_URL="redis://127.0.0.1:6379"
  say "Redis: using the server on 127.0.0.1:6379"
elif port_open 127.0.0.1 "$OWN_REDIS_PORT"; then
  export REDIS_URL="redis://127.0.0.1:$OWN_REDIS_PORT"
  say "Redis: using our own server on 127.0.0.1:$OWN_REDIS_PORT"
else
  install_packages
  start_own_redis
fi
