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
# immunizer (SciPy, OpenCV, LDPC, Reed-Solomon).
HEAVY = ("torch", "dlib", "onnxruntime", "cv2", "scipy", "httpx", "imagehash", "ldpc", "reedsolo",
         "efficientnet_lite_pytorch", "sklearn")

START = """
import json, sys
from app.__main__ import main
code = main(["--vault", sys.argv[1], "--smoke-test"])
heavy = set(sys.argv[2:])
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if m.split(".")[0] in heavy)}))
"""


def _start(vault: Path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", START, str(vault), *HEAVY], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_first_run_loads_no_heavy_library(tmp_path):
    started = _start(tmp_path / "new")  # the setup wizard
    assert started["code"] == 0 and started["modules"] == []


def test_unlock_screen_loads_no_heavy_library(tmp_path):
    from .ui.conftest import make_vault

    vault = make_vault(tmp_path / "vault")
    started = _start(vault.path)  # the unlock screen
    assert started["code"] == 0 and started["modules"] == []
