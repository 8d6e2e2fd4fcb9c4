#!/usr/bin/env bash
# `npm start`: everything Cutover needs, then the API and a worker in the foreground.
# Ctrl-C stops both. Set CUTOVER_DEMO=0 to skip loading the demo campaign.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

# The first admin key lives in a file only its owner reads; the API registers it at start-up
# and never prints a key. It is shown here by path, not value (this output ends up in logs).
mkdir -p .cutover
KEY_FILE=.cutover/admin-key
if [ -z "${AUTH_ADMIN_KEY:-}" ]; then
  if [ ! -s "$KEY_FILE" ]; then
    (umask 077 && node -e "const c=require('crypto');const a='abcdefghijklmnopqrstuvwxyz0123456789';let p='';for(const b of c.randomBytes(8))p+=a[b%36];process.stdout.write('co_'+p+'_'+c.randomBytes(24).toString('base64url'))" > "$KEY_FILE")
  fi
  chmod 600 "$KEY_FILE"
  AUTH_ADMIN_KEY=$(head -n 1 "$KEY_FILE")
  export AUTH_ADMIN_KEY
  KEY_WHERE="in $KEY_FILE (export CUTOVER_API_KEY=\$(cat $KEY_FILE))"
  KEY_NAME="the admin key in $KEY_FILE"
  MINT_OUT=" --out $KEY_FILE"
else
  KEY_WHERE="the AUTH_ADMIN_KEY you set"
  KEY_NAME="AUTH_ADMIN_KEY"
  MINT_OUT=''
fi
export HTTP_PORT="${HTTP_PORT:-3000}"
export LOG_LEVEL="${LOG_LEVEL:-info}"
URL="http://127.0.0.1:$HTTP_PORT"

pids=()
cleanup() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

node dist/src/main.api.js >> .cutover/api.log 2>&1 &
pids+=($!)
# the V8 heap cap of the Helm chart's worker (charts/cutover/values.yaml worker.command)
node --max-old-space-size=256 dist/src/main.worker.js >> .cutover/worker.log 2>&1 &
pids+=($!)

for _ in $(seq 100); do
  curl -fsS "$URL/health/ready" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { tail -n 30 .cutover/api.log >&2; exit 1; }
  sleep 0.3
done

if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $AUTH_ADMIN_KEY" "$URL/api/v1/keys/me")" = 401 ]; then
  printf '[cutover] %s is revoked. Mint a new admin key from this machine:\n' "$KEY_NAME" >&2
  printf '[cutover]   source scripts/services.sh && npm run admin -- mint-admin-key --reason "admin key revoked"%s\n' "$MINT_OUT" >&2
  printf '[cutover] then restart (docs/operations.md, "Lost admin key")\n' >&2
elif [ "${CUTOVER_DEMO:-1}" = 1 ] && [ -f dist/src/cli/demo.js ]; then
  CUTOVER_API_KEY="$AUTH_ADMIN_KEY" node dist/src/cli/demo.js --url "$URL" >&2 || printf '[cutover] demo could not be loaded; see above\n' >&2
fi

cat <<MSG

  Cutover is running.
    Dashboard:  $URL/
    API docs:   $URL/docs
    Admin key:  $KEY_WHERE
    Logs:       .cutover/api.log, .cutover/worker.log
    CLI:        CUTOVER_URL=$URL CUTOVER_API_KEY=\$(cat .cutover/admin-key) npx cutover campaigns list

  Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
