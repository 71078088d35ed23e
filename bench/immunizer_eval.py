"""Benchmark of the image immunizer (app/core/immunizer): quality, tamper localization,
false alarms, recovery and speed, on real photos.

    python bench/immunizer_eval.py [--photos 30] [--limit N] [--modes lossless,robust]
                                   [--seed 7] [--skip-12mp] [--skip-tamper-set]
                                   [--out bench/out/immunizer_eval.md]

Photos come from the EVALUATION split of ../shared/data/natural (kodak, the colour
usc_sipi images, darknet; never the sets the learned predictor trains on: ibm_max,
cameratrap, skimage), taken round-robin over the three folders in a seeded order, loaded
as RGB uint8 with the long side capped at 1024 px (Pillow LANCZOS) to bound the runtime.
Each photo is immunized once per mode (one Ed25519 signing key for the run). On every
immunized photo the benchmark makes its own attacks, one of each type, each over a random
2–25 % of the area (log-uniform) with a random region shape (rectangle, rotated ellipse,
random star polygon or a thresholded smoothed-noise blob):

* copy-move: the region is filled from elsewhere in the same immunized photo (a
  non-overlapping offset);
* splicing: the same-shaped region is pasted from another photo of the set (that photo's
  immunized copy in the same mode, so the pasted pixels carry valid immunization data of
  another photo by the same signer: the stricter case);
* in-painting: cv2.inpaint(img, mask, 5, cv2.INPAINT_TELEA) over the region (object removal).

The same attack geometry is used for both modes. Every tampered photo, and the untampered
immunized photo, is then verified under four post-processing conditions: none, JPEG 90,
JPEG 75 (Pillow, default subsampling) and a 0.75x resize (Pillow LANCZOS, after the
tampering; ground-truth mask resized with NEAREST and the original with LANCZOS for the
comparisons). Reported per mode and condition: detection rate, pixel F1 of the returned
mask per attack type, recovery PSNR of `res.recovered` over the ground-truth region,
verdicts and flagged pixels on untampered copies; plus PSNR / SSIM immunized vs original,
validation accuracy (immunized copies recognised, never-immunized originals reported
NOT_IMMUNIZED), bit-exact restoration of untampered lossless copies, 12 MP immunize /
verify time as a ratio to a PNG encode + decode of the same photo, and the NoSo pairs of
../shared/data/tamper (realistic copy-move shapes, pixel-aligned originals).

Skips cleanly (exit 0) when ../shared/data is absent. Deterministic for a given --seed
(the Ed25519 signing key is derived from the seed too; timings of course vary).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import math
import sys
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core import fingerprint  # noqa: E402
from app.core.immunizer import Mode, Verdict, immunize, verify  # noqa: E402
from bench.report import publish  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EVAL_FOLDERS = ("kodak", "usc_sipi", "darknet")  # not used to train the learned predictor
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
MAX_SIDE = 1024
MIN_SIDE = 256
AREA_RANGE = (0.02, 0.25)
SHAPES = ("rectangle", "ellipse", "polygon", "blob")
ATTACKS = ("copy-move", "splicing", "in-painting")
CONDITIONS = ("none", "JPEG 90", "JPEG 75", "resize 0.75x")
PSNR_CAP = 99.0
SIGNER: bytes | None = None  # public key of the run's signing key

# Bars of the issue.
BAR_PSNR = {Mode.LOSSLESS: 40.0, Mode.ROBUST: 38.0}
# SSIM bars (mean, min). The robust mode's is a mean of 0.96 by the owner's decision of
# 2026-12-07: visible quality and no false alarms first, and 0.98 could not be met together with
# recovery >= 26 dB after JPEG 75 on any embedding measured (docs/benchmarks.md).
BAR_SSIM = {Mode.LOSSLESS: (0.98, 0.98), Mode.ROBUST: (0.96, None)}
BAR_VALIDATION = 0.99
BAR_F1 = {(Mode.LOSSLESS, "none"): 0.95, (Mode.ROBUST, "none"): 0.90, (Mode.ROBUST, "JPEG 75"): 0.85}
BAR_FLAGGED = 0.01
BAR_RECOVERY = {(Mode.LOSSLESS, "none"): 30.0, (Mode.ROBUST, "JPEG 75"): 26.0}


def false_alarm_bar_applies(mode: Mode, condition: str) -> bool:
    """The lossless mode is for files kept intact: after a JPEG or a resize its verdict is
    reported but not held to the false-alarm bar. The robust mode is held to it everywhere."""
    return mode is Mode.ROBUST or condition == "none"


# --- small helpers -------------------------------------------------------------------------------

def tick(ok: bool) -> str:
    return "✔" if ok else "✘"


def with_bar(text: str, ok: bool | None) -> str:
    return text if ok is None else f"{text} {tick(ok)}"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10 * math.log10(255.0**2 / mse))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


def f1_score(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = int(np.count_nonzero(pred & truth))
    fp = int(np.count_nonzero(pred & ~truth))
    fn = int(np.count_nonzero(~pred & truth))
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def cap_side(rgb: np.ndarray, resample=Image.LANCZOS) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= MAX_SIDE:
        return rgb
    scale = MAX_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, resample))


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def is_grayscale(path: Path) -> bool:
    with Image.open(path) as image:
        if image.mode in ("1", "L", "LA", "I", "I;16", "F"):
            return True
        rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    return bool(np.abs(rgb[..., 0] - rgb[..., 1]).max() <= 2 and np.abs(rgb[..., 1] - rgb[..., 2]).max() <= 2)


# --- post-processing conditions ------------------------------------------------------------------

def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)  # Pillow's default subsampling
    buffer.seek(0)
    with Image.open(buffer) as image:
        return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def resized_size(shape: tuple[int, ...]) -> tuple[int, int]:
    h, w = shape[:2]
    return max(1, round(w * 0.75)), max(1, round(h * 0.75))


def post_process(rgb: np.ndarray, condition: str) -> np.ndarray:
    if condition == "none":
        return rgb
    if condition == "JPEG 90":
        return jpeg(rgb, 90)
    if condition == "JPEG 75":
        return jpeg(rgb, 75)
    if condition == "resize 0.75x":
        return np.ascontiguousarray(np.asarray(Image.fromarray(rgb).resize(resized_size(rgb.shape), Image.LANCZOS)))
    raise ValueError(condition)


def reference(original: np.ndarray, condition: str) -> np.ndarray:
    """The original as the comparison target under `condition` (resized the same way)."""
    if condition == "resize 0.75x":
        return post_process(original, condition)
    return original


def truth_mask(mask: np.ndarray, condition: str) -> np.ndarray:
    if condition == "resize 0.75x":
        image = Image.fromarray(mask.astype(np.uint8) * 255).resize(resized_size(mask.shape), Image.NEAREST)
        return np.asarray(image) > 127
    return mask


# --- region shapes -------------------------------------------------------------------------------

def place(height: int, width: int, bh: int, bw: int, rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(0, max(1, height - bh + 1))), int(rng.integers(0, max(1, width - bw + 1)))


def region_mask(shape: str, height: int, width: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A region of about `fraction` of the area, of the given shape, fully inside the photo."""
    target = fraction * height * width
    aspect = math.exp(rng.uniform(math.log(0.5), math.log(2.0)))  # width / height
    mask = np.zeros((height, width), np.uint8)
    if shape == "rectangle":
        bw = min(0.95 * width, math.sqrt(target * aspect))
        bh = min(0.95 * height, target / bw)
        bw = min(0.95 * width, target / bh)
        bh, bw = max(2, round(bh)), max(2, round(bw))
        y, x = place(height, width, bh, bw, rng)
        mask[y: y + bh, x: x + bw] = 1
    elif shape == "ellipse":
        a = math.sqrt(target * aspect / math.pi)  # semi-axes
        b = target / (math.pi * a)
        theta = rng.uniform(0, math.pi)
        ex = math.sqrt((a * math.cos(theta)) ** 2 + (b * math.sin(theta)) ** 2)
        ey = math.sqrt((a * math.sin(theta)) ** 2 + (b * math.cos(theta)) ** 2)
        shrink = min(1.0, 0.48 * width / ex, 0.48 * height / ey)
        a, b, ex, ey = a * shrink, b * shrink, ex * shrink, ey * shrink
        cx = rng.uniform(ex, width - ex)
        cy = rng.uniform(ey, height - ey)
        cv2.ellipse(mask, (round(cx), round(cy)), (max(1, round(a)), max(1, round(b))),
                    math.degrees(theta), 0, 360, 1, thickness=-1)
    elif shape == "polygon":
        n = int(rng.integers(5, 13))
        angles = np.sort(rng.uniform(0, 2 * math.pi, n))
        radii = rng.uniform(0.45, 1.0, n)
        pts = np.stack([radii * np.cos(angles) * aspect, radii * np.sin(angles)], axis=1)
        x, y = pts[:, 0], pts[:, 1]
        area = 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
        pts *= math.sqrt(target / max(area, 1e-9))
        pts -= pts.min(axis=0)
        span = pts.max(axis=0)
        shrink = min(1.0, 0.95 * width / max(span[0], 1), 0.95 * height / max(span[1], 1))
        pts *= shrink
        span = pts.max(axis=0)
        y0, x0 = place(height, width, int(math.ceil(span[1])) + 1, int(math.ceil(span[0])) + 1, rng)
        pts += (x0, y0)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    elif shape == "blob":
        # A smoothed noise field with a radial fall-off inside a window, thresholded so that
        # exactly `target` pixels are kept: an irregular, mostly connected blob.
        bw = min(width, round(math.sqrt(target * 2.2 * aspect)))
        bh = min(height, round(target * 2.2 / max(bw, 1)))
        bw = min(width, max(bw, round(target * 1.2 / max(bh, 1))))
        small = (10, max(4, round(10 * bw / max(bh, 1))))  # feature size scales with the window
        noise = cv2.GaussianBlur(rng.standard_normal(small).astype(np.float32), (0, 0), 0.8)
        noise = cv2.resize(noise, (bw, bh), interpolation=cv2.INTER_CUBIC)
        noise /= max(float(noise.std()), 1e-6)
        yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
        r2 = ((yy - bh / 2) / (bh / 2)) ** 2 + ((xx - bw / 2) / (bw / 2)) ** 2
        field_ = noise + 3.0 * (1.0 - r2)
        keep = int(min(target, bh * bw - 1))
        threshold = np.partition(field_.ravel(), -keep)[-keep]
        y, x = place(height, width, bh, bw, rng)
        mask[y: y + bh, x: x + bw] = field_ >= threshold
    else:
        raise ValueError(shape)
    return mask.astype(bool)


# --- attacks -------------------------------------------------------------------------------------

@dataclass
class Attack:
    kind: str
    shape: str
    mask: np.ndarray                 # bool (H, W): the ground truth
    offset: tuple[int, int] = (0, 0)  # copy-move: source = target + offset; splicing: in the donor
    donor: int = -1                  # splicing: index of the donor photo

    @property
    def fraction(self) -> float:
        return float(self.mask.mean())


def copy_move_offset(mask: np.ndarray, rng: np.random.Generator, tries: int = 400) -> tuple[int, int] | None:
    height, width = mask.shape
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
    for _ in range(tries):
        dy = int(rng.integers(-y0, height - y1))
        dx = int(rng.integers(-x0, width - x1))
        if (dy, dx) == (0, 0):
            continue
        if not mask[ys + dy, xs + dx].any():
            return dy, dx
    return None


def donor_offset(mask: np.ndarray, donor_shape: tuple[int, ...], rng: np.random.Generator) -> tuple[int, int]:
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
    dh, dw = donor_shape[:2]
    ty = int(rng.integers(0, max(1, dh - (y1 - y0)))) if dh > y1 - y0 else 0
    tx = int(rng.integers(0, max(1, dw - (x1 - x0)))) if dw > x1 - x0 else 0
    return ty - y0, tx - x0


def fit_donor(donor: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scale the donor up if it is smaller than the region's bounding box."""
    ys, xs = np.nonzero(mask)
    need_h, need_w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    dh, dw = donor.shape[:2]
    scale = max(1.0, need_h / dh, need_w / dw)
    if scale == 1.0:
        return donor
    size = (math.ceil(dw * scale), math.ceil(dh * scale))
    return np.asarray(Image.fromarray(donor).resize(size, Image.LANCZOS))


def make_attacks(index: int, shape_hw: tuple[int, int], n_photos: int, seed: int,
                 per_type: int) -> list[Attack]:
    rng = np.random.default_rng([seed, index, 1])
    height, width = shape_hw
    attacks = []
    for kind in ATTACKS:
        for _ in range(per_type):
            fraction = math.exp(rng.uniform(math.log(AREA_RANGE[0]), math.log(AREA_RANGE[1])))
            shape = SHAPES[int(rng.integers(0, len(SHAPES)))]
            for attempt in range(40):
                mask = region_mask(shape, height, width, fraction, rng)
                if mask.sum() < 64:
                    continue
                if kind == "copy-move":
                    offset = copy_move_offset(mask, rng)
                    if offset is None:  # too big to move without overlap: try a new position
                        if attempt % 10 == 9:
                            fraction *= 0.85
                        continue
                    attacks.append(Attack(kind, shape, mask, offset))
                elif kind == "splicing":
                    donor = index if n_photos == 1 else \
                        int((index + 1 + rng.integers(0, n_photos - 1)) % n_photos)
                    attacks.append(Attack(kind, shape, mask, (0, 0), donor))
                else:
                    attacks.append(Attack(kind, shape, mask))
                break
            else:
                raise RuntimeError(f"could not place a {kind} region in photo {index}")
    return attacks


def apply_attack(attack: Attack, immunized: np.ndarray, donors: list[np.ndarray],
                 rng: np.random.Generator) -> np.ndarray:
    ys, xs = np.nonzero(attack.mask)
    out = immunized.copy()
    if attack.kind == "copy-move":
        dy, dx = attack.offset
        out[ys, xs] = immunized[ys + dy, xs + dx]
    elif attack.kind == "splicing":
        donor = donors[attack.donor]
        if donor is immunized:  # only one photo in the set: its mirrored self
            donor = np.ascontiguousarray(donor[::-1, ::-1])
        donor = fit_donor(donor, attack.mask)
        dy, dx = donor_offset(attack.mask, donor.shape, rng)
        out[ys, xs] = donor[ys + dy, xs + dx]
    elif attack.kind == "in-painting":
        out = cv2.inpaint(immunized, attack.mask.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
    else:
        raise ValueError(attack.kind)
    return out


# --- running the immunizer (errors and contract violations are counted, not hidden) --------------

@dataclass
class Problems:
    errors: list = field(default_factory=list)      # (where, message)
    contract: list = field(default_factory=list)    # (where, message)

    def error(self, where: str, exc: BaseException) -> None:
        self.errors.append((where, f"{type(exc).__name__}: {exc}"))
        if len(self.errors) <= 3:
            print(f"  !! immunizer raised at {where}:")
            traceback.print_exception(exc, limit=6)
        else:
            print(f"  !! immunizer raised at {where}: {type(exc).__name__}: {exc}")

    def violation(self, where: str, message: str) -> None:
        self.contract.append((where, message))
        print(f"  !! API contract violated at {where}: {message}")


def run_immunize(pixels: np.ndarray, mode: Mode, key: bytes, problems: Problems, where: str):
    start = time.perf_counter()
    try:
        out = immunize(pixels, mode, signing_private=key, progress=None, cancel=None)
    except Exception as exc:  # noqa: BLE001 - reported, then the photo is left out of this mode
        problems.error(where, exc)
        return None, time.perf_counter() - start
    seconds = time.perf_counter() - start
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != pixels.shape:
        problems.violation(where, f"immunize returned {type(out).__name__} "
                                  f"{getattr(out, 'dtype', '?')} {getattr(out, 'shape', '?')}, "
                                  f"expected uint8 {pixels.shape}")
        return None, seconds
    return out, seconds


@dataclass
class Outcome:
    verdict: Verdict | None      # None: verify raised
    mask: np.ndarray             # bool (H, W); all False when unusable
    recovered: np.ndarray | None
    bit_exact: bool
    seconds: float
    signed_ok: bool = False      # signature valid and made by the run's key


def run_verify(pixels: np.ndarray, problems: Problems, where: str) -> Outcome:
    h, w = pixels.shape[:2]
    empty = np.zeros((h, w), bool)
    start = time.perf_counter()
    try:
        res = verify(pixels)
    except Exception as exc:  # noqa: BLE001
        problems.error(where, exc)
        return Outcome(None, empty, None, False, time.perf_counter() - start)
    seconds = time.perf_counter() - start
    mask = np.asarray(res.mask)
    if mask.shape != (h, w):
        problems.violation(where, f"mask shape {mask.shape}, expected {(h, w)}; scored as empty")
        mask = empty
    else:
        mask = mask.astype(bool)
    recovered = res.recovered
    if recovered is not None and (recovered.shape != pixels.shape or recovered.dtype != np.uint8):
        problems.violation(where, f"recovered {recovered.dtype} {recovered.shape}, expected uint8 "
                                  f"{pixels.shape}; scored as no recovery")
        recovered = None
    if res.verdict is Verdict.TAMPERED and not mask.any():
        problems.violation(where, "verdict TAMPERED with an empty mask")
    signed_ok = bool(res.signature_valid) and res.signer == SIGNER
    return Outcome(res.verdict, mask, recovered, bool(res.bit_exact), seconds, signed_ok)


# --- records -------------------------------------------------------------------------------------

@dataclass
class Tampered:
    mode: Mode
    condition: str
    attack: str
    shape: str
    fraction: float
    detected: bool
    recognised: bool
    f1: float
    recovery_psnr: float | None   # None: no recovered image
    outside_exact: float | None   # lossless, none: untouched, unflagged pixels restored exactly (share)


@dataclass
class Untampered:
    mode: Mode
    condition: str
    recognised: bool
    false_tampered: bool
    flagged: float
    restored_exact: bool | None   # condition none only
    reported_bit_exact: bool
    signed_ok: bool


# --- photo set -----------------------------------------------------------------------------------

def list_photos(seed: int) -> tuple[list[Path], list[str]]:
    rng = np.random.default_rng([seed, 0])
    folders, notes = [], []
    for name in EVAL_FOLDERS:
        folder = DATA / "natural" / name
        paths = sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        usable = []
        for path in paths:
            try:
                with Image.open(path) as image:
                    small = min(image.size) < MIN_SIDE
                if small or is_grayscale(path):
                    notes.append(f"{name}/{path.name} ({'grayscale' if not small else 'smaller than 256 px'})")
                    continue
            except Exception as exc:  # noqa: BLE001
                notes.append(f"{name}/{path.name} (unreadable: {exc})")
                continue
            usable.append(path)
        folders.append([usable[i] for i in rng.permutation(len(usable))])
    ordered = []
    while any(folders):  # round-robin over the folders
        for queue in folders:
            if queue:
                ordered.append(queue.pop(0))
    return ordered, notes


# --- NoSo: realistic copy-move shapes with pixel-aligned originals -------------------------------

def noso_pairs() -> list[tuple[Path, Path, Path]]:
    index = DATA / "tamper" / "TAMPER_INDEX.tsv"
    if not index.is_file():
        return []
    pairs = []
    with index.open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row.get("dataset", "").strip().lower() != "noso" or not (row.get("original") or "").strip():
                continue
            tampered = DATA / row["tampered_image"].strip()
            mask = DATA / row["masks"].split(",")[0].split(" (")[0].strip()
            original = DATA / row["original"].strip()
            if tampered.is_file() and mask.is_file() and original.is_file():
                pairs.append((tampered, mask, original))
    return pairs


def noso_region(tampered: np.ndarray, original: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The pasted part of a NoSo ground-truth mask. NoSo masks mark both the copied source and
    the pasted target; the source is unchanged, so its pixels would not be tampered with when the
    edit is re-done on the immunized photo. Keep the connected components of the mask whose
    pixels differ from the original clearly more than the rest of the photo does (some NoSo
    files were re-saved and differ by ~2 grey levels everywhere)."""
    diff = np.abs(tampered.astype(np.int16) - original.astype(np.int16)).mean(axis=2)
    background = float(diff[~mask].mean()) if (~mask).any() else 0.0
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    region = np.zeros_like(mask)
    for label in range(1, n):
        component = labels == label
        if float(diff[component].mean()) > 2 * background + 3:
            region |= component
    return region


# --- main ----------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=30, help="photos from the evaluation split (default 30)")
    parser.add_argument("--limit", type=int, default=0, help="quick loop: use only the first N of them")
    parser.add_argument("--modes", default="lossless,robust", help="comma-separated: lossless,robust")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--attacks-per-type", type=int, default=1, help="tampered samples per attack type and photo")
    parser.add_argument("--skip-12mp", action="store_true", help="skip the 12 MP timing")
    parser.add_argument("--skip-tamper-set", action="store_true", help="skip the NoSo realistic-shapes part")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "immunizer_eval.md")
    args = parser.parse_args()

    if not (DATA / "natural").is_dir():
        print(f"skipped: {DATA} is absent (the shared photo set is needed)")
        return 0
    try:
        modes = [Mode(m.strip()) for m in args.modes.split(",") if m.strip()]
    except ValueError as exc:
        parser.error(str(exc))
    all_paths, excluded = list_photos(args.seed)
    wanted = args.photos if not args.limit else min(args.photos, args.limit)
    paths = all_paths[:wanted]
    if not paths:
        print("skipped: no usable photos found in the evaluation split")
        return 0

    started = time.perf_counter()
    # Any 32 bytes are a valid raw Ed25519 private key; deriving it from the seed keeps the run
    # deterministic (fingerprint.new_signing_key() would give a fresh one each time).
    key = hashlib.sha256(f"sanctum immunizer benchmark {args.seed}".encode()).digest()
    global SIGNER
    SIGNER = fingerprint.public_key_of(key)
    problems = Problems()
    photo_seconds: list[float] = []

    # Phase 1: load and immunize every photo in every mode (the splicing donors need them all).
    originals: list[np.ndarray] = []
    names: list[str] = []
    capped = 0
    for path in paths:
        rgb = load_rgb(path)
        if max(rgb.shape[:2]) > MAX_SIDE:
            capped += 1
        originals.append(np.ascontiguousarray(cap_side(rgb)))
        names.append(f"{path.parent.name}/{path.name}")
    immunized: dict[Mode, list[np.ndarray | None]] = {m: [] for m in modes}
    quality = {m: {"psnr": [], "ssim": [], "seconds": [], "mp": []} for m in modes}
    print(f"{len(paths)} photos; immunizing in {', '.join(m.value for m in modes)} ...", flush=True)
    for i, original in enumerate(originals):
        t0 = time.perf_counter()
        line = []
        for mode in modes:
            out, seconds = run_immunize(original, mode, key, problems, f"immunize {mode.value} {names[i]}")
            immunized[mode].append(out)
            if out is None:
                line.append(f"{mode.value}: FAILED")
                continue
            quality[mode]["psnr"].append(psnr(original, out))
            quality[mode]["ssim"].append(ssim(original, out))
            quality[mode]["seconds"].append(seconds)
            quality[mode]["mp"].append(original.shape[0] * original.shape[1] / 1e6)
            line.append(f"{mode.value} {quality[mode]['psnr'][-1]:.1f} dB / {seconds:.1f} s")
        photo_seconds.append(time.perf_counter() - t0)
        print(f"  {i + 1:3d} {names[i]} {original.shape[1]}x{original.shape[0]}: {', '.join(line)}", flush=True)

    # Phase 2: validation, false alarms, attacks under every condition.
    tampered_records: list[Tampered] = []
    untampered_records: list[Untampered] = []
    original_verdicts: list[bool] = []   # True: correctly NOT_IMMUNIZED
    verify_seconds: dict[Mode, list[float]] = defaultdict(list)
    for i, original in enumerate(originals):
        t0 = time.perf_counter()
        outcome = run_verify(original, problems, f"verify original {names[i]}")
        original_verdicts.append(outcome.verdict is Verdict.NOT_IMMUNIZED)
        attacks = make_attacks(i, original.shape[:2], len(originals), args.seed, args.attacks_per_type)
        summary = []
        for mode in modes:
            imm = immunized[mode][i]
            if imm is None:
                continue
            for condition in CONDITIONS:
                suspect = post_process(imm, condition)
                out = run_verify(suspect, problems, f"verify untampered {mode.value} {condition} {names[i]}")
                exact = None
                if condition == "none":
                    verify_seconds[mode].append(out.seconds)
                    exact = out.recovered is not None and np.array_equal(out.recovered, original)
                untampered_records.append(Untampered(
                    mode, condition, out.verdict not in (None, Verdict.NOT_IMMUNIZED),
                    out.verdict is Verdict.TAMPERED, float(out.mask.mean()), exact, out.bit_exact,
                    out.signed_ok))
            donors = [d if d is not None else o for d, o in zip(immunized[mode], originals, strict=True)]
            f1s = []
            for a_index, attack in enumerate(attacks):
                rng = np.random.default_rng([args.seed, i, 2, a_index])  # same for both modes
                tampered = apply_attack(attack, imm, donors, rng)
                for condition in CONDITIONS:
                    suspect = post_process(tampered, condition)
                    truth = truth_mask(attack.mask, condition)
                    ref = reference(original, condition)
                    out = run_verify(suspect, problems,
                                     f"verify {attack.kind} {mode.value} {condition} {names[i]}")
                    f1 = f1_score(out.mask, truth) if out.mask.shape == truth.shape else 0.0
                    rec = None
                    if out.recovered is not None and truth.any():
                        rec = psnr(out.recovered[truth], ref[truth])
                    outside = None
                    if mode is Mode.LOSSLESS and condition == "none" and out.recovered is not None:
                        keep = ~out.mask & ~attack.mask  # untouched and not flagged
                        outside = float(np.all(out.recovered[keep] == original[keep], axis=-1).mean()) \
                            if keep.any() else 1.0
                    tampered_records.append(Tampered(
                        mode, condition, attack.kind, attack.shape, attack.fraction,
                        out.verdict is Verdict.TAMPERED, out.verdict not in (None, Verdict.NOT_IMMUNIZED),
                        f1, rec, outside))
                    if condition == "none":
                        f1s.append(f1)
            summary.append(f"{mode.value} F1 {np.mean(f1s):.2f}" if f1s else f"{mode.value} -")
        photo_seconds[i] += time.perf_counter() - t0
        print(f"  {i + 1:3d} {names[i]}: {', '.join(summary)} (clean); photo total {photo_seconds[i]:.0f} s, "
              f"elapsed {time.perf_counter() - started:.0f} s", flush=True)

    # 12 MP timing.
    big = None
    if not args.skip_12mp:
        big = twelve_mp(paths, modes, key, problems)

    # NoSo realistic shapes.
    noso = None
    if not args.skip_tamper_set:
        noso = run_noso(modes, key, problems)

    lines = render(args, modes, names, excluded, capped, quality, tampered_records, untampered_records,
                   original_verdicts, verify_seconds, photo_seconds, big, noso, problems,
                   time.perf_counter() - started)
    publish("\n".join(lines) + "\n", args.out)
    return 0


def twelve_mp(paths: list[Path], modes: list[Mode], key: bytes, problems: Problems) -> dict:
    source_path = next((p for p in paths if p.name == "kodim23.png"), paths[0])
    big = np.ascontiguousarray(np.asarray(Image.fromarray(load_rgb(source_path)).resize((4000, 3000), Image.LANCZOS)))
    png_seconds = math.inf
    for _ in range(2):
        t0 = time.perf_counter()
        buffer = io.BytesIO()
        Image.fromarray(big).save(buffer, "PNG")  # default compress level
        buffer.seek(0)
        with Image.open(buffer) as image:
            np.asarray(image.convert("RGB"))
        png_seconds = min(png_seconds, time.perf_counter() - t0)
    result = {"source": f"{source_path.parent.name}/{source_path.name}", "png": png_seconds, "modes": {}}
    print(f"12 MP ({result['source']} resized to 4000x3000): PNG encode + decode {png_seconds:.2f} s", flush=True)
    for mode in modes:
        imm, imm_s = run_immunize(big, mode, key, problems, f"immunize {mode.value} 12 MP")
        if imm is None:
            result["modes"][mode] = None
            continue
        out = run_verify(imm, problems, f"verify {mode.value} 12 MP")
        result["modes"][mode] = {"immunize": imm_s, "verify": out.seconds, "verdict": out.verdict}
        print(f"  {mode.value}: immunize {imm_s:.1f} s, verify {out.seconds:.1f} s, verdict "
              f"{out.verdict.value if out.verdict else 'ERROR'}", flush=True)
    return result


def run_noso(modes: list[Mode], key: bytes, problems: Problems) -> dict | None:
    pairs = noso_pairs()
    if not pairs:
        print("NoSo pairs not found: realistic-shapes part skipped")
        return None
    print(f"NoSo: {len(pairs)} tampered/original pairs", flush=True)
    cache: dict[tuple[Mode, Path], np.ndarray | None] = {}
    records = []
    for tampered_path, mask_path, original_path in pairs:
        original = cap_side(load_rgb(original_path))
        tampered = cap_side(load_rgb(tampered_path))
        with Image.open(mask_path) as image:
            mask = np.asarray(image.convert("L"))
        mask = cap_side(np.repeat(mask[..., None], 3, axis=2), Image.NEAREST)[..., 0] > 127
        if tampered.shape != original.shape or mask.shape != original.shape[:2]:
            print(f"  skip {tampered_path.name}: sizes differ")
            continue
        region = noso_region(tampered, original, mask)
        if not region.any():
            print(f"  skip {tampered_path.name}: no changed pixels inside the mask")
            continue
        for mode in modes:
            if (mode, original_path) not in cache:
                cache[(mode, original_path)] = run_immunize(original, mode, key, problems,
                                                            f"immunize {mode.value} NoSo {original_path.name}")[0]
            imm = cache[(mode, original_path)]
            if imm is None:
                continue
            attacked = imm.copy()
            attacked[region] = tampered[region]
            for condition in ("none", "JPEG 75"):
                out = run_verify(post_process(attacked, condition), problems,
                                 f"verify NoSo {mode.value} {condition} {tampered_path.name}")
                rec = psnr(out.recovered[region], original[region]) if out.recovered is not None else None
                records.append({"mode": mode, "condition": condition, "f1": f1_score(out.mask, region),
                                "detected": out.verdict is Verdict.TAMPERED, "recovery": rec,
                                "fraction": float(region.mean()), "name": tampered_path.name})
        print(f"  {tampered_path.name}: region {100 * region.mean():.1f} % " + ", ".join(
            f"{r['mode'].value}/{r['condition']} F1 {r['f1']:.2f}" for r in records
            if r["name"] == tampered_path.name), flush=True)
    return {"pairs": len({r["name"] for r in records}), "records": records}


# --- report --------------------------------------------------------------------------------------

def render(args, modes, names, excluded, capped, quality, tampered, untampered, original_verdicts,
           verify_seconds, photo_seconds, big, noso, problems, total_seconds) -> list[str]:
    n_photos = len(names)
    by_folder = defaultdict(int)
    for name in names:
        by_folder[name.split("/")[0]] += 1
    folders = ", ".join(f"{k} {v}" for k, v in by_folder.items())
    lines = [
        "## Image immunizer (`app/core/immunizer`)",
        "",
        f"Measured by `bench/immunizer_eval.py --photos {args.photos}"
        + (f" --limit {args.limit}" if args.limit else "") + f" --seed {args.seed}` on "
        f"**{n_photos} photos**" + (" (a quick run: the issue asks for ≥ 30)" if n_photos < 30 else "")
        + f" from the evaluation split of `shared/data/natural` ({folders}; the learned "
        "predictor trains on ibm_max, cameratrap and skimage, none of which is used here)"
        + (f"; left out: {', '.join(excluded)}" if excluded else "") + ". "
        f"Long side capped at {MAX_SIDE} px (Pillow LANCZOS) to bound the runtime ({capped} photos were "
        "downscaled). One Ed25519 signing key for the run, derived from the seed.",
        "",
        f"Attacks are made by the benchmark on the immunized photo, {args.attacks_per_type} per type and photo, "
        f"each over a random {100 * AREA_RANGE[0]:.0f}–{100 * AREA_RANGE[1]:.0f} % of the area (log-uniform) "
        "with a random shape (rectangle, rotated ellipse, star polygon, smoothed-noise blob): copy-move "
        "(from a non-overlapping place in the same photo), splicing (same-shaped region from another "
        "photo's immunized copy in the same mode, signed with the same key), in-painting "
        "(`cv2.inpaint(..., 5, INPAINT_TELEA)`). The same geometry is used for both modes. Each tampered "
        "and each untampered copy is verified after: none, JPEG 90, JPEG 75 (Pillow, default subsampling), "
        "0.75x resize (Pillow LANCZOS, after tampering; the ground-truth mask is resized with NEAREST and "
        "the original with LANCZOS for the comparisons). F1 is the pixel F1 of `verify().mask` against the "
        "ground truth, per sample, then averaged (a NOT_IMMUNIZED verdict scores an empty mask). Recovery "
        "PSNR compares `verify().recovered` with the original over the ground-truth region (per sample, "
        f"capped at {PSNR_CAP:.0f} dB, then averaged). ✔/✘ mark the issue's bars where they apply.",
        "",
    ]
    # Quality and validation.
    lines += ["| immunized vs original | " + " | ".join(m.value for m in modes) + " |",
              "|---|" + "---|" * len(modes)]
    row_psnr, row_ssim, row_n, row_time = [], [], [], []
    for mode in modes:
        q = quality[mode]
        if q["psnr"]:
            bar = BAR_PSNR[mode]
            mean_p, min_p = float(np.mean(q["psnr"])), float(np.min(q["psnr"]))
            mean_s, min_s = float(np.mean(q["ssim"])), float(np.min(q["ssim"]))
            row_psnr.append(f"mean {with_bar(f'{mean_p:.2f} dB', mean_p >= bar)}, "
                            f"min {with_bar(f'{min_p:.2f} dB', min_p >= bar)} (bar ≥ {bar:.0f} dB)")
            bar_mean_s, bar_min_s = BAR_SSIM[mode]
            min_text = (with_bar(f'{min_s:.4f}', min_s >= bar_min_s) if bar_min_s is not None
                        else f"{min_s:.4f}")
            bars = f"bar: mean ≥ {bar_mean_s}" + (f", min ≥ {bar_min_s}" if bar_min_s is not None else "")
            row_ssim.append(f"mean {with_bar(f'{mean_s:.4f}', mean_s >= bar_mean_s)}, "
                            f"min {min_text} ({bars})")
            row_time.append(f"{np.mean(q['seconds']):.2f} s per photo "
                            f"({np.sum(q['seconds']) / np.sum(q['mp']):.2f} s/MP); verify "
                            f"{np.mean(verify_seconds[mode]) if verify_seconds[mode] else float('nan'):.2f} s")
        else:
            row_psnr.append("–")
            row_ssim.append("–")
            row_time.append("–")
        row_n.append(f"{len(q['psnr'])} of {n_photos}")
    lines += [
        "| photos immunized | " + " | ".join(row_n) + " |",
        "| PSNR (RGB) | " + " | ".join(row_psnr) + " |",
        "| SSIM (RGB, channel_axis=2) | " + " | ".join(row_ssim) + " |",
        "| time: immunize / verify (untampered) | " + " | ".join(row_time) + " |",
        "",
    ]

    # Validation accuracy.
    n_orig = len(original_verdicts)
    orig_ok = sum(original_verdicts)
    lines += ["| validation | n | correct | bar ≥ 99 % |", "|---|---:|---:|---|"]
    total_ok, total_n = orig_ok, n_orig
    signer_rows: list[str] = []
    for mode in modes:
        recs = [u for u in untampered if u.mode is mode and u.condition == "none"]
        ok = sum(u.recognised for u in recs)
        total_ok += ok
        total_n += len(recs)
        rate = ok / max(len(recs), 1)
        lines.append(f"| {mode.value}-immunized copies recognised (verdict ≠ NOT_IMMUNIZED) | {len(recs)} | "
                     f"{ok} ({100 * rate:.1f} %) | {tick(rate >= BAR_VALIDATION)} |")
        signed = sum(u.signed_ok for u in recs)
        signer_rows.append(f"| {mode.value}: signature valid and signer = the run's key (not in the accuracy) | "
                           f"{len(recs)} | {signed} ({100 * signed / max(len(recs), 1):.1f} %) | – |")
    rate = orig_ok / max(n_orig, 1)
    lines.append(f"| never-immunized originals reported NOT_IMMUNIZED | {n_orig} | {orig_ok} ({100 * rate:.1f} %) | "
                 f"{tick(rate >= BAR_VALIDATION)} |")
    rate = total_ok / max(total_n, 1)
    lines.append(f"| **validation accuracy (all of the above)** | {total_n} | {total_ok} ({100 * rate:.1f} %) | "
                 f"{tick(rate >= BAR_VALIDATION)} |")
    lines += signer_rows
    lines.append("")

    # Main table.
    lines += [
        "| mode | condition | tampered n | detected (TAMPERED) | F1 copy-move | F1 splicing | F1 in-painting "
        "| **F1 all** | recovery PSNR, tampered region | untampered n | recognised | false TAMPERED "
        "| px flagged mean / max |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in modes:
        for condition in CONDITIONS:
            recs = [t for t in tampered if t.mode is mode and t.condition == condition]
            unt = [u for u in untampered if u.mode is mode and u.condition == condition]
            if not recs and not unt:
                continue
            cells = [mode.value, condition, str(len(recs))]
            cells.append(f"{100 * np.mean([t.detected for t in recs]):.1f} %" if recs else "–")
            for attack in ATTACKS:
                vals = [t.f1 for t in recs if t.attack == attack]
                cells.append(f"{np.mean(vals):.3f}" if vals else "–")
            if recs:
                f1 = float(np.mean([t.f1 for t in recs]))
                bar = BAR_F1.get((mode, condition))
                cells.append(with_bar(f"**{f1:.3f}**", None if bar is None else f1 >= bar)
                             + (f" (bar ≥ {bar})" if bar is not None else ""))
            else:
                cells.append("–")
            recovered = [t.recovery_psnr for t in recs if t.recovery_psnr is not None]
            bar = BAR_RECOVERY.get((mode, condition))
            if recovered:
                mean = float(np.mean(recovered))
                ok = None if bar is None else (mean >= bar and len(recovered) == len(recs))
                text = with_bar(f"{mean:.1f} dB", ok) + f" (min {np.min(recovered):.1f}"
                if len(recovered) < len(recs):
                    text += f"; {len(recs) - len(recovered)} without recovery"
                cells.append(text + (f"; bar ≥ {bar:.0f})" if bar is not None else ")"))
            else:
                cells.append(with_bar("none recovered", None if bar is None or not recs else False))
            cells.append(str(len(unt)))
            if unt:
                applies = false_alarm_bar_applies(mode, condition)
                cells.append(f"{100 * np.mean([u.recognised for u in unt]):.1f} %")
                false_rate = float(np.mean([u.false_tampered for u in unt]))
                cells.append(with_bar(f"{sum(u.false_tampered for u in unt)} ({100 * false_rate:.1f} %)",
                                      false_rate == 0 if applies else None))
                flagged = [u.flagged for u in unt]
                cells.append(with_bar(f"{100 * np.mean(flagged):.2f} % / {100 * np.max(flagged):.2f} %",
                                      max(flagged) <= BAR_FLAGGED if applies else None))
            else:
                cells += ["–", "–", "–"]
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Bars: F1 lossless ≥ 0.95 (no post-processing), robust ≥ 0.90 clean and ≥ 0.85 after JPEG 75; "
        "recovery PSNR ≥ 30 dB (lossless, none) and ≥ 26 dB (robust, JPEG 75); false alarms on untampered "
        "copies: no TAMPERED verdict and ≤ 1 % of pixels flagged (max over photos) — applies to the robust mode "
        "under every condition and to the lossless mode without post-processing (the lossless mode is for "
        "files kept intact; its numbers after JPEG / resize are shown unmarked). Anchor: EditGuard (CVPR 2024) "
        "reaches F1 ≈ 0.97 clean but 0.55 at JPEG 70, and it recovers no content.",
        "",
    ]

    # Bit-exact restoration and extra detail.
    if Mode.LOSSLESS in modes:
        recs = [u for u in untampered if u.mode is Mode.LOSSLESS and u.condition == "none"]
        exact = sum(bool(u.restored_exact) for u in recs)
        flag = sum(u.reported_bit_exact for u in recs)
        outside = [t.outside_exact for t in tampered
                   if t.mode is Mode.LOSSLESS and t.condition == "none" and t.outside_exact is not None]
        lines += [
            f"- Untampered lossless copies restored bit-exact to the pre-immunization original "
            f"(`recovered == original`): {exact} of {len(recs)} "
            f"({100 * exact / max(len(recs), 1):.1f} %) {tick(exact == len(recs) and len(recs) > 0)} (bar 100 %); "
            f"`bit_exact` reported True on {flag} of {len(recs)}.",
        ]
        if outside:
            lines.append(f"- Tampered lossless copies (no post-processing): untouched pixels outside the returned "
                         f"mask restored bit-exact: mean {100 * np.mean(outside):.3f} %, "
                         f"min {100 * np.min(outside):.3f} % (should be 100 %).")
    fractions = [t.fraction for t in tampered if t.condition == "none"]
    if fractions:
        by_shape = defaultdict(list)
        for t in tampered:
            if t.condition == "none":
                by_shape[(t.mode, t.shape)].append(t.f1)
        shape_text = "; ".join(
            f"{mode.value}: " + ", ".join(f"{shape} {np.mean(by_shape[(mode, shape)]):.3f} "
                                          f"(n={len(by_shape[(mode, shape)])})"
                                          for shape in SHAPES if by_shape[(mode, shape)])
            for mode in modes)
        lines += [
            f"- Tampered region size: mean {100 * np.mean(fractions):.1f} % of the area "
            f"(range {100 * np.min(fractions):.1f}–{100 * np.max(fractions):.1f} %).",
            f"- F1 by region shape (no post-processing): {shape_text}.",
        ]
    lines.append("")

    # 12 MP.
    if big is not None:
        lines += [f"12 MP timing ({big['source']} resized to 4000x3000; PNG encode + decode with Pillow, default "
                  f"compress level: {big['png']:.2f} s, best of 2, same run):", "",
                  "| mode | immunize | verify (untampered) | verdict |", "|---|---:|---:|---|"]
        for mode in modes:
            r = big["modes"].get(mode)
            if r is None:
                lines.append(f"| {mode.value} | FAILED | – | – |")
                continue
            lines.append(f"| {mode.value} | {r['immunize']:.1f} s ({r['immunize'] / big['png']:.1f}x PNG) | "
                         f"{r['verify']:.1f} s ({r['verify'] / big['png']:.1f}x PNG) | "
                         f"{r['verdict'].value if r['verdict'] else 'ERROR'} |")
        lines.append("")
    else:
        lines += ["12 MP timing: skipped (`--skip-12mp`).", ""]

    # NoSo.
    if noso is not None and noso["records"]:
        lines += [
            f"Realistic shapes: {noso['pairs']} NoSo copy-move pairs from `shared/data/tamper` whose original is "
            "given and pixel-aligned. The original is immunized, the dataset's tampered pixels are pasted onto it "
            "inside the pasted part of the ground-truth mask (NoSo masks mark both the copied source and the "
            "pasted target; the unchanged source components are left out), then verified. Region: mean "
            f"{100 * np.mean([r['fraction'] for r in noso['records']]):.1f} % of the area.",
            "",
            "| mode | condition | n | detected | F1 | recovery PSNR, tampered region |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for mode in modes:
            for condition in ("none", "JPEG 75"):
                recs = [r for r in noso["records"] if r["mode"] is mode and r["condition"] == condition]
                if not recs:
                    continue
                f1 = float(np.mean([r["f1"] for r in recs]))
                bar = BAR_F1.get((mode, condition))
                rec = [r["recovery"] for r in recs if r["recovery"] is not None]
                rbar = BAR_RECOVERY.get((mode, condition))
                rec_text = "none recovered" if not rec else (
                    with_bar(f"{np.mean(rec):.1f} dB", None if rbar is None else
                             (np.mean(rec) >= rbar and len(rec) == len(recs))) + f" (min {np.min(rec):.1f}"
                    + (f"; {len(recs) - len(rec)} without recovery" if len(rec) < len(recs) else "")
                    + (f"; bar ≥ {rbar:.0f})" if rbar is not None else ")"))
                lines.append(f"| {mode.value} | {condition} | {len(recs)} | "
                             f"{100 * np.mean([r['detected'] for r in recs]):.1f} % | "
                             f"{with_bar(f'{f1:.3f}', None if bar is None else f1 >= bar)} | {rec_text} |")
        lines.append("")
    elif noso is None:
        lines += ["Realistic shapes (NoSo): skipped (`shared/data/tamper` absent or `--skip-tamper-set`).", ""]

    # Counts, problems, runtime.
    n_tampered = len([t for t in tampered if t.condition == "none"])
    lines += [
        f"Samples: {n_photos} photos × {len(modes)} mode(s); per mode and condition "
        f"{n_tampered // max(len(modes), 1)} tampered ({args.attacks_per_type} × {len(ATTACKS)} attack types per "
        f"photo) and {n_photos} untampered copies; {n_orig} never-immunized originals. "
        f"Verify calls: {len(tampered) + len(untampered) + n_orig}"
        + (f" + NoSo {len(noso['records'])}" if noso else "") + ".",
        f"Immunizer errors (exceptions): {len(problems.errors)}; API contract violations: {len(problems.contract)}.",
    ]
    for where, message in (problems.errors + problems.contract)[:10]:
        lines.append(f"  - {where}: {message}")
    lines += [
        f"Runtime: {total_seconds / 60:.1f} min in total; {np.mean(photo_seconds):.1f} s per photo on average "
        f"(immunize + {1 + len(modes) * len(CONDITIONS) * (1 + args.attacks_per_type * len(ATTACKS))} verify "
        f"calls, {len(modes)} mode(s), with metrics).",
    ]
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
