#!/usr/bin/env bash
# Build a one-folder Sanctum app with PyInstaller: dist/sanctum/sanctum
#   packaging/build.sh            (uses the current Python; installs PyInstaller if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c "import PyInstaller" 2>/dev/null || "$PYTHON" -m pip install "pyinstaller>=6.5"
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/sanctum.spec
echo "built: dist/sanctum/sanctum ($(du -sh dist/sanctum | cut -f1))"
