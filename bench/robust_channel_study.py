"""Robust mode: how many bits a photo carries through JPEG 75, against the SSIM they cost.

Why this study: issue 7 asks robust copies for SSIM >= 0.98 *and* for edited regions recovered
>= 26 dB from the original after JPEG 75. Recovery needs room for the reference photo, that is
bits that survive JPEG 75; SSIM limits how hard the blocks may be pushed. The full benchmark
(`immunizer_eval.py`) shows the two pulling against each other through the QIM step. This study
measures the channel itself, without codes, references or tamper maps in the way, for ways of
embedding the robust mode does not use (yet), to see whether any reaches both.

Each scheme embeds random bits the robust mode's way (QIM on its 13 low DCT frequencies of the
resize-proof view, EMBED_PASSES passes, the change shared out over R, G, B by channel weight:
`channel.embed_nearest`) and reports:

* SSIM and PSNR against the photo (the benchmark's functions);
* capacity: the mutual information between the embedded bits and their soft read-back after
  JPEG 75 (and after a 0.75x resize), each soft bit's reliability calibrated on the true bits
  (16 strengths, per texture class and bit level): what a perfect code could carry, in bits per
  8x8 block. Ratios to the landed scheme, measured in the same run, are what to compare.

Schemes:

* binary QIM at one step: the landed robust mode (step 22), and step 16;
* 4-ary QIM (two Gray-coded bits a frequency) at step 22: the same distortion as binary 22;
* texture classes: smooth blocks binary at a small step, busy ones 4-ary at a larger step (busy
  blocks hide a change from SSIM, smooth ones don't). The class comes from the texture around
  a block (log energy of the frequencies that carry no bits, averaged over 3x3 blocks), which a
  decoder has to estimate again from the copy: "as read" uses the classes the copy shows, so
  blocks it gets wrong cost what they would cost a real decoder.

A second table asks a real code: the message bits per block that the robust mode's LDPC code
(`ira`) got back exactly after JPEG 75, with a quarter of the photo replaced by another photo
(the edit immunize's own check asks a code to survive). Every slot (block, frequency, bit level)
holds one codeword bit; the slots a block's class does not carry are left out (punctured). The
decoder is told which blocks were replaced (the robust mode finds them by pilots and failed
decodes) and calibrated on the true bits of the rest, as the capacity is.

Run: python bench/robust_channel_study.py [--photos 30] [--decode-photos 8] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import immunizer_eval as bench  # puts the repository on sys.path
import numpy as np
from PIL import Image
from scipy import ndimage

from app.core.immunizer import ira  # noqa: E402
from app.core.immunizer.robust import channel  # noqa: E402
from bench.report import publish  # noqa: E402

STRENGTH_BINS = 16
NO_THRESHOLD = -np.inf


@dataclass(frozen=True)
class Scheme:
    name: str
    # (lowest texture of the class, symbols per frequency M, step), lowest class first.
    classes: tuple[tuple[float, int, float], ...]

    @property
    def levels(self) -> int:
        """Bits a frequency carries at most: 2 where a class is 4-ary."""
        return 2 if any(m == 4 for _, m, _ in self.classes) else 1


SCHEMES = (
    Scheme("binary, step 22 (landed)", ((NO_THRESHOLD, 2, 22.0),)),
    Scheme("binary, step 16", ((NO_THRESHOLD, 2, 16.0),)),
    Scheme("4-ary, step 22", ((NO_THRESHOLD, 4, 22.0),)),
    Scheme("classes: binary 12 / 4-ary 28 from texture 2.8", ((NO_THRESHOLD, 2, 12.0), (2.8, 4, 28.0))),
    Scheme("classes: binary 11 / 4-ary 26 from texture 2.8", ((NO_THRESHOLD, 2, 11.0), (2.8, 4, 26.0))),
    Scheme("classes: binary 11 / 4-ary 28 from texture 3.0", ((NO_THRESHOLD, 2, 11.0), (3.0, 4, 28.0))),
    Scheme("4 classes: binary 12, 18 / 4-ary 26, 32", ((NO_THRESHOLD, 2, 12.0), (2.5, 2, 18.0), (3.0, 4, 26.0), (3.5, 4, 32.0))),
)

_EMBEDDED = np.zeros((channel.BLOCK, channel.BLOCK), dtype=bool)
for _u, _v in channel.COEFFS:
    _EMBEDDED[_u, _v] = True
_U, _V = np.array(channel.COEFFS).T


def carried(view: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """[block, frequency]: the DCT coefficients of the robust mode's frequencies (COEFFS order)."""
    return channel.block_dct(view, bh, bw)[:, _U, _V]


def texture(view: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """[block]: log10 of the energy in the frequencies that carry no bits, averaged over 3x3 blocks."""
    energy = (channel.block_dct(view, bh, bw)[:, ~_EMBEDDED] ** 2).sum(axis=1)
    return ndimage.uniform_filter(np.log10(energy + 1).reshape(bh, bw), 3, mode="nearest").ravel()


def classes_of(levels: np.ndarray, scheme: Scheme) -> np.ndarray:
    found = np.zeros(len(levels), dtype=int)
    for index, (lowest, _, _) in enumerate(scheme.classes):
        found[levels >= lowest] = index
    return found


def symbols_and_steps(scheme: Scheme, found: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """([block, 1] symbols per frequency, [block, 1] steps) of each block's class."""
    symbols = np.array([m for _, m, _ in scheme.classes])[found][:, None]
    steps = np.array([s for _, _, s in scheme.classes], dtype=float)[found][:, None]
    return symbols, steps


def gray(k: np.ndarray) -> np.ndarray:
    return k ^ (k >> 1)


def lattice_positions(symbols: np.ndarray, high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Which of its M lattice points each frequency moves to: binary blocks carry `low`, 4-ary
    ones `high` and `low` as a Gray-coded position (for two bits the inverse of Gray is `gray`)."""
    value = np.where(symbols == 4, high * 2 + low, low).astype(int)
    return gray(value)


def embed(rgb: np.ndarray, positions: np.ndarray, dither: np.ndarray, symbols: np.ndarray,
          steps: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """The robust mode's embedding with a step and M per block: each frequency moves to the
    nearest point of its lattice, offset by position * step / M."""
    offset = dither * steps + positions * (steps / symbols)
    return channel.embed_nearest(rgb, lambda values: np.round((values - offset) / steps) * steps + offset, bh, bw)


def soft_bit(coefficients: np.ndarray, dither: np.ndarray, symbols: np.ndarray, steps: np.ndarray,
             level: int) -> np.ndarray:
    """Soft value (-1..1, positive for a 1) of Gray bit `level` (0: the most significant of two);
    0 where the block's class carries fewer bits."""
    phase = np.mod(coefficients - dither * steps, steps) / steps
    soft = np.zeros_like(coefficients)
    for m in np.unique(symbols):
        rows = symbols[:, 0] == m
        bits = int(np.log2(m))
        own_level = level - (2 - bits)
        if own_level < 0:
            continue
        k = np.arange(m)
        bit = (gray(k) >> (bits - 1 - own_level)) & 1
        distance = np.abs((phase[rows][..., None] - k / m + 0.5) % 1 - 0.5)
        nearest_one = np.where(bit == 1, distance, 9).min(axis=-1)
        nearest_zero = np.where(bit == 0, distance, 9).min(axis=-1)
        soft[rows] = np.clip((nearest_zero - nearest_one) * 2 * m, -1, 1)
    return soft


def wrong_shares(soft: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(strength bin of each soft bit, share of the bits in each bin read wrong), the share
    never above a half."""
    strength = np.minimum((np.abs(soft) * STRENGTH_BINS).astype(int), STRENGTH_BINS - 1)
    wrong = (soft > 0) != (truth == 1)
    share = ((np.bincount(strength, weights=wrong, minlength=STRENGTH_BINS) + 0.5)
             / (np.bincount(strength, minlength=STRENGTH_BINS) + 1))
    return strength, np.minimum(share, 0.5)


def information(soft: np.ndarray, truth: np.ndarray, groups: np.ndarray) -> float:
    """Bits of mutual information between `truth` and `soft`, calibrated per group."""
    total = 0.0
    for group in np.unique(groups):
        here = groups == group
        strength, share = wrong_shares(soft[here], truth[here])
        entropy = -(share * np.log2(share) + (1 - share) * np.log2(1 - share))
        total += float((1 - entropy)[strength].sum())
    return total


def carrier_view(rgb: np.ndarray, *, rescaled: bool = False) -> np.ndarray:
    """The luminance whose blocks carry the bits, as the robust decoder reads it: the
    resize-proof view of `rgb`, or the plain luminance of a copy scaled back up from a
    downscale (`rescaled`), which has lost that detail already."""
    luma = channel.luminance(rgb)
    return luma if rescaled else channel.resize_proof(luma)


def platform_views(out: np.ndarray) -> dict[str, np.ndarray]:
    """Luminance views of the robust mode's platform copies, as its decoder reads them (the
    downscale brought back to size)."""
    h, w = out.shape[:2]
    recompressed, downscaled = channel.platform_copies(out)
    back = np.asarray(Image.fromarray(downscaled).resize((w, h), Image.LANCZOS))
    return {"JPEG 75": carrier_view(recompressed), "0.75x resize": carrier_view(back, rescaled=True)}


def measure(rgb: np.ndarray, scheme: Scheme, rng: np.random.Generator) -> dict[str, float]:
    h, w = rgb.shape[:2]
    bh, bw = h // channel.BLOCK, w // channel.BLOCK
    n, frequencies = bh * bw, len(channel.COEFFS)
    found = classes_of(texture(carrier_view(rgb), bh, bw), scheme)
    symbols, steps = symbols_and_steps(scheme, found)
    bits = rng.integers(0, 2, (n, frequencies, 2))
    dither = rng.uniform(0, 1, (n, frequencies))
    out = embed(rgb, lattice_positions(symbols, bits[..., 0], bits[..., 1]), dither, symbols, steps, bh, bw)
    result = {"ssim": bench.ssim(rgb, out), "psnr": bench.psnr(rgb, out)}
    for condition, view in platform_views(out).items():
        coefficients = carried(view, bh, bw)
        read = classes_of(texture(view, bh, bw), scheme)
        for label, assumed in (("embedded", found), ("as read", read)):
            m, s = symbols_and_steps(scheme, assumed)
            groups = np.repeat(assumed[:, None], frequencies, axis=1)
            total = sum(information(soft_bit(coefficients, dither, m, s, level), bits[..., level], groups)
                        for level in range(2))
            result[f"{condition} {label}"] = total / n
        result[f"{condition} misread"] = float((read != found).mean())
    return result


DECODE_RATES = (0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1)
DECODE_SCHEMES = (0, 1, 2, 4)  # indices into SCHEMES


def calibrated(soft: np.ndarray, truth: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Log-likelihood ratios of `soft`, calibrated per group on the true bits (as `information`)."""
    llr = np.zeros_like(soft)
    for group in np.unique(groups):
        here = groups == group
        strength, share = wrong_shares(soft[here], truth[here])
        llr[here] = np.sign(soft[here]) * np.log((1 - share) / share)[strength]
    return llr


def decoded_bits_per_block(rgb: np.ndarray, donor: np.ndarray, scheme: Scheme, rng: np.random.Generator) -> float:
    """Message bits per block at the highest rate of DECODE_RATES the LDPC code decoded exactly
    after a quarter of the photo was replaced and the copy saved as JPEG 75 (0 if none did)."""
    h, w = rgb.shape[:2]
    bh, bw = h // channel.BLOCK, w // channel.BLOCK
    n, frequencies = bh * bw, len(channel.COEFFS)
    found = classes_of(texture(carrier_view(rgb), bh, bw), scheme)
    symbols, steps = symbols_and_steps(scheme, found)
    levels = scheme.levels
    length = n * frequencies * levels
    slot_to_bit = rng.permutation(length)
    dither = rng.uniform(0, 1, (n, frequencies))
    y0, x0, y1, x1 = h // 4, w // 4, h // 4 + h // 2, w // 4 + w // 2
    replaced = np.zeros((bh, bw), dtype=bool)
    replaced[y0 // channel.BLOCK: -(-y1 // channel.BLOCK), x0 // channel.BLOCK: -(-x1 // channel.BLOCK)] = True
    kept = ~replaced.ravel()
    for rate in DECODE_RATES:
        message_bits = int(length * rate) // 8 * 8
        message = rng.integers(0, 2, message_bits).astype(np.uint8)
        bits = ira.encode(message, length - message_bits)[slot_to_bit].reshape(n, frequencies, levels)
        high, low = (bits[..., 0], bits[..., 1]) if levels == 2 else (np.zeros((n, frequencies), dtype=np.uint8), bits[..., 0])
        out = embed(rgb, lattice_positions(symbols, high, low), dither, symbols, steps, bh, bw)
        out[y0:y1, x0:x1] = donor[y0:y1, x0:x1]
        recompressed, _ = channel.platform_copies(out)
        view = carrier_view(recompressed)
        coefficients = carried(view, bh, bw)
        read = classes_of(texture(view, bh, bw), scheme)
        m, s = symbols_and_steps(scheme, read)
        soft = np.stack([soft_bit(coefficients, dither, m, s, level) for level in range(2 - levels, 2)], axis=-1)
        truth = bits if levels == 2 else low[..., None]
        groups = np.broadcast_to(read[:, None, None] * 2 + np.arange(levels), soft.shape)
        llr = np.zeros_like(soft)
        llr[kept] = calibrated(soft[kept], truth[kept], groups[kept])
        combined = np.zeros(length)
        combined[slot_to_bit] = llr.ravel()
        if np.array_equal(ira.decode(combined, message_bits)[:message_bits], message):
            return message_bits / n
    return 0.0


def capacity_cell(mean: dict[str, float], landed: dict[str, float], condition: str) -> str:
    """Capacity with the classes the copy shows, with the embedder's too where they differ,
    and its ratio to the landed scheme's."""
    value, embedded = mean[f"{condition} as read"], mean[f"{condition} embedded"]
    exact = "" if abs(value - embedded) < 0.005 else f" (as embedded {embedded:.2f})"
    return f"{value:.2f}{exact} ({value / landed[f'{condition} as read']:.2f})"


def decode_table(photos: list[np.ndarray], seed: int) -> list[str]:
    lines = ["", f"LDPC check: {len(photos)} photos, a centred quarter replaced by the next photo, then JPEG 75.", "",
             "| scheme | message bits per block decoded (ratio) | rates per photo |", "|---|---:|---|"]
    landed = None
    for index in DECODE_SCHEMES:
        scheme = SCHEMES[index]
        per_photo = []
        for i, rgb in enumerate(photos):
            donor = photos[(i + 1) % len(photos)]
            if donor.shape != rgb.shape:
                donor = np.asarray(Image.fromarray(donor).resize((rgb.shape[1], rgb.shape[0]), Image.LANCZOS))
            per_photo.append(decoded_bits_per_block(rgb, donor, scheme, np.random.default_rng([seed, i])))
        mean = float(np.mean(per_photo))
        landed = mean if landed is None else landed
        rates = ", ".join(f"{b / (len(channel.COEFFS) * scheme.levels):.2f}" for b in per_photo)
        lines.append(f"| {scheme.name} | {mean:.2f} ({mean / landed:.2f}) | {rates} |")
        print(f"{scheme.name}: {mean:.2f} message bits per block decoded", flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--decode-photos", type=int, default=8, help="photos for the LDPC check (0: skip it)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "robust_channel_study.md")
    args = parser.parse_args()
    if not (bench.DATA / "natural").is_dir():
        print(f"skipped: {bench.DATA} is absent (the shared photo set is needed)")
        return 0
    paths = bench.list_photos(args.seed)[0][: args.photos]
    photos = [np.ascontiguousarray(bench.cap_side(bench.load_rgb(p))) for p in paths]
    started = time.perf_counter()
    rows = []
    for scheme in SCHEMES:
        results = [measure(rgb, scheme, np.random.default_rng([args.seed, i])) for i, rgb in enumerate(photos)]
        mean = {key: float(np.mean([r[key] for r in results])) for key in results[0]}
        rows.append((scheme, mean, min(r["ssim"] for r in results), min(r["psnr"] for r in results)))
        print(f"{scheme.name}: SSIM {mean['ssim']:.4f}, JPEG 75 {mean['JPEG 75 as read']:.2f} bits/block", flush=True)
    landed = rows[0][1]
    lines = [
        f"Robust channel study: {len(photos)} photos (seed {args.seed}), {time.perf_counter() - started:.0f} s.",
        "Capacity: bits per 8x8 block a perfect code could carry (mutual information, soft bits calibrated on the true bits);",
        "ratio: to the landed scheme in this run. 'as read': with the texture classes the copy shows.",
        "",
        "| scheme | SSIM mean / min | PSNR mean / min | JPEG 75: capacity (ratio) | classes misread | 0.75x resize: capacity (ratio) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for scheme, mean, ssim_min, psnr_min in rows:
        lines.append(f"| {scheme.name} | {mean['ssim']:.4f} / {ssim_min:.4f} | {mean['psnr']:.2f} / {psnr_min:.2f} | "
                     f"{capacity_cell(mean, landed, 'JPEG 75')} | {mean['JPEG 75 misread'] * 100:.1f} % | "
                     f"{capacity_cell(mean, landed, '0.75x resize')} |")
    if args.decode_photos:
        lines += decode_table(photos[: args.decode_photos], args.seed)
    publish("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
