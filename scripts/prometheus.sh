#!/usr/bin/env bash
# Makes Prometheus (Debian's `prometheus`) available for the Prometheus-guardrail tests, which
# start their own on a private port with a temporary data folder. Source it.
set -euo pipefail

if ! command -v prometheus >/dev/null; then
  printf '[cutover] installing Prometheus (Debian package prometheus)\n' >&2
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    printf '[cutover] need root (or sudo) to run: %s\n' "$*" >&2; return 1; fi; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
export PROMETHEUS="${PROMETHEUS:-$(command -v prometheus)}"
