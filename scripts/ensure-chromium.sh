#!/usr/bin/env bash
# Make sure Debian's headless Chromium and its driver are installed (the page's browser test needs
# them). Idempotent: does nothing when both are present; installs with apt when root; otherwise
# says what to install and exits 0 (the browser test then skips locally and fails in CI).
set -euo pipefail
CHROMIUM=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver

if [[ -x $CHROMIUM && -x $DRIVER ]]; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "installing chromium and chromium-driver with apt ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  exit 0
fi
echo "ensure-chromium: $CHROMIUM or $DRIVER is missing; install them with:" >&2
echo "  sudo apt-get install chromium chromium-driver" >&2
