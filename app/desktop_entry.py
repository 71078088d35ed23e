"""`sanctum --install-desktop-entry`: put Sanctum in the application menu of this user.

Writes the desktop entry (with the absolute path of the command that ran, so it works from a
virtual environment or a one-folder build that is not on PATH) to
$XDG_DATA_HOME/applications and the icon to $XDG_DATA_HOME/icons/hicolor/scalable/apps
($XDG_DATA_HOME defaults to ~/.local/share), as the freedesktop.org specs say. Nothing needs
root. Qt-free: it runs before any window exists.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from app.core.files import SHAREABLE_MODE, write_atomically

RESOURCES = Path(__file__).resolve().parent / "resources"
APP_ID = "sanctum"  # matches QApplication.setDesktopFileName("sanctum") and StartupWMClass


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    # The spec: a relative or empty value is invalid and the default applies.
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / ".local" / "share"


def launcher_command() -> list[str]:
    """How to start this same installation again, as an absolute command."""
    if getattr(sys, "frozen", False):  # PyInstaller build: the executable itself
        return [str(Path(sys.executable).resolve())]
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "sanctum" and script.is_file():  # the console script
        return [str(script.resolve())]
    # python -m app; not resolved: a venv's python is a symlink, and its target is not the venv.
    return [str(Path(sys.executable).absolute()), "-m", "app"]


def _exec_value(command: list[str]) -> str:
    # Desktop entry Exec quoting: arguments with spaces or specials in double quotes, with
    # `"`, "`", "$" and "\" escaped by a backslash; a literal "%" is written "%%".
    def quote(arg: str) -> str:
        arg = arg.replace("%", "%%")
        if arg and all(c.isalnum() or c in "/._-+:@=," for c in arg):
            return arg
        return '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'

    return " ".join(quote(a) for a in command)


def desktop_entry_text(command: list[str]) -> str:
    lines = []
    for line in (RESOURCES / "sanctum.desktop").read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + _exec_value(command)
        elif line.startswith("TryExec="):
            line = "TryExec=" + command[0]  # TryExec takes a path, unquoted
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(command: list[str] | None = None) -> tuple[Path, Path]:
    """Write the entry and the icon; returns their paths."""
    command = command or launcher_command()
    home = data_home()
    entry = home / "applications" / f"{APP_ID}.desktop"
    icon = home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    entry.parent.mkdir(parents=True, exist_ok=True)
    icon.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(RESOURCES / "sanctum.svg", icon)
    # Menus watch this folder: never show a half-written entry.
    write_atomically(entry, desktop_entry_text(command).encode("utf-8"), mode=SHAREABLE_MODE)
    # Menus pick the entry up by themselves; refreshing the caches only makes it quicker.
    for tool in (["update-desktop-database", str(entry.parent)],
                 ["gtk-update-icon-cache", "-q", "-t", str(home / "icons" / "hicolor")]):
        if shutil.which(tool[0]):
            subprocess.run(tool, check=False, capture_output=True, timeout=60)
    return entry, icon


def main() -> int:
    entry, icon = install()
    print(f"Added Sanctum to the application menu:\n  {entry}\n  {icon}\n"
          f"It starts: {shlex.join(launcher_command())}")
    return 0
