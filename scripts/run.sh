#!/usr/bin/env bash
# Sets up (first time) and starts the Sanctum app.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/sanctum "$@"
