"""Opening the app loads none of the heavy libraries: they wait until a feature needs them.

Start time matters here (issue 21: at most 2x a bare Qt window; bench/startup.py measures it),
and these are the libraries that cost the most to load. Each test starts a fresh interpreter,
since this one has long imported them all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Organising (torch, dlib, onnxruntime), leak scans (OpenCV, httpx, ImageHash), watermark and
# immunizer (SciPy, OpenCV, LDPC, Reed-Solomon): not loaded at all until a feature needs them.
HEAVY = ("torch", "dlib", "onnxruntime", "cv2", "scipy", "httpx", "imagehash", "ldpc", "reedsolo",
         "efficientnet_lite_pytorch", "sklearn")
# What an open vault needs (arrays, images, the database, the ciphers and the KDF) and the
# modules built on them: not loaded until the first window takes input. They load on a thread
# after that, while the user types (app.ui.application.load_vault_modules_in_background).
VAULT = ("numpy", "PIL", "pillow_heif", "sqlcipher3", "peewee", "cryptography", "argon2", "pyotp", "segno",
         "app.core.vault", "app.core.db", "app.core.crypto", "app.workers.vault_jobs", "app.ui.main_window")

START = """
import json, sys
import app.ui.application as application

def loaded(names):
    return sorted(m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in names))

heavy, vault = sys.argv[2].split(","), sys.argv[3].split(",")
seen = {}
background_load = application.load_vault_modules_in_background

def ready():  # called once the first window has painted and the event loop is idle again
    seen["at_ready"] = loaded(vault)
    background_load()

application.load_vault_modules_in_background = ready
from app.__main__ import main
code = main(["--vault", sys.argv[1], "--smoke-test"])
print(json.dumps({"code": code, "heavy": loaded(heavy), "at_ready": seen.get("at_ready")}))
"""


def _start(vault: Path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", START, str(vault), ",".join(HEAVY), ",".join(VAULT)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_first_run_loads_no_heavy_library(tmp_path):
    started = _start(tmp_path / "new")  # the setup wizard
    assert started["code"] == 0
    assert started["heavy"] == []
    assert started["at_ready"] == []


def test_unlock_screen_loads_no_heavy_library(tmp_path):
    from .ui.conftest import make_vault

    vault = make_vault(tmp_path / "vault")
    started = _start(vault.path)  # the unlock screen
    assert started["code"] == 0
    assert started["heavy"] == []
    assert started["at_ready"] == []
