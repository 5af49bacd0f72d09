#!/usr/bin/env bash
# What only the tests need beyond the bootstrap: Debian's Chromium for the console's browser tests
# (playwright-core drives /usr/bin/chromium; no browser download).
set -euo pipefail
if [ ! -x "${RECAP_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "test-deps: installing Debian's chromium" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
