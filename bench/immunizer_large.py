"""Robust immunizer on photos at their own size (2-5 MP): recovery with one 40,000-bit codeword
(the limit before 2026-12-02) against the current stream of up to eight codewords, side by side.

    python bench/immunizer_large.py [--min-mp 2] [--seed 5] [--out bench/out/immunizer_large.md]

`bench/immunizer_eval.py` caps photos at 1024 px, where the stream never needs more than one or
two codewords; real photos are larger, and this measures what they gain. Photos: every colour
photo of ../shared/data/natural with at least --min-mp megapixels (the robust mode learns
nothing, so no split is held out). Each is immunized under both limits with one signing key; a
splice (a region of another of these photos, 5 % and 15 % of the area, random shape and place,
same for both limits) is then saved as JPEG 75 and verified. Reported per photo and limit:
recovery PSNR over the spliced region against the original, F1 of the mask, immunize and
verify seconds. Skips cleanly (exit 0) when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from immunizer_eval import DATA, IMAGE_SUFFIXES, f1_score, fit_donor, jpeg, load_rgb, psnr, region_mask  # noqa: E402
from report import publish  # noqa: E402

from app.core import fingerprint  # noqa: E402
from app.core.immunizer import robust  # noqa: E402
from app.core.immunizer.robust import layout as robust_layout  # noqa: E402

LIMITS = {"one codeword (40,000 bits)": robust_layout.CHUNK_BITS, "current": robust_layout.MAX_MESSAGE_BITS}
FRACTIONS = (0.05, 0.15)


def large_photos(min_mp: float) -> list[Path]:
    from PIL import Image

    found = []
    for path in sorted((DATA / "natural").rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or "documents" in path.parts:
            continue
        with Image.open(path) as image:
            if image.width * image.height >= min_mp * 1e6 and image.mode not in ("L", "1", "I;16"):
                found.append(path)
    return found


def splice(immunized: np.ndarray, donor: np.ndarray, fraction: float, rng: np.random.Generator):
    h, w = immunized.shape[:2]
    mask = region_mask(str(rng.choice(["rectangle", "ellipse", "polygon", "blob"])), h, w, fraction, rng)
    donor = fit_donor(donor, mask)
    ys, xs = np.nonzero(mask)
    dy, dx = ys.min(), xs.min()
    out = immunized.copy()
    out[ys, xs] = donor[ys - dy, xs - dx]
    return out, mask


def run(original: np.ndarray, path: Path, donor: np.ndarray, key: bytes, seed: int) -> dict[str, list]:
    rows: dict[str, list] = {}
    for name, limit in LIMITS.items():
        robust_layout.MAX_MESSAGE_BITS = limit
        started = time.perf_counter()
        immunized = robust.immunize(original, key)
        immunize_s = time.perf_counter() - started
        rng = np.random.default_rng(seed + int(hashlib.sha256(path.name.encode()).hexdigest()[:6], 16))
        cells = []
        for fraction in FRACTIONS:
            tampered, mask = splice(immunized, donor, fraction, rng)
            started = time.perf_counter()
            result = robust.verify(jpeg(tampered, 75))
            verify_s = time.perf_counter() - started
            if result is None or result.recovered is None:
                cells.append((None, 0.0 if result is None else f1_score(result.mask, mask), verify_s))
            else:
                cells.append((psnr(result.recovered[mask], original[mask]), f1_score(result.mask, mask), verify_s))
        rows[name] = [immunize_s, cells]
    robust_layout.MAX_MESSAGE_BITS = LIMITS["current"]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-mp", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("bench/out/immunizer_large.md"))
    args = parser.parse_args()
    if not (DATA / "natural").is_dir():
        print("../shared/data/natural is absent: skipped")
        return 0
    photos = large_photos(args.min_mp)
    key = fingerprint.new_signing_key()
    lines = [f"Robust immunizer at full size: {len(photos)} photos of ≥ {args.min_mp} MP, splices of "
             + " and ".join(f"{f:.0%}" for f in FRACTIONS) + " then JPEG 75 (seed "
             + f"{args.seed}).", "",
             "| photo | MP | limit | immunize | " + " | ".join(f"recovery {f:.0%} (F1, verify)" for f in FRACTIONS) + " |",
             "|---|---:|---|---:|" + "---:|" * len(FRACTIONS)]
    gains = []
    for index, path in enumerate(photos):
        original, donor = load_rgb(path), load_rgb(photos[(index + 1) % len(photos)])
        rows = run(original, path, donor, key, args.seed)
        mp = np.prod(original.shape[:2]) / 1e6
        for name, (immunize_s, cells) in rows.items():
            text = [f"{p:.2f} dB ({f1:.2f}, {v:.1f} s)" if p is not None else f"no recovery ({f1:.2f}, {v:.1f} s)"
                    for p, f1, v in cells]
            lines.append(f"| {path.parent.name}/{path.name} | {mp:.1f} | {name} | {immunize_s:.1f} s | " + " | ".join(text) + " |")
        before, after = (rows[name][1] for name in LIMITS)
        gains += [a[0] - b[0] for a, b in zip(after, before, strict=True) if a[0] is not None and b[0] is not None]
        print(lines[-2], lines[-1], sep="\n", flush=True)
    if gains:
        lines += ["", f"Recovery gain of the current limit over one codeword: mean {np.mean(gains):+.2f} dB, "
                  f"min {min(gains):+.2f}, max {max(gains):+.2f} ({len(gains)} spliced copies both recovered)."]
    publish("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
