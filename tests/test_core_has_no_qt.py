"""`app/core` must never import Qt: it runs in the CLI, in workers and in tests without a GUI."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import app.core


def test_core_modules_import_without_qt():
    modules = [m.name for m in pkgutil.walk_packages(app.core.__path__, "app.core.")]
    assert "app.core.vault" in modules and "app.core.crypto" in modules
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as exc:\n"
        "        if 'Qt' in str(exc) or 'PySide' in str(exc): raise\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide', 'PyQt', 'shiboken')))\n"
        "print(','.join(qt))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=Path(app.core.__file__).parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"Qt modules imported by app.core: {result.stdout}"
