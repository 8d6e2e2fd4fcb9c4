#!/usr/bin/env bash
# Makes Alertmanager (Debian's `prometheus-alertmanager`) available for the alerts-in tests,
# which start their own on a private port. Source it.
set -euo pipefail

if ! command -v prometheus-alertmanager >/dev/null && ! command -v alertmanager >/dev/null; then
  printf '[cutover] installing Alertmanager (Debian package prometheus-alertmanager)\n' >&2
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    printf '[cutover] need root (or sudo) to run: %s\n' "$*" >&2; return 1; fi; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null
fi
export ALERTMANAGER="${ALERTMANAGER:-$(command -v prometheus-alertmanager || command -v alertmanager)}"
