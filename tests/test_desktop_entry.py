"""`sanctum --install-desktop-entry` puts a valid launcher and icon in the user's data folder."""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from pathlib import Path

from app import desktop_entry

ROOT = Path(__file__).resolve().parents[1]


def test_install_writes_entry_and_icon_for_this_installation(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(data)}
    result = subprocess.run([sys.executable, "-m", "app", "--install-desktop-entry"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    entry = data / "applications" / "sanctum.desktop"
    icon = data / "icons" / "hicolor" / "scalable" / "apps" / "sanctum.svg"
    assert icon.read_bytes() == (ROOT / "app" / "resources" / "sanctum.svg").read_bytes()
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.optionxform = str
    parsed.read(entry, encoding="utf-8")
    section = parsed["Desktop Entry"]
    assert section["Type"] == "Application" and section["Icon"] == "sanctum"
    # Exec starts this same Python and package, by absolute path (no PATH needed).
    command = shlex.split(section["Exec"])
    assert command == [str(Path(sys.executable).absolute()), "-m", "app"]
    assert section["TryExec"] == command[0]
    started = subprocess.run([*command, "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0 and "sanctum" in started.stdout
    assert not (tmp_path / "home" / ".local").exists()  # XDG_DATA_HOME was honoured


def test_default_data_home_and_exec_quoting(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the spec: invalid, use the default
    assert desktop_entry.data_home() == tmp_path / ".local" / "share"
    text = desktop_entry.desktop_entry_text(["/opt/My Apps/sanctum", "50%"])
    assert 'Exec="/opt/My Apps/sanctum" "50%%"\n' in text
    assert "TryExec=/opt/My Apps/sanctum\n" in text
