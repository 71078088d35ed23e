"""Lossless immunization with the classical vs the learned coupling predictor, side by side.

For each evaluation photo (kodak, usc_sipi colour, darknet; the learned predictor never trained
on them): capacity of the coupling steps at the parameters immunize picks, PSNR/SSIM of the
immunized copy, PSNR of the embedded reference (what a tampered region is rebuilt from), and
immunize time. Both predictors run on the same photos in the same run.

    python bench/predictor_compare.py [--limit 12] [--out bench/out/predictor_compare.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core import fingerprint  # noqa: E402
from app.core.immunizer import container, lifting, lossless  # noqa: E402
from app.core.immunizer.learned import LearnedPredictor  # noqa: E402
from app.core.immunizer.lossless import params as lossless_params  # noqa: E402
from app.core.immunizer.predictors import ClassicalPredictor  # noqa: E402
from bench.report import publish  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "natural"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def photos(limit: int) -> list[Path]:
    found = sorted((DATA / "kodak").glob("*.png"))[::2] + sorted((DATA / "darknet").glob("*.jpg"))
    return found[:limit]


def measure(pixels: np.ndarray, predictor, key: bytes) -> dict:
    started = time.perf_counter()
    immunized = lossless.immunize(pixels, key, predictor=predictor)
    seconds = time.perf_counter() - started
    assert lossless.verify(immunized).bit_exact, "restoration must be exact"
    blocks = lifting.to_blocks(pixels)
    params = lossless_params.choose_params(blocks, np.random.default_rng(0), predictor)
    _, capacity = lifting.embed(blocks, np.zeros((len(blocks), lifting.MAX_BITS), np.uint8), predictor, params)
    return {"bits_per_pixel": float(capacity.sum()) / (pixels.shape[0] * pixels.shape[1]),
            "psnr": psnr(immunized, pixels),
            "ssim": structural_similarity(pixels, immunized, channel_axis=2, data_range=255),
            "reference_psnr": psnr(embedded_reference(immunized), pixels), "seconds": seconds}


def embedded_reference(immunized: np.ndarray) -> np.ndarray:
    """The reference photo inside the stream, as verify decodes it to rebuild a tampered area
    (one block is tampered so that verify needs it)."""
    captured = []
    decode = container.decode_reference

    def capture(data, width, height):
        captured.append(decode(data, width, height))
        return captured[-1]

    tampered = immunized.copy()
    tampered[:8, :8] = 255 - tampered[:8, :8]
    container.decode_reference = capture
    try:
        lossless.verify(tampered)
    finally:
        container.decode_reference = decode
    return captured[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "predictor_compare.md")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} not found")
        return 0
    key = fingerprint.new_signing_key()
    rows = []
    totals = {"classical": [], "learned": []}
    for path in photos(args.limit):
        pixels = np.asarray(Image.open(path).convert("RGB"))
        line = [path.name]
        for name, predictor in (("classical", ClassicalPredictor()), ("learned", LearnedPredictor())):
            m = measure(pixels, predictor, key)
            totals[name].append(m)
            line.append(f"{m['bits_per_pixel']:.2f} bpp, {m['psnr']:.1f} dB, SSIM {m['ssim']:.4f}, "
                        f"ref {m['reference_psnr']:.1f} dB, {m['seconds']:.1f} s")
        rows.append(line)
        print(" | ".join(line), flush=True)
    out = ["## Lossless immunizer: classical vs learned coupling predictor", "",
           f"`python bench/predictor_compare.py --limit {args.limit}`: {len(rows)} evaluation photos, "
           "both predictors in the same run. bpp = payload bits the coupling steps carry per pixel at the "
           "parameters immunize picks (PSNR ≥ 40.5 dB, block-SSIM ≥ 0.985); ref = PSNR of the embedded "
           "reference photo (what tampered areas are rebuilt from).", "",
           "| photo | classical | learned |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    for name in ("classical", "learned"):
        ms = totals[name]
        out.append("")
        out.append(f"- **{name}**: mean {np.mean([m['bits_per_pixel'] for m in ms]):.3f} bpp, "
                   f"reference {np.nanmean([m['reference_psnr'] for m in ms]):.2f} dB, "
                   f"PSNR {np.mean([m['psnr'] for m in ms]):.2f} dB, SSIM {np.mean([m['ssim'] for m in ms]):.4f}, "
                   f"immunize {np.mean([m['seconds'] for m in ms]):.1f} s")
    publish("\n".join(out) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
