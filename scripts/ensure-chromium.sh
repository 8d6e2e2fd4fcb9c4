#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (headless, through playwright-core); install it when
# missing (needs root or sudo). Run by scripts/test.sh before Jest starts.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
say() { printf '[cutover] %s\n' "$*" >&2; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root (or sudo) to run: $*"; return 1; fi
}
say "installing chromium from Debian's packages (for the dashboard's browser tests)"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
[ -x "$CHROMIUM" ] || { say "apt-get install chromium did not provide $CHROMIUM"; exit 1; }
