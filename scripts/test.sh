#!/usr/bin/env bash
# Sets up (first time; afresh with --fresh) and runs the test suite offscreen (`-m slow`: the slow tests).
set -euo pipefail
cd "$(dirname "$0")/.."
setup_args=(--test)
pytest_args=()
for arg in "$@"; do
  if [[ $arg == --fresh ]]; then setup_args+=(--fresh); else pytest_args+=("$arg"); fi
done
scripts/setup.sh "${setup_args[@]}"
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q "${pytest_args[@]}"
