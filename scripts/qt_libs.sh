#!/usr/bin/env bash
# The system libraries Qt needs to open windows (the xcb platform plugin, for X11 and XWayland)
# and to run offscreen (the tests): finds the ones missing with ldd on the Qt in the venv,
# installs them on Debian/Ubuntu when run as root, else prints the exact command to run.
#   scripts/qt_libs.sh [--check] [--tests]   (--check: only report; exit 1 when some are missing;
#                                             --tests: also the programs some tests start, below)
# Needs the venv (scripts/setup.sh calls this after installing); PYTHON overrides .venv/bin/python.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
check_only=0 tests=0
for arg in "$@"; do
  case $arg in --check) check_only=1 ;; --tests) tests=1 ;; esac
done

# Programs the panic-lock tests start (tests/ui/test_panic_system.py): a private D-Bus daemon
# (screen lock and sleep signals), an X server and xdotool (the global shortcut). Without them
# those tests are skipped with the reason.
if ((tests && !check_only)) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  tools=()
  command -v dbus-daemon >/dev/null || tools+=(dbus)
  command -v Xvfb >/dev/null || tools+=(xvfb)
  command -v xdotool >/dev/null || tools+=(xdotool)
  if ((${#tools[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null
  fi
fi

# Debian/Ubuntu package of each library the Qt libraries and plugins below link to (those the
# PySide6 wheel does not bundle). Ubuntu 24.04 renamed libglib2.0-0 to libglib2.0-0t64; apt picks
# it from the old name.
declare -A DEBIAN=(
  [libxcb-cursor.so.0]=libxcb-cursor0 [libxcb-icccm.so.4]=libxcb-icccm4 [libxcb-image.so.0]=libxcb-image0
  [libxcb-keysyms.so.1]=libxcb-keysyms1 [libxcb-randr.so.0]=libxcb-randr0
  [libxcb-render-util.so.0]=libxcb-render-util0 [libxcb-render.so.0]=libxcb-render0
  [libxcb-shape.so.0]=libxcb-shape0 [libxcb-shm.so.0]=libxcb-shm0 [libxcb-sync.so.1]=libxcb-sync1
  [libxcb-util.so.1]=libxcb-util1 [libxcb-xfixes.so.0]=libxcb-xfixes0 [libxcb-xkb.so.1]=libxcb-xkb1
  [libxcb-glx.so.0]=libxcb-glx0 [libxcb.so.1]=libxcb1 [libX11-xcb.so.1]=libx11-xcb1 [libX11.so.6]=libx11-6
  [libxkbcommon-x11.so.0]=libxkbcommon-x11-0 [libxkbcommon.so.0]=libxkbcommon0
  [libEGL.so.1]=libegl1 [libGL.so.1]=libgl1 [libfontconfig.so.1]=libfontconfig1
  [libfreetype.so.6]=libfreetype6 [libdbus-1.so.3]=libdbus-1-3
  [libglib-2.0.so.0]=libglib2.0-0 [libgthread-2.0.so.0]=libglib2.0-0
  [libz.so.1]=zlib1g [libzstd.so.1]=libzstd1
)

qt=$("$PYTHON" -c "import os, PySide6; print(os.path.join(os.path.dirname(PySide6.__file__), 'Qt'))")
missing_libs() {
  local f
  for f in "$qt"/lib/libQt6{Core,Gui,Widgets,DBus,Svg,OpenGL,XcbQpa}.so.6 \
           "$qt"/plugins/platforms/lib{qxcb,qoffscreen}.so "$qt"/plugins/xcbglintegrations/*.so \
           "$qt"/plugins/imageformats/libqsvg.so "$qt"/plugins/iconengines/*.so; do
    [[ -e $f ]] && ldd "$f" 2>/dev/null | awk '/=> not found/ {print $1}'
  done | sort -u
}

mapfile -t missing < <(missing_libs)
((${#missing[@]})) || exit 0

packages=() unknown=()
for lib in "${missing[@]}"; do
  if [[ -n ${DEBIAN[$lib]:-} ]]; then packages+=("${DEBIAN[$lib]}"); else unknown+=("$lib"); fi
done
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)

if command -v apt-get >/dev/null 2>&1 && ((${#packages[@]})); then
  if ((!check_only)) && [[ $(id -u) == 0 ]]; then
    echo "Installing the system libraries Qt needs: ${packages[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    mapfile -t missing < <(missing_libs)
    ((${#missing[@]})) || exit 0
  else
    echo "Qt needs system libraries that are missing (${missing[*]}). Install them with:" >&2
    echo "  sudo apt-get install ${packages[*]}" >&2
  fi
else
  cat >&2 <<MSG
Qt needs system libraries that are missing: ${missing[*]}
Install your distribution's packages for them, for example:
  Fedora:   sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms xcb-util-image xcb-util-renderutil libxkbcommon-x11
  Arch:     sudo pacman -S --needed xcb-util-cursor xcb-util-wm xcb-util-keysyms xcb-util-image xcb-util-renderutil libxkbcommon-x11
  openSUSE: sudo zypper install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0
MSG
fi
((${#unknown[@]})) && echo "No known package for: ${unknown[*]}" >&2
exit 1
