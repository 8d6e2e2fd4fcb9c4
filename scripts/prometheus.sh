#!/usr/bin/env bash
# Makes Prometheus available for the Prometheus-guardrail tests, which start their own on a
# private port with a temporary data folder. It ships in the same Debian package as promtool,
# which promtool.sh installs when missing. Source it.
set -euo pipefail

# shellcheck source=scripts/promtool.sh
source "$(dirname "${BASH_SOURCE[0]}")/promtool.sh"
export PROMETHEUS="${PROMETHEUS:-$(command -v prometheus)}"
