#!/usr/bin/env bash
# A real browser for scans of pages that build their images with JavaScript (`sanctum scan
# --browser`, tests/test_browser_pages.py): installs Debian's Chromium when run as root and no
# Chromium, Chrome or Edge is found; else says how. Sanctum itself never downloads a browser.
set -euo pipefail
for name in chromium chromium-browser google-chrome google-chrome-stable microsoft-edge; do
  command -v "$name" >/dev/null 2>&1 && exit 0
done
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
else
  echo "browser: no Chromium found; the browser tests will be skipped (sudo apt-get install chromium)" >&2
fi
