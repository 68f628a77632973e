#!/usr/bin/env bash
# Install the Debian packages the test suite needs when they are missing: the browser the
# Playwright tests drive, CJK fonts (screenshots, PDFs) and gettext. Fails loudly, never skips.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
command -v msgfmt >/dev/null || need+=(gettext)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "== installing system packages: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Need root (or sudo) to install: ${need[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
[ -x /usr/bin/chromium ] || { echo "chromium did not install" >&2; exit 1; }
