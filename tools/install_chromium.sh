#!/usr/bin/env bash
# The browser the page tests drive: Debian's chromium at /usr/bin/chromium (Playwright's driver
# runs it; no browser download). Installs it when missing and we may; otherwise says why and
# the browser tests skip.
set -uo pipefail
[ -x /usr/bin/chromium ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || { command -v sudo >/dev/null && SUDO="sudo -n"; }
if [ "$(id -u)" != 0 ] && [ -z "$SUDO" ]; then
  echo "note: /usr/bin/chromium is missing and we are not root: the browser tests will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || {
  $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null
} || echo "note: could not install chromium: the browser tests will skip" >&2
exit 0
