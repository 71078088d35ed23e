#!/usr/bin/env bash
# The installed package carries everything the source checkout has: builds the wheel, installs
# it into a fresh virtual environment, and checks that lossless copies immunized by the checkout
# verify with the wheel's `sanctum verify`, and the other way round (both through the CLI).
#   scripts/check_wheel.sh [BUILD]   (after scripts/setup.sh; CI runs it after the tests)
# BUILD: also the one-folder build's executable (dist/sanctum/sanctum): all three then verify
# each other's copies.
# PYTHON: the checkout's interpreter (default .venv/bin/python); it runs `python -m app` from
# the repository root, so the checkout's sources are used whatever is installed.
# WHEEL_VENV: reuse this environment for the wheel (its dependencies stay, the wheel is reinstalled).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
start=$SECONDS
build=${1:-}
[[ -z $build || -x $build ]] || { echo "check_wheel: no executable $build" >&2; exit 1; }
[[ -z $build ]] || build=$(realpath "$build")

"$PYTHON" -m pip wheel "$ROOT" --no-deps --quiet --wheel-dir "$WORK/dist"
wheel=$(ls "$WORK"/dist/sanctum-*.whl)
for data in app/core/immunizer/immunizer_predictor.npz app/resources/style.qss app/resources/sanctum.svg \
            app/resources/sanctum.desktop app/core/vision/imagenet_categories.tsv; do
  "$PYTHON" -c "import sys, zipfile; sys.exit('$data' not in zipfile.ZipFile(sys.argv[1]).namelist())" "$wheel" \
    || { echo "check_wheel: $data is missing from $(basename "$wheel")" >&2; exit 1; }
done

venv=${WHEEL_VENV:-$WORK/venv}
if [[ -z ${WHEEL_VENV:-} ]]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "$wheel"
else
  "$venv/bin/python" -m pip install --quiet --no-deps --force-reinstall "$wheel"
fi

checkout() { (cd "$ROOT" && "$PYTHON" -m app "$@"); }
installed() { (cd "$WORK" && "$venv/bin/sanctum" "$@"); }
built() { (cd "$WORK" && "$build" "$@"); }
sides=(checkout installed)
[[ -z $build ]] || sides+=(built)
field() { "$PYTHON" -c "import json, sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

# The wheel must run its own code, not the checkout's.
where=$(cd "$WORK" && "$venv/bin/python" -c "import app; print(app.__file__)")
[[ $where == "$venv"/* ]] || { echo "check_wheel: the wheel's python imports $where" >&2; exit 1; }

# Its menu entry starts the installed command itself.
XDG_DATA_HOME="$WORK/share" installed --install-desktop-entry >/dev/null
grep -qx "Exec=$venv/bin/sanctum" "$WORK/share/applications/sanctum.desktop" \
  || { echo "check_wheel: wrong Exec line in the installed menu entry" >&2; exit 1; }

"$PYTHON" -c "from PIL import Image; Image.open('tests/data/photos/kodim23.png').convert('RGB')\
.resize((384, 256)).save('$WORK/photo.png')"
export SANCTUM_PASSPHRASE="check wheel passphrase, not secret"
for side in "${sides[@]}"; do
  $side init --vault "$WORK/vault-$side" --no-totp --json >/dev/null
  $side immunize --vault "$WORK/vault-$side" "$WORK/photo.png" "$WORK/immunized-$side.png" \
    --mode lossless --json >/dev/null
done

verify() {  # verify <who verifies> <whose copy>
  local out
  out=$($1 verify "$WORK/immunized-$2.png" --vault "$WORK/none" --json)
  if [[ $(field verdict <<<"$out") != authentic || $(field bit_exact <<<"$out") != True ]]; then
    echo "check_wheel: the $1 copy of Sanctum does not verify the $2 one's lossless copy: $out" >&2
    exit 1
  fi
  echo "check_wheel: $1 verifies $2's lossless copy (authentic, bit-exact)"
}
for verifier in "${sides[@]}"; do
  for maker in "${sides[@]}"; do
    [[ $verifier == "$maker" ]] || verify "$verifier" "$maker"
  done
done
echo "check_wheel: passed in $((SECONDS - start)) s"
