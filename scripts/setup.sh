#!/usr/bin/env bash
# Creates .venv (if missing, or afresh with --fresh) and installs Sanctum into it.
# Usage: scripts/setup.sh [--fresh] [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

fresh=0 extras="" libs_args=()
for arg in "$@"; do
  case $arg in
    --fresh) fresh=1 ;;
    --test) extras="[test]" libs_args=(--tests) ;;
  esac
done

python=${PYTHON:-python3}
if ((fresh)); then rm -rf .venv; fi
if [[ ! -x .venv/bin/python ]]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".${extras}"

# Qt's system libraries (windows on X11/XWayland, and offscreen for the tests): installed as root
# on Debian/Ubuntu, else the exact command is printed. Not fatal here: run.sh refuses to start
# without them, the offscreen tests may not need all of them.
scripts/qt_libs.sh "${libs_args[@]}" || true
