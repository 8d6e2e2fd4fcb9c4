#!/usr/bin/env bash
# The whole test suite: unit, database and end-to-end, against real PostgreSQL and Redis.
# Extra arguments go to Jest (e.g. `npm test -- --selectProjects unit`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
source scripts/promtool.sh
export TZ=UTC
# The test databases are cloned from a template on the same server as DATABASE_URL.
# --forceExit: a handle left open by a failed test must fail the run, not hang it until the CI
# limit (Jest still prints the warning; the worker and API close everything they open).
exec npx jest --ci --forceExit "$@"
