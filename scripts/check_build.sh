#!/usr/bin/env bash
# The one-folder build (PyInstaller) from this checkout, checked the way a person would use it:
# it starts offscreen and on an X server (xcb), installs its menu entry, and it and a wheel
# install verify each other's immunized copies (and the checkout's).
#   scripts/check_build.sh      (after scripts/setup.sh; CI runs it after the tests)
# Takes ~7 minutes on 2 cores and ~2.6 GB of disk (build/ and dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
PYTHON=${PYTHON:-.venv/bin/python} bash packaging/build.sh
built=$SECONDS
echo "check_build: built in $((built - start)) s, $(du -sh dist/sanctum | cut -f1)"
bash packaging/smoke_test.sh dist/sanctum/sanctum
bash scripts/check_desktop.sh dist/sanctum/sanctum
bash scripts/check_wheel.sh dist/sanctum/sanctum
echo "check_build: passed in $((SECONDS - start)) s (build $((built - start)) s)"
