#!/usr/bin/env bash
# Starts the real app on an X server (Xvfb) with Qt's xcb platform -- what a desktop uses, not
# the tests' offscreen one -- and checks that its window appears: on a new vault folder (the setup
# wizard) and on an existing vault (the unlock screen).
#   scripts/check_desktop.sh [COMMAND...]    default: .venv/bin/sanctum (after scripts/setup.sh);
#                                            e.g. dist/sanctum/sanctum for the one-folder build
# Needs xvfb-run, xauth and xdotool, and Qt's system libraries: as root on Debian/Ubuntu it
# installs them; otherwise it prints the command to run.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($#)); then app=("$@"); else app=(.venv/bin/sanctum); fi
TIMEOUT=${TIMEOUT:-90}   # seconds per start; generous for a loaded 2-core CI machine

if [[ -z ${_CHECK_DESKTOP_INSIDE:-} ]]; then
  need=()
  command -v xvfb-run >/dev/null || need+=(xvfb)
  command -v xauth >/dev/null || need+=(xauth)
  command -v xdotool >/dev/null || need+=(xdotool)
  if ((${#need[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
      echo "check_desktop: needs ${need[*]}: sudo apt-get install ${need[*]}" >&2
      exit 1
    fi
  fi
  # The venv's Qt: install (root) or name (otherwise) the libraries the xcb plugin needs.
  if [[ ${app[0]} == .venv/* || -n ${PYTHON:-} ]]; then scripts/qt_libs.sh; fi
  # Always a private X server, even on a desktop: nothing pops up on the user's screen.
  export _CHECK_DESKTOP_INSIDE=1
  exec xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" "$0" "$@"
fi

TMP=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
export QT_QPA_PLATFORM=xcb   # the real X11 platform: fails here if a library is missing

# see_window <title regex> <label> [app args...]: start the app, wait for a visible window with
# that exact title, check the app is still running, then stop it.
see_window() {
  local title=$1 label=$2 start=$SECONDS started win=
  shift 2
  started=$(date +%s.%N)
  "${app[@]}" "$@" >"$TMP/out.log" 2>&1 &
  pid=$!
  while ((SECONDS - start < TIMEOUT)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "check_desktop: the app exited before showing its window ($label):" >&2
      cat "$TMP/out.log" >&2
      exit 1
    fi
    win=$(xdotool search --onlyvisible --name "$title" 2>/dev/null | head -1) && [[ -n $win ]] && break
    sleep 0.1
  done
  if [[ -z $win ]]; then
    echo "check_desktop: no window \"$title\" within ${TIMEOUT} s ($label):" >&2
    cat "$TMP/out.log" >&2
    exit 1
  fi
  local shown
  shown=$(date +%s.%N)
  echo "check_desktop: $label: window \"$(xdotool getwindowname "$win")\" $(xdotool getwindowgeometry "$win" \
    | awk '/Geometry/ {print $2}') on X display $DISPLAY after $(awk "BEGIN {printf \"%.1f\", $shown - $started}") s"
  sleep 1
  kill -0 "$pid" 2>/dev/null || { echo "check_desktop: the app died after showing its window" >&2; exit 1; }
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

see_window '^Set up Sanctum$' "new vault folder (setup wizard)" --vault "$TMP/vault"
[[ ! -e $TMP/vault ]] || { echo "check_desktop: looking created the vault" >&2; exit 1; }
SANCTUM_PASSPHRASE="check desktop passphrase, not secret" "${app[@]}" init --vault "$TMP/vault" --no-totp >/dev/null
see_window '^Sanctum$' "existing vault (unlock screen)" --vault "$TMP/vault"
echo "check_desktop: passed"
