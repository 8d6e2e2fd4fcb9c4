#!/usr/bin/env bash
# Runs one k6 scenario after creating its results folder (k6 writes handleSummary's files but
# creates no folder). Arguments go to `k6 run` unchanged:
#   load-tests/run.sh -e RATE=1000 load-tests/evaluate.js
# K6 names the binary (default: k6 on PATH); RESULTS_DIR is read from the environment or
# from a `-e RESULTS_DIR=...` argument, as the scripts read it.
set -euo pipefail
dir="${RESULTS_DIR:-load-tests/results}"
prev=''
for arg in "$@"; do
  if [ "$prev" = -e ] || [ "$prev" = --env ]; then
    case "$arg" in RESULTS_DIR=*) dir="${arg#RESULTS_DIR=}" ;; esac
  fi
  case "$arg" in --env=RESULTS_DIR=*) dir="${arg#--env=RESULTS_DIR=}" ;; esac
  prev="$arg"
done
mkdir -p "$dir"
exec "${K6:-k6}" run "$@"
