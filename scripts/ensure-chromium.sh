#!/usr/bin/env bash
# The page's browser test drives Debian's Chromium (playwright-core brings no browser of its own).
# Installs it with apt-get when it is missing; does nothing, quietly, when it is there.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available: install Chromium yourself" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "ensure-chromium: $CHROMIUM is missing; run as root (or with sudo) to install it" >&2
    exit 1
  fi
fi
echo "ensure-chromium: installing Chromium for the browser test…" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "ensure-chromium: the install did not provide $CHROMIUM" >&2; exit 1; }
