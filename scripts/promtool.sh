#!/usr/bin/env bash
# Makes promtool (Debian's `prometheus` package) available for the alert-rule tests. Source it.
set -euo pipefail

if ! command -v promtool >/dev/null; then
  printf '[cutover] installing promtool (Debian package prometheus)\n' >&2
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    printf '[cutover] need root (or sudo) to run: %s\n' "$*" >&2; return 1; fi; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
export PROMTOOL="${PROMTOOL:-$(command -v promtool)}"
