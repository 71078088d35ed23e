"""Start time: from launch to the first window, and to the screen taking input, as a ratio to a
bare PySide6 window started the same way in the same run.

    python bench/startup.py [--runs 9] [--command CMD] [--compare CMD] [--out FILE]   (paste the table into docs/benchmarks.md)

Each run is a fresh process (`python -m app --vault DIR`, or CMD, e.g. dist/sanctum/sanctum for
the one-folder build) with SANCTUM_STARTUP_TRACE=1: the app prints the wall-clock time of the
first window's first paint and of the event loop's first idle turn after it, when the keyboard
focus is in the first field (see `StartupTrace` in app/ui/application.py). The bare window prints
the same two marks with the same code. Three kinds of start take turns, in a rotating order,
so a busy machine slows all of them alike:

* bare: `python -c` a QApplication and one QWidget, nothing else imported;
* wizard: a new vault folder (first run: the setup wizard);
* unlock: an existing vault (the unlock screen, its passphrase field focused).

--compare CMD adds a wizard and an unlock start of another build of the app (e.g. an older
checkout, wrapped to print the same marks) to the same rotation.

Uses Qt's xcb platform on a private Xvfb server when xvfb-run is installed (what a desktop
does), else offscreen. Bar (issue 21): the app's medians at most 2x the bare window's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAR = 2.0

# The same marks as app.ui.application.StartupTrace, for a window with nothing behind it.
BARE = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

def mark(*what):
    print("sanctum-startup", what[0], f"{time.time():.6f}", *what[1:], file=sys.stderr, flush=True)

class Trace(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            mark("first-window")
            QTimer.singleShot(0, lambda: mark("ready", type(watched.focusWidget()).__name__))
        return False

app = QApplication(sys.argv)
window = QWidget()
window.setWindowTitle("Bare")
field = QLineEdit(window)
QVBoxLayout(window).addWidget(field)
trace = Trace()
window.installEventFilter(trace)
window.show()
field.setFocus()
app.exec()
"""


def one_start(command: list[str], env: dict, timeout: float = 120) -> tuple[float, float, str]:
    """(seconds to first window, seconds to ready, focus widget class) of one fresh process."""
    launched = time.time()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    marks: dict[str, list[str]] = {}
    try:
        deadline = time.monotonic() + timeout
        for line in proc.stderr:
            parts = line.split()
            if parts[:1] == ["sanctum-startup"]:
                marks[parts[1]] = parts[2:]
                if parts[1] == "ready":
                    break
            if time.monotonic() > deadline:
                break
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if "ready" not in marks:
        raise RuntimeError(f"{command}: no startup marks (exit {proc.returncode})")
    first, ready = float(marks["first-window"][0]), float(marks["ready"][0])
    focus = marks["ready"][1] if len(marks["ready"]) > 1 else "?"
    return first - launched, ready - launched, focus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="starts of each kind (default 9)")
    parser.add_argument("--command", help="the app's command (default: this python -m app)")
    parser.add_argument("--compare", help="another app command, started in the same rotation")
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    parser.add_argument("--json", type=Path, help="also write the raw times here")
    args = parser.parse_args()

    if not os.environ.get("_STARTUP_BENCH_INSIDE") and shutil.which("xvfb-run"):
        env = dict(os.environ, _STARTUP_BENCH_INSIDE="1")
        return subprocess.call(["xvfb-run", "--auto-servernum", "--server-args=-screen 0 1280x800x24",
                                sys.executable, *sys.argv], env=env)
    qpa = "xcb" if os.environ.get("DISPLAY") else "offscreen"
    env = dict(os.environ, QT_QPA_PLATFORM=qpa, SANCTUM_STARTUP_TRACE="1")
    env.pop("SANCTUM_VAULT", None)
    # As installed: byte-code caches written and used (the warm-up starts below write them).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    app = args.command.split() if args.command else [sys.executable, "-m", "app"]

    with tempfile.TemporaryDirectory() as tmp:
        vault = Path(tmp) / "vault"
        subprocess.run([*app, "init", "--vault", str(vault), "--no-totp"], cwd=ROOT, check=True,
                       env=dict(env, SANCTUM_PASSPHRASE="startup bench passphrase"), capture_output=True)
        kinds = {
            "bare": [sys.executable, "-c", BARE],
            "wizard": [*app, "--vault", str(Path(tmp) / "new")],
            "unlock": [*app, "--vault", str(vault)],
        }
        if args.compare:
            other = args.compare.split()
            kinds["wizard (compared)"] = [*other, "--vault", str(Path(tmp) / "new")]
            kinds["unlock (compared)"] = [*other, "--vault", str(vault)]
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
        focus: dict[str, set[str]] = {k: set() for k in kinds}
        names = list(kinds)
        for command in kinds.values():  # warm the file and byte-code caches once, not counted
            one_start(command, env)
        for i in range(args.runs):
            for kind in names[i % len(names):] + names[:i % len(names)]:
                first, ready, widget = one_start(kinds[kind], env)
                times[kind].append((first, ready))
                focus[kind].add(widget)
                print(f"run {i + 1} {kind:7s} first window {first:6.3f} s, ready {ready:6.3f} s ({widget})",
                      flush=True)

    med = {k: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v)) for k, v in times.items()}
    base_first, base_ready = med["bare"]
    lines = [
        f"Start time ({datetime_now()}, {platform.node() or 'this machine'}, {os.cpu_count()} cores, "
        f"Qt platform {qpa}, {args.runs} starts of each kind, alternating; medians):",
        "",
        "| start | to first window | × bare | to ready (focus) | × bare |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in names:
        first, ready = med[kind]
        lines.append(f"| {kind} | {first:.3f} s | {first / base_first:.2f} | {ready:.3f} s "
                     f"({'/'.join(sorted(focus[kind]))}) | {ready / base_ready:.2f} |")
    worst = max(max(med[k][0] / base_first, med[k][1] / base_ready) for k in ("wizard", "unlock"))
    if args.compare:
        lines += ["", f"(compared: `{args.compare}`)"]
    lines += ["", f"Worst ratio {worst:.2f} (bar: ≤ {BAR:.0f}×): {'met' if worst <= BAR else 'NOT met'}."]
    table = "\n".join(lines)
    print("\n" + table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"command": app, "platform": qpa, "times": times}, indent=1))
    return 0 if worst <= BAR else 1


def datetime_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


if __name__ == "__main__":
    sys.exit(main())
