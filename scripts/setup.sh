#!/usr/bin/env bash
# Creates .venv (if missing, or afresh with --fresh) and installs Sanctum into it.
# Usage: scripts/setup.sh [--fresh] [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

fresh=0 extras=""
for arg in "$@"; do
  case $arg in
    --fresh) fresh=1 ;;
    --test) extras="[test]" ;;
  esac
done

# Qt needs a few system libraries even offscreen; install them where they are missing and we can.
missing=()
if command -v dpkg >/dev/null 2>&1; then
  for pkg in libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})) && [[ $(id -u) == 0 ]]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

python=${PYTHON:-python3}
if ((fresh)); then rm -rf .venv; fi
if [[ ! -x .venv/bin/python ]]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".${extras}"
