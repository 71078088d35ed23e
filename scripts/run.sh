#!/usr/bin/env bash
# Sets up (first time) and starts the Sanctum app.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Without them Qt aborts with a cryptic message; setup.sh above said what to install.
scripts/qt_libs.sh --check 2>/dev/null || {
  echo "Sanctum cannot open its window until the system libraries named above are installed." >&2
  exit 1
}
exec .venv/bin/sanctum "$@"
