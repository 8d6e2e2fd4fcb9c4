#!/usr/bin/env bash
# Shared first half of `npm start` and `npm test`: dependencies, services, database, build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[cutover] %s\n' "$*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
# shellcheck source=scripts/services.sh
source scripts/services.sh
say "generating the Prisma client"
bash scripts/prisma.sh generate >/dev/null 2>&1 || bash scripts/prisma.sh generate >&2
node scripts/ensure-database.js
say "applying migrations"
bash scripts/prisma.sh migrate deploy >/dev/null 2>&1 || bash scripts/prisma.sh migrate deploy >&2
if [ "${CUTOVER_SKIP_BUILD:-0}" != 1 ]; then
  say "building"
  npm run --silent build >&2
fi
