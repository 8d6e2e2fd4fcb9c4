#!/usr/bin/env bash
# Runs the Prisma CLI offline: the engine variables point at any existing file so that the
# CLI does not try to download native engines it does not use (see docs/architecture.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PRISMA_QUERY_ENGINE_LIBRARY="${PRISMA_QUERY_ENGINE_LIBRARY:-$PWD/package.json}"
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$PWD/package.json}"
export PRISMA_HIDE_UPDATE_MESSAGE=1
export CHECKPOINT_DISABLE=1
export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/cutover}"
exec node node_modules/prisma/build/index.js "$@"
