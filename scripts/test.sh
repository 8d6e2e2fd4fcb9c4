#!/usr/bin/env bash
# The whole test suite: unit, database, end-to-end and browser, against real PostgreSQL and Redis.
# Without arguments it then runs the suites that exercise Redis across processes (flags/OFREP,
# migration engine, replicas, worker kill) again on a throwaway three-master Redis Cluster.
# Extra arguments go to Jest (e.g. `npm test -- --selectProjects unit`) and run one Redis mode:
# REDIS_MODE=cluster on the cluster, otherwise on the single Redis.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CLUSTER_SUITES="${CUTOVER_CLUSTER_SUITES:-}"
[ -n "$CLUSTER_SUITES" ] || CLUSTER_SUITES='test/e2e/(flags|ofrep|kill-switch-hostile|flags-replicas|keys-replicas|conversations|migration|migration-kill|migration-halt)\.e2e-spec\.ts$|test/faults/worker-(kill|sigterm)\.fault-spec\.ts$|src/flags/ratchet\.db-spec\.ts$|/pacer\.db-spec\.ts$|src/core/redis/redis-epoch\.db-spec\.ts$'
if [ "${REDIS_MODE:-standalone}" = cluster ]; then
  # shellcheck source=scripts/redis-cluster.sh
  source scripts/redis-cluster.sh
fi
source scripts/setup.sh
bash scripts/ensure-chromium.sh
source scripts/promtool.sh
source scripts/alertmanager.sh
source scripts/prometheus.sh
export TZ=UTC
# The test databases are cloned from a template on the same server as DATABASE_URL.
# --forceExit: a handle left open by a failed test must fail the run, not hang it until the CI
# limit (Jest still prints the warning; the worker and API close everything they open).
if [ "${REDIS_MODE:-standalone}" = cluster ]; then
  # not exec: the cluster's EXIT trap stops its nodes after Jest
  npx jest --ci --forceExit --selectProjects db e2e faults --testPathPatterns "$CLUSTER_SUITES" "$@"
elif [ $# -eq 0 ] && [ -z "${REDIS_MODE:-}" ]; then
  npx jest --ci --forceExit
  REDIS_MODE=cluster CUTOVER_SKIP_BUILD=1 bash scripts/test.sh
else
  exec npx jest --ci --forceExit "$@"
fi
