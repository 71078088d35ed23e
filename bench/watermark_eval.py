"""Benchmark of the robust watermark (app/core/watermark) on real photos.

    python bench/watermark_eval.py [--limit N] [--out FILE]  (paste the table into docs/benchmarks.md)

Reads photos from ../shared/data/natural (every subfolder), marks each with a random
56-bit share ID, applies every transform the issue lists (alone and in three chains),
and reports: payload recovered (%) by a blind decode and by the app's read, which also
matches the vault's known share IDs (here the true ID among `--known-ids` random ones),
and by the app's last resort, which reads a copy too damaged for that against the photo the
shares were made from (`watermark.informed`; here the true ID among 3 shares of the photo),
wrong IDs accepted, payload bit error rate of the best-effort decode, PSNR / SSIM of marked vs original luminance, and embed / decode
time as a ratio to a JPEG encode / decode of the same photo timed in the same run.
False accepts are measured on the unmarked photos and crops of them, all three ways (the
read against the original also on the unmarked photo put through the three chains); the
known-ID scores of unmarked inputs against 20,000 random IDs check the tail bound the
matching threshold rests on. If the
`invisible-watermark` package is importable, its dwtDct method runs on the same
transforms as a comparison.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.watermark import (  # noqa: E402
    PAYLOAD_BITS,
    ImageTooSmallForWatermark,
    codec,
    embed_watermark,
    inspect_watermark,
    lattice,
    read,
)
from app.core.watermark.informed import read_with_original  # noqa: E402
from bench.report import publish  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "natural"
KEY = b"benchmark key: not a real vault key"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


# --- transforms ---------------------------------------------------------------------


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]


def resize(rgb: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def crop(rgb: np.ndarray, area_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Keep `area_fraction` of the area, with a random aspect and a random position."""
    height, width = rgb.shape[:2]
    aspect = rng.uniform(0.75, 1.33)
    side_h = min(1.0, math.sqrt(area_fraction) * aspect)
    side_w = min(1.0, area_fraction / side_h)
    ch, cw = int(height * side_h), int(width * side_w)
    y, x = rng.integers(0, height - ch + 1), rng.integers(0, width - cw + 1)
    return rgb[y: y + ch, x: x + cw]


def rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre and crop to the largest upright rectangle (as editors do)."""
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    rotated = cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT)
    a = math.radians(abs(degrees))
    margin_x = int(math.ceil(height * math.sin(a) / 2 + 1))
    margin_y = int(math.ceil(width * math.sin(a) / 2 + 1))
    return rotated[margin_y: height - margin_y, margin_x: width - margin_x]


def brightness(rgb: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(rgb.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def contrast(rgb: np.ndarray, factor: float) -> np.ndarray:
    mean = float(rgb.astype(np.float32).mean())
    return np.clip((rgb.astype(np.float32) - mean) * factor + mean, 0, 255).astype(np.uint8)


def saturation(rgb: np.ndarray, factor: float) -> np.ndarray:
    grey = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))[:, :, None]
    return np.clip(grey + (rgb.astype(np.float32) - grey) * factor, 0, 255).astype(np.uint8)


def grayscale(rgb: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)


def screenshot(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo shown at 80 % inside an app window: flat UI bars, padding, some text."""
    shown = resize(rgb, 0.8)
    height, width = shown.shape[:2]
    top, bottom = 70 + int(rng.integers(0, 40)), 50 + int(rng.integers(0, 40))
    left, right = 30 + int(rng.integers(0, 80)), 30 + int(rng.integers(0, 80))
    canvas = np.full((height + top + bottom, width + left + right, 3), 242, np.uint8)
    canvas[: top - 20] = (40, 44, 52)  # title bar
    for row in range(12, top - 30, 14):  # a few lines of "text"
        canvas[row: row + 6, 20: 20 + int(rng.integers(80, 300))] = 200
    canvas[top: top + height, left: left + width] = shown
    return canvas


def png_roundtrip(rgb: np.ndarray) -> np.ndarray:
    return rgb


@dataclass
class Transform:
    name: str
    apply: object  # callable(rgb, rng) -> rgb
    min_megapixels: float = 0.0


TRANSFORMS = [
    Transform("none (PNG)", lambda im, r: png_roundtrip(im)),
    Transform("JPEG 90", lambda im, r: jpeg(im, 90)),
    Transform("JPEG 70", lambda im, r: jpeg(im, 70)),
    Transform("JPEG 50", lambda im, r: jpeg(im, 50)),
    Transform("resize 50 %", lambda im, r: resize(im, 0.5)),
    Transform("resize 25 % (>= 2 MP)", lambda im, r: resize(im, 0.25), min_megapixels=2.0),
    Transform("crop 50 % area, random pos.", lambda im, r: crop(im, 0.5, r)),
    Transform("rotate +5 deg", lambda im, r: rotate(im, 5)),
    Transform("rotate -3 deg", lambda im, r: rotate(im, -3)),
    Transform("mirror flip", lambda im, r: np.ascontiguousarray(im[:, ::-1])),
    Transform("brightness +25 %", lambda im, r: brightness(im, 1.25)),
    Transform("brightness -25 %", lambda im, r: brightness(im, 0.75)),
    Transform("contrast +25 %", lambda im, r: contrast(im, 1.25)),
    Transform("contrast -25 %", lambda im, r: contrast(im, 0.75)),
    Transform("saturation +25 %", lambda im, r: saturation(im, 1.25)),
    Transform("saturation -25 %", lambda im, r: saturation(im, 0.75)),
    Transform("grayscale", lambda im, r: grayscale(im)),
    Transform("screenshot (80 %, borders)", lambda im, r: screenshot(im, r)),
    Transform("chain A: crop 50 % > resize 50 % > JPEG 70",
              lambda im, r: jpeg(resize(crop(im, 0.5, r), 0.5), 70)),
    Transform("chain B: rotate 3 > crop 60 % > contrast +25 % > JPEG 50",
              lambda im, r: jpeg(contrast(crop(rotate(im, 3), 0.6, r), 1.25), 50)),
    Transform("chain C: flip > resize 50 % > screenshot > JPEG 70",
              lambda im, r: jpeg(screenshot(resize(np.ascontiguousarray(im[:, ::-1]), 0.5), r), 70)),
]


# --- metrics ------------------------------------------------------------------------


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def psnr_luma(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((luma(a) - luma(b)) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def ssim_luma(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(luma(a), luma(b), data_range=255.0))


def timed(function, *args, repeat: int = 1):
    best = math.inf
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return result, best


def false_accept_bound(sync_gate_pass_rate: float) -> float:
    """Upper bound on P(wrong ID accepted) for one unmarked image: each of the blind reader's
    lattice candidates must pass the sync gate and then the CRC by chance."""
    attempts = lattice.N_LATTICE_CANDIDATES + lattice.N_SCAN_CANDIDATES
    return attempts * sync_gate_pass_rate * 2.0 ** -codec.CRC_BITS


def payload_bits(value: int) -> np.ndarray:
    return codec.int_to_bits(value, PAYLOAD_BITS)


@dataclass
class Tally:
    trials: int = 0
    recovered: int = 0
    wrong: int = 0
    bit_errors: int = 0
    bits: int = 0
    decode_seconds: list = field(default_factory=list)

    def add(self, ok: bool, wrong: bool, errors: int, seconds: float = 0.0) -> None:
        self.trials += 1
        self.recovered += ok
        self.wrong += wrong
        self.bit_errors += errors
        self.bits += PAYLOAD_BITS
        self.decode_seconds.append(seconds)


@dataclass
class Results:
    blind: dict  # transform name -> Tally, decoding the mark alone
    vault: dict  # transform name -> Tally, as the app reads: also matching known IDs
    original: dict  # transform name -> Tally: vault, then read against the original when that fails
    other: dict | None  # transform name -> Tally for invisible-watermark, if installed
    n_known: int
    used: int = 0
    skipped: int = 0
    psnrs: list = field(default_factory=list)
    ssims: list = field(default_factory=list)
    other_psnrs: list = field(default_factory=list)
    embed_ratio: list = field(default_factory=list)
    decode_ratio: list = field(default_factory=list)
    unmarked_trials: int = 0
    unmarked_accepts_blind: int = 0
    unmarked_accepts_vault: int = 0
    unmarked_original_trials: int = 0
    unmarked_accepts_original: int = 0
    original_seconds: list = field(default_factory=list)  # reads against the original alone
    gate_passes: int = 0
    # Known-ID scores of unmarked inputs against random codewords (tail check).
    null_scores: list = field(default_factory=list)
    big: dict = field(default_factory=dict)


def random_codewords(rng: np.random.Generator, n: int) -> np.ndarray:
    """±1 codewords of n random share IDs, built as the decoder builds those of known IDs."""
    return read.KnownIds(rng.integers(1, 1 << PAYLOAD_BITS, n, dtype=np.uint64).tolist()).codewords


# --- optional comparison: invisible-watermark (dwtDct) -------------------------------


def load_invisible_watermark():
    import importlib.util
    import types

    if importlib.util.find_spec("imwatermark") is None:
        return None  # not installed: the comparison is skipped
    if importlib.util.find_spec("torch") is None:
        # imwatermark imports torch at module level for its RivaGAN method only; dwtDct
        # (the one compared here) never touches it, so a placeholder module is enough.
        sys.modules.setdefault("torch", types.ModuleType("torch"))
    try:
        from imwatermark import WatermarkDecoder, WatermarkEncoder  # type: ignore
    except Exception as error:
        print(f"invisible-watermark not usable ({error}); comparison skipped")
        return None

    def encode(rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        encoder = WatermarkEncoder()
        encoder.set_watermark("bits", [int(b) for b in bits])
        return encoder.encode(np.ascontiguousarray(rgb[:, :, ::-1]), "dwtDct")[:, :, ::-1]

    def decode(rgb: np.ndarray) -> np.ndarray:
        decoder = WatermarkDecoder("bits", PAYLOAD_BITS)
        return np.array(decoder.decode(np.ascontiguousarray(rgb[:, :, ::-1]), "dwtDct"), np.uint8)

    return encode, decode


# --- main -----------------------------------------------------------------------------


def list_photos(limit: int | None) -> list[Path]:
    paths = sorted(p for p in DATA.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if limit:
        # An even spread over the folders rather than the first N of one folder.
        paths = [paths[i] for i in np.linspace(0, len(paths) - 1, limit).astype(int)]
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60,
                        help="use N photos spread evenly over the folders (0: all)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "watermark_eval.md")
    parser.add_argument("--crops-per-photo", type=int, default=4,
                        help="unmarked crops per photo for the false-accept test")
    parser.add_argument("--known-ids", type=int, default=1000,
                        help="share IDs the simulated vault knows (the true one among them)")
    parser.add_argument("--no-compare", action="store_true", help="skip invisible-watermark")
    args = parser.parse_args()

    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent (the shared photo set is needed)")
        return 0

    rng = np.random.default_rng(20240601)
    comparison = None if args.no_compare else load_invisible_watermark()
    results = Results({t.name: Tally() for t in TRANSFORMS}, {t.name: Tally() for t in TRANSFORMS},
                      {t.name: Tally() for t in TRANSFORMS},
                      {t.name: Tally() for t in TRANSFORMS} if comparison else None, args.known_ids)
    other_shares = [int(v) for v in rng.integers(1, 1 << PAYLOAD_BITS, args.known_ids - 1, dtype=np.uint64)]
    null_codewords = random_codewords(np.random.default_rng(99), 20_000)
    started = time.time()

    for path in list_photos(args.limit):
        try:
            rgb = np.array(Image.open(path).convert("RGB"))
        except Exception as error:  # unreadable or deliberately corrupt sample
            print(f"  skip {path.name}: {error}")
            results.skipped += 1
            continue
        payload = int(rng.integers(0, 1 << PAYLOAD_BITS, dtype=np.uint64))
        try:
            marked, embed_s = timed(embed_watermark, rgb, payload, KEY)
        except ImageTooSmallForWatermark:
            print(f"  skip {path.name}: too small ({rgb.shape[1]}x{rgb.shape[0]})")
            results.skipped += 1
            continue
        results.used += 1
        known = [payload, *other_shares]
        # The shares made from this photo (the true one and two more) for the read against it.
        photo_shares = [payload, *(int(v) for v in rng.integers(1, 1 << PAYLOAD_BITS, 2, dtype=np.uint64))]
        megapixels = rgb.shape[0] * rgb.shape[1] / 1e6
        # JPEG reference times of the same photo, same run.
        buf, jpeg_enc_s = timed(lambda im: cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, 90])[1],
                                rgb[:, :, ::-1], repeat=3)
        _, jpeg_dec_s = timed(lambda b: cv2.imdecode(b, cv2.IMREAD_COLOR), buf, repeat=3)
        results.psnrs.append(psnr_luma(rgb, marked))
        results.ssims.append(ssim_luma(rgb, marked))
        results.embed_ratio.append(embed_s / jpeg_enc_s)

        other_marked = None
        if comparison is not None:
            try:
                other_marked = comparison[0](rgb, payload_bits(payload))
                results.other_psnrs.append(psnr_luma(rgb, other_marked))
            except Exception as error:
                print(f"  invisible-watermark failed to embed {path.name}: {error}")

        truth = payload_bits(payload)
        for transform in TRANSFORMS:
            if megapixels < transform.min_megapixels:
                continue
            seed = int(rng.integers(0, 2**31))
            attacked = transform.apply(marked, np.random.default_rng(seed))
            vault_read, decode_s = timed(inspect_watermark, attacked, KEY, known)
            if transform.name == "none (PNG)":
                results.decode_ratio.append(decode_s / jpeg_dec_s)
            # The app's read returns a free decode when one exists at the first lattice that
            # yields anything, so only its known-ID matches need a separate blind read.
            matched = vault_read.result is not None and vault_read.result.matched_known_id
            blind_read = inspect_watermark(attacked, KEY) if matched else vault_read
            for tally, inspection in ((results.vault[transform.name], vault_read),
                                      (results.blind[transform.name], blind_read)):
                found = inspection.result
                errors = PAYLOAD_BITS if inspection.payload_bits is None else \
                    int(np.sum(inspection.payload_bits != truth))
                tally.add(found is not None and found.payload == payload,
                          found is not None and found.payload != payload, errors, decode_s)
            found, informed_s = vault_read.result, 0.0
            if found is None:
                found, informed_s = timed(read_with_original, attacked, rgb, KEY, photo_shares)
                results.original_seconds.append(informed_s)
            results.original[transform.name].add(found is not None and found.payload == payload,
                                                 found is not None and found.payload != payload, 0,
                                                 decode_s + informed_s)
            if other_marked is not None:
                other_attacked = transform.apply(other_marked, np.random.default_rng(seed))
                try:
                    other_bits = comparison[1](other_attacked)
                    other_errors = int(np.sum(other_bits != truth))
                except Exception:
                    other_errors = PAYLOAD_BITS
                results.other[transform.name].add(other_errors == 0, False, other_errors)

        # False accepts: the unmarked photo and crops / rescales of it.
        unmarked_variants = [rgb, jpeg(rgb, 70)]
        for _ in range(args.crops_per_photo):
            unmarked_variants.append(resize(crop(rgb, rng.uniform(0.3, 0.9), rng),
                                            float(rng.uniform(0.4, 1.0))))
        for variant in unmarked_variants:
            if min(variant.shape[:2]) < 64:
                continue
            blind_read = inspect_watermark(variant, KEY)
            vault_read = inspect_watermark(variant, KEY, known)
            results.unmarked_trials += 1
            results.unmarked_accepts_blind += blind_read.result is not None
            results.unmarked_accepts_vault += vault_read.result is not None
            results.gate_passes += blind_read.sync_z >= read.SYNC_Z_GATE
            soft = blind_read.soft_coded_bits
            if soft is not None and np.linalg.norm(soft) > 0:
                results.null_scores.append(null_codewords @ soft.astype(np.float32) / np.linalg.norm(soft))
        # The photo got out unshared: the read against it must find no share in any copy.
        chains = [t for t in TRANSFORMS if t.name.startswith("chain")]
        for variant in unmarked_variants + [t.apply(rgb, np.random.default_rng(7)) for t in chains]:
            results.unmarked_original_trials += 1
            results.unmarked_accepts_original += read_with_original(variant, rgb, KEY, photo_shares) is not None
        print(f"  {results.used:3d} {path.parent.name}/{path.name}: PSNR {results.psnrs[-1]:.1f} dB, "
              f"{time.time() - started:.0f} s", flush=True)

    if results.used == 0:
        print("skipped: no usable photos found")
        return 0

    # 12 MP decode time: a photo enlarged to 4000 x 3000.
    source = np.array(Image.open(sorted(DATA.rglob("kodim23.png"))[0]).convert("RGB")) \
        if list(DATA.rglob("kodim23.png")) else rgb
    big = cv2.resize(source, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    big_marked, results.big["embed_s"] = timed(embed_watermark, big, 12345, KEY)
    big_read, results.big["decode_s"] = timed(inspect_watermark, big_marked, KEY, repeat=3)
    big_buf = cv2.imencode(".jpg", big[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])[1]
    _, results.big["jpeg_decode_s"] = timed(lambda b: cv2.imdecode(b, cv2.IMREAD_COLOR), big_buf, repeat=3)
    results.big["ok"] = big_read.result is not None and big_read.result.payload == 12345
    publish("\n".join(render(results)) + "\n", args.out)
    return 0


def render(results: Results) -> list[str]:
    lines = [
        "## Robust watermark (`app/core/watermark`)",
        "",
        f"Measured by `bench/watermark_eval.py` on {results.used} photos from `shared/data/natural` "
        f"({results.skipped} skipped: unreadable or too small), one random {PAYLOAD_BITS}-bit share ID "
        "each, default strength. \"Recovered\" means the read returned exactly the embedded ID; "
        "\"wrong\" means it returned a different ID. *Blind* decodes the mark alone (Viterbi + "
        f"CRC-24); *vault* is the app's read, which also matches the vault's share IDs (here the "
        f"true ID among {results.n_known:,} random ones) when the mark is too damaged to decode. "
        "*Vault + original* adds the app's last resort for a copy that shows a shared photo: "
        "registered onto the pixels the shares were made from (ORB + RANSAC similarity, ECC "
        "refinement, mirror tried), the photo subtracted, and the residual decoded at the known "
        "tile geometry (same sync gate, CRC and known-ID threshold; candidates: the true ID and "
        "two other shares of the photo). "
        "BER is the payload bit error rate of the blind best-effort decode (also when the CRC "
        "rejected it).",
        "",
        "Method: a keyed 64x64 spread-spectrum tile (256 sync chips + 768 data chips) repeated "
        "over the luminance at a ~0.4 MP working scale, perceptually masked, with informed "
        "embedding (the part of the photo's own projection on each chip that opposes the "
        "chip's sign is partly cancelled); the decoder finds scale and rotation from the comb "
        "of peaks the periodic tile leaves in the power spectrum, and if that fails, from a "
        "phase-aware scan of upright periods that correlates the spectrum at the tile's "
        "harmonics with the keyed sync chips; it folds all tiles into one, finds shift and "
        "mirror with the sync chips, and decodes 56 bits + CRC-24 (rate-1/3 convolutional "
        "code, soft Viterbi). Failing that, it correlates the soft coded bits with each known "
        "ID's codeword and accepts the best above a threshold set for a 1e-7 false-accept "
        "target (Hoeffding bound, union over IDs and lattice attempts).",
        "",
    ]
    header = ("| transform | n | vault + original: recovered | wrong | vault: recovered | wrong "
              "| blind: recovered | wrong | BER | decode s (median) |")
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if results.other:
        header += " invisible-watermark dwtDct: recovered | BER |"
        rule += "---:|---:|"
    lines += [header, rule]
    for name, vault in results.vault.items():
        blind = results.blind[name]
        if vault.trials == 0:
            continue
        original = results.original[name]
        row = (f"| {name} | {vault.trials} | {100 * original.recovered / original.trials:.1f} % | "
               f"{original.wrong} | {100 * vault.recovered / vault.trials:.1f} % | {vault.wrong} | "
               f"{100 * blind.recovered / blind.trials:.1f} % | {blind.wrong} | "
               f"{blind.bit_errors / blind.bits:.3f} | {np.median(vault.decode_seconds):.2f} |")
        if results.other:
            other = results.other[name]
            if other.trials:
                row += (f" {100 * other.recovered / other.trials:.1f} % | "
                        f"{other.bit_errors / other.bits:.3f} |")
            else:
                row += " – | – |"
        lines.append(row)
    gate_rate = results.gate_passes / max(results.unmarked_trials, 1)
    null = np.concatenate(results.null_scores) if results.null_scores else np.zeros(1)
    big = results.big
    lines += [
        "",
        "| quality / cost | value |",
        "|---|---|",
        f"| luminance PSNR marked vs original | mean {np.mean(results.psnrs):.2f} dB, "
        f"min {np.min(results.psnrs):.2f} dB |",
        f"| luminance SSIM marked vs original | mean {np.mean(results.ssims):.4f}, min {np.min(results.ssims):.4f} |",
    ]
    if results.other_psnrs:
        lines.append(f"| invisible-watermark dwtDct PSNR (same photos) | mean {np.mean(results.other_psnrs):.2f} dB |")
    lines += [
        f"| embed time / JPEG q90 encode time (same photo) | median {np.median(results.embed_ratio):.1f}x |",
        f"| decode time / JPEG decode time (same photo) | median {np.median(results.decode_ratio):.1f}x |",
        f"| 12 MP (4000x3000): embed | {big['embed_s']:.2f} s |",
        f"| 12 MP: decode (best of 3) | {big['decode_s']:.2f} s ({big['decode_s'] / big['jpeg_decode_s']:.1f}x "
        f"its JPEG decode), payload {'recovered' if big['ok'] else 'NOT recovered'} |",
        f"| false accepts on unmarked photos, JPEGs, crops and rescales: blind | "
        f"{results.unmarked_accepts_blind} of {results.unmarked_trials} |",
        f"| the same, vault read with {results.n_known:,} known IDs | "
        f"{results.unmarked_accepts_vault} of {results.unmarked_trials} |",
        f"| the same and the unmarked photo through the three chains, read against the photo "
        f"(3 share IDs) | {results.unmarked_accepts_original} of {results.unmarked_original_trials} |",
        f"| read against the original, when needed: time (median, max) | "
        f"{np.median(results.original_seconds or [0]):.2f} s, {np.max(results.original_seconds or [0]):.2f} s |",
        f"| unmarked inputs passing the sync gate (z >= {read.SYNC_Z_GATE}) | {100 * gate_rate:.2f} % |",
        f"| blind false-accept bound per image: {lattice.N_LATTICE_CANDIDATES + lattice.N_SCAN_CANDIDATES} "
        f"candidates x gate rate x 2^-24 | "
        f"{false_accept_bound(max(gate_rate, 1.0 / max(results.unmarked_trials, 1))):.1e} |",
        f"| known-ID threshold for {results.n_known:,} IDs (bound {read.KNOWN_ID_FALSE_ACCEPT:.0e} per image) | "
        f"{read.known_id_threshold(results.n_known):.2f} |",
        f"| known-ID scores of unmarked inputs vs 20,000 random IDs ({null.size:,} scores): "
        f"max, share >= 4 (Hoeffding bound {math.exp(-8):.1e}) | {null.max():.2f}, {np.mean(null >= 4):.1e} |",
    ]
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
