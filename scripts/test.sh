#!/usr/bin/env bash
# The whole test suite: unit, database, end-to-end and browser, against real PostgreSQL and Redis.
# Extra arguments go to Jest (e.g. `npm test -- --selectProjects unit`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
bash scripts/ensure-chromium.sh
source scripts/promtool.sh
source scripts/alertmanager.sh
source scripts/prometheus.sh
export TZ=UTC
# The test databases are cloned from a template on the same server as DATABASE_URL.
# --forceExit: a handle left open by a failed test must fail the run, not hang it until the CI
# limit (Jest still prints the warning; the worker and API close everything they open).
exec npx jest --ci --forceExit "$@"
