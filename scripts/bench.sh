#!/usr/bin/env bash
# `npm run bench:<name> -- [args]`: builds the benchmarks into .cutover/bench (apart from
# dist/, which a build elsewhere would delete under a running bench) and runs
# bench/<name>.js against the PostgreSQL and Redis that scripts/services.sh finds or starts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
name=${1:?usage: scripts/bench.sh <bench name> [args]}
shift
out=.cutover/bench
rm -rf "$out"
npx tsc -p tsconfig.build.json --outDir "$out"
mkdir -p "$out/src/progress/dashboard"
cp -r src/progress/dashboard/assets "$out/src/progress/dashboard/"
[ -f "$out/bench/$name.js" ] || { echo "no benchmark named $name (see bench/)" >&2; exit 2; }
source scripts/services.sh
exec node "$out/bench/$name.js" "$@"
