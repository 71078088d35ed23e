"""How soon Cancel stops an immunization: the time between the immunizer's cancel checks.

    python bench/immunizer_cancel.py [--size 1536x1024] [--runs 1]

Immunizes a Kodak photo (tests/data/photos/kodim23.png, resized) in each mode with a cancel
event that is never set and records when it is looked at. A cancel takes effect at the next
check, so the longest gap between checks (and from the start to the first) is the longest a
user waits after pressing Cancel. The tests only check that a cancel stops the work at the next
check (tests/test_immunizer_cancel.py); the figures here are the speed side.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from app.core import fingerprint  # noqa: E402
from app.core.immunizer import immunize  # noqa: E402


class RecordingEvent(threading.Event):
    """A cancel event that is never set and notes when it is looked at."""

    def __init__(self):
        super().__init__()
        self.stamps: list[float] = []

    def is_set(self) -> bool:
        self.stamps.append(time.perf_counter())
        return super().is_set()


def check_times(pixels: np.ndarray, mode: str) -> tuple[float, list[float]]:
    """Seconds for the whole run, and the moments (from the start) of every cancel check."""
    cancel = RecordingEvent()
    started = time.perf_counter()
    immunize(pixels, mode, signing_private=fingerprint.new_signing_key(), cancel=cancel)
    ended = time.perf_counter()
    return ended - started, [t - started for t in cancel.stamps]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1536x1024", help="photo size WIDTHxHEIGHT")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    image = Image.open(ROOT / "tests/data/photos/kodim23.png").convert("RGB")
    pixels = np.asarray(image.resize((width, height), Image.Resampling.BICUBIC))
    print("| mode | photo | run (s) | checks | longest wait for a cancel (s) | median gap (s) |")
    print("|---|---|---:|---:|---:|---:|")
    for mode in ("robust", "lossless"):
        for _ in range(args.runs):
            total, stamps = check_times(pixels, mode)
            gaps = np.diff([0.0, *stamps, total])  # the last: from the last check to the end (it ends)
            print(f"| {mode} | {width}×{height} | {total:.1f} | {len(stamps)} | {gaps.max():.2f} | "
                  f"{np.median(gaps):.2f} |")


if __name__ == "__main__":
    main()
