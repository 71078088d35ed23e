"""What a hostile page or image costs a scan: parse time of adversarial pages, and the peak
memory of checking one large found image, each in a fresh interpreter.

Prints two tables measured in this run:

1. Page parsing: seconds for `images_on_page` on pages of 100 KB+ built to trigger quadratic
   behaviour (repeated "background:", unclosed tags and comments...), and the time of a normal
   gallery page of the same size, as the ratio to compare against.
2. Found-image memory: extra peak RSS (MB, VmHWM) of `run_scan` on one solid-colour image of each
   format and size, and whether it was checked or refused from its header.

Usage:
    python bench/hostile_scan.py            (Linux: reads and resets the peak RSS in /proc)
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = {
    "style attribute of background: x10k": '<div style="' + "background:" * 10_000 + '">',
    "style element of background: x10k": "<style>" + "background:" * 10_000 + "</style>",
    'unclosed "<a" x100k': "<a" * 100_000,
    'unclosed "<!--" x50k': "<!--" * 50_000,
    'unclosed "</" x100k': "</" * 100_000,
    '"<div>" nested x100k': "<div>" * 100_000,
    "normal gallery page (reference)": "".join(
        f'<figure><img src="/p/{i}.jpg" alt="photo {i}"><figcaption>Photo {i}</figcaption></figure>'
        for i in range(1_400)),
}

PEAK = """
import json, sys
from app.core.leaks.matcher import Matcher
from app.core.leaks.scan import run_scan

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

# A forked child starts with its parent's high-water mark: reset it (Linux 4.0+) first.
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")
before = status("VmRSS")
report = run_scan([sys.argv[1]], Matcher([]))
print(json.dumps({"scanned": report.scanned, "errors": [e.reason for e in report.errors],
                  "refused": bool(report.errors), "extra_mb": status("VmHWM") - before}))
"""

IMAGES = [("PNG", 100, {}), ("PNG", 36, {}), ("WEBP", 100, {"quality": 50}), ("WEBP", 16, {"quality": 50}),
          ("JPEG", 100, {"quality": 80}), ("JPEG", 100, {"quality": 80, "progressive": True}),
          ("JPEG", 70, {"quality": 80, "progressive": True})]


def main() -> None:
    from app.core.leaks.page_reader import images_on_page

    print("| page (100 KB+) | seconds |\n|---|---|")
    for name, html in PAGES.items():
        started = time.perf_counter()
        images_on_page(html, "https://site.example/")
        print(f"| {name} ({len(html) // 1000} KB) | {time.perf_counter() - started:.4f} |")

    from PIL import Image

    print("\n| found image | file | extra peak MB | outcome |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for fmt, megapixels, options in IMAGES:
            side = int((megapixels * 1e6) ** 0.5)
            out = io.BytesIO()
            Image.new("RGB", (side, side), (120, 30, 200)).save(out, fmt, **options)
            path = Path(folder) / f"{fmt}{megapixels}"
            path.write_bytes(out.getvalue())
            result = json.loads(subprocess.run([sys.executable, "-c", PEAK, str(path)], cwd=ROOT, check=True,
                                               capture_output=True, text=True).stdout)
            label = f"{'progressive ' if options.get('progressive') else ''}{fmt} {megapixels} MP"
            print(f"| {label} | {len(out.getvalue()) // 1024} KB | {result['extra_mb']:.0f} | "
                  f"{'refused from its header' if result['refused'] else 'checked'} |")


if __name__ == "__main__":
    main()
