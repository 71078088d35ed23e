#!/usr/bin/env bash
# Start the built app offscreen and check it opens its first window and quits by itself.
#   packaging/smoke_test.sh [dist/sanctum/sanctum]
set -euo pipefail
cd "$(dirname "$0")/.."
APP="${1:-dist/sanctum/sanctum}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export QT_QPA_PLATFORM=offscreen

# 1. First run: the setup wizard opens (and nothing is created by just looking).
out="$(SANCTUM_VAULT="$TMP/vault" timeout 60 "$APP" --smoke-test)"
echo "$out"
grep -q "ok (SetupWizard shown" <<<"$out"
test ! -e "$TMP/vault"

# 2. The CLI in the same executable makes a vault; then the app opens on the unlock screen.
SANCTUM_PASSPHRASE="smoke test passphrase" timeout 120 "$APP" init --vault "$TMP/vault" --no-totp >/dev/null
out="$(SANCTUM_VAULT="$TMP/vault" timeout 60 "$APP" --smoke-test)"
echo "$out"
grep -q "ok (UnlockWindow shown" <<<"$out"
# 3. The menu entry: written for this user, starting this very executable, with its icon.
XDG_DATA_HOME="$TMP/share" "$APP" --install-desktop-entry
grep -qx "Exec=$(realpath "$APP")" "$TMP/share/applications/sanctum.desktop"
test -s "$TMP/share/icons/hicolor/scalable/apps/sanctum.svg"
# 4. Organising runs on the models inside the build (tags and faces; nothing is downloaded).
export SANCTUM_PASSPHRASE="smoke test passphrase"
"$APP" import --vault "$TMP/vault" tests/data/photos/kodim23.png tests/data/photos/kodim04.png >/dev/null
timeout 300 "$APP" index --vault "$TMP/vault" | tee "$TMP/index.txt"
grep -q "Analysed 2 photo" "$TMP/index.txt"
"$APP" list --vault "$TMP/vault" --tag animals --json | grep -q '"kodim23.png"'
"$APP" people --vault "$TMP/vault" | grep -q "Person 1"
echo "smoke test passed"
