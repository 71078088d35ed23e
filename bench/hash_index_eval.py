"""Perceptual-hash evaluation: PDQ agreement with Meta's reference, and Hamming-index speed.

Prints two tables measured in this run (and optionally writes them as Markdown):

1. PDQ reference agreement: Hamming distance between our PDQ hash and the hashes Meta
   ThreatExchange publishes for its C++ reference, per image (the bar: <= 10 bits when
   quality >= 80), plus a summary against the other published implementations.
2. Hamming-index query time over 100,000 random 256-bit fingerprints (median and p99 over
   200 queries), as a ratio to one plain numpy XOR pass over the same array.

Usage:
    python bench/hash_index_eval.py [--entries 100000] [--queries 200]
                                    [--write FILE]  (paste the table into docs/benchmarks.md)

Reads the reference images from ../shared/data/neardup/pdq when present (the full set),
else from tests/data/pdq (the copied subset).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# PDQ's matrix products are small (64 x n); with several hashing jobs or other processes
# on the cores, multi-threaded OpenBLAS spends its time waiting (we measured 160 ms
# instead of 6 ms per 1600x1004 hash on this shared 2-core machine). Sanctum parallelises
# at the job level, so it should pin BLAS to one thread; measure that configuration.
# (Must be set before numpy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core import perceptual  # noqa: E402
from app.core.pdq import PdqHash, load_rgb_for_pdq, pdq_hash, pdq_hash_dihedral  # noqa: E402
from app.core.perceptual import HammingIndex  # noqa: E402

SHARED_PDQ = REPO.parent / "shared" / "data" / "neardup" / "pdq"
COPIED_PDQ = REPO / "tests" / "data" / "pdq"
TOLERANCE_BITS = 10
MIN_QUALITY = 80
SAME_BYTES_AS = {
    "bridge-mods/aaa-orig.jpg": "dih/bridge-1-original.jpg",
    "(b.jpg not in HEAD; same image as bridge-mods/aaa-orig.jpg)": "dih/bridge-1-original.jpg",
}


# --------------------------------------------------------------------------------------
# PDQ agreement


@dataclass(frozen=True)
class AgreementRow:
    image: str
    size: str
    quality: int
    distance: int
    distance_reduced_512: int


@dataclass(frozen=True)
class ImplementationSummary:
    implementation: str
    images: int
    median: float
    maximum: int
    maximum_reduced_512: int
    median_reduced_512: float


def _reference_rows(root: Path) -> list[tuple[Path, str, str]]:
    rows = []
    with open(root / "pdq_expected_hashes.tsv", newline="") as table:
        for row in csv.reader(table, delimiter="\t"):
            if len(row) < 4 or row[0].startswith("#") or row[0] == "local_file":
                continue
            image = (root / SAME_BYTES_AS.get(row[0], row[0])).resolve()
            if image.is_file():
                rows.append((image, row[1], row[3]))
    return rows


def _implementation_label(implementation: str) -> str:
    if implementation.startswith("C++ reference (CImg"):
        return "C++ reference (pdq/cpp/bin/README.md)"
    if implementation.startswith("C++ reference pdq-photo-hasher"):
        return "C++ reference (quoted by pdqhash-python tests)"
    return implementation.split(";")[0]


def pdq_agreement(root: Path) -> tuple[list[AgreementRow], list[ImplementationSummary]]:
    hashes: dict[Path, tuple[PdqHash, PdqHash, str]] = {}
    per_implementation: dict[str, list[tuple[int, int]]] = {}
    cpp_rows: list[AgreementRow] = []
    for image, hash_hex, implementation in _reference_rows(root):
        if image not in hashes:
            pixels = load_rgb_for_pdq(image)
            size = f"{pixels.shape[1]}x{pixels.shape[0]}"
            hashes[image] = (pdq_hash(pixels), pdq_hash(pixels, reduce_to_512=True), size)
        ours, ours_reduced, size = hashes[image]
        expected = PdqHash.from_hex(hash_hex)
        distances = (ours.distance(expected), ours_reduced.distance(expected))
        name = _implementation_label(implementation)
        per_implementation.setdefault(name, []).append(distances)
        if implementation.startswith("C++ reference"):
            label = image.relative_to(root.resolve().parent).as_posix()
            cpp_rows.append(AgreementRow(label, size, ours.quality, *distances))
    summaries = [
        ImplementationSummary(
            implementation=name,
            images=len(values),
            median=statistics.median(d for d, _ in values),
            maximum=max(d for d, _ in values),
            median_reduced_512=statistics.median(r for _, r in values),
            maximum_reduced_512=max(r for _, r in values),
        )
        for name, values in per_implementation.items()
    ]
    return cpp_rows, summaries


# --------------------------------------------------------------------------------------
# Index timing


@dataclass(frozen=True)
class Timing:
    operation: str
    median_ms: float
    p99_ms: float
    ratio_to_xor: float


def _time_calls(call: Callable[[int], object], repeats: int) -> list[float]:
    call(0)  # warm caches and lazily built buffers
    samples = []
    for i in range(repeats):
        start = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - start)
    return samples


def index_timings(entries: int, n_queries: int, seed: int = 0) -> tuple[list[Timing], dict[str, float]]:
    rng = np.random.default_rng(seed)
    fingerprints = rng.integers(0, 256, size=(entries, 32), dtype=np.uint8)
    # Each query is eight "variants" (random 256-bit strings: dihedral PDQ hashes of one
    # image are as unlike each other as unrelated hashes are); plant a near copy of the
    # first variant in the index so radius queries return something.
    queries = rng.integers(0, 256, size=(n_queries, 8, 32), dtype=np.uint8)
    planted_rows = rng.choice(entries, size=n_queries, replace=False)
    for q, row in enumerate(planted_rows):
        noise = np.zeros(256, dtype=np.uint8)
        noise[rng.choice(256, size=12, replace=False)] = 1
        fingerprints[row] = queries[q, 0] ^ np.packbits(noise)

    index = HammingIndex()
    build_start = time.perf_counter()
    index.add_many(list(range(entries)), [row.tobytes() for row in fingerprints])
    build_seconds = time.perf_counter() - build_start
    variant_bytes = [[variant.tobytes() for variant in query] for query in queries]

    # Baseline: one plain XOR of the whole (entries x 4) uint64 array with one query.
    as_words = fingerprints.view(np.uint64)
    query_words = queries[:, 0].copy().view(np.uint64)
    xor_samples = _time_calls(lambda i: np.bitwise_xor(as_words, query_words[i % n_queries]), n_queries)
    baseline = statistics.median(xor_samples)

    operations: list[tuple[str, Callable[[int], object]]] = [
        ("one plain numpy XOR pass (baseline)", lambda i: np.bitwise_xor(as_words, query_words[i])),
        ("within d<=31, 1 hash", lambda i: index.within(variant_bytes[i][0], 31)),
        ("nearest k=10, 1 hash", lambda i: index.nearest(variant_bytes[i][0], 10)),
        ("within d<=31, 8 variants", lambda i: index.within(variant_bytes[i], 31)),
        ("nearest k=10, 8 variants", lambda i: index.nearest(variant_bytes[i], 10)),
    ]
    timings = []
    for name, call in operations:
        samples = xor_samples if name.startswith("one plain") else _time_calls(call, n_queries)
        timings.append(_timing(name, samples, baseline))

    # The numpy < 2 fallback (16-bit lookup table instead of np.bitwise_count).
    native = perceptual._popcount
    perceptual._popcount = perceptual._popcount_by_table
    try:
        samples = _time_calls(lambda i: index.within(variant_bytes[i], 31), n_queries)
        timings.append(_timing("within d<=31, 8 variants, lookup-table popcount", samples, baseline))
    finally:
        perceptual._popcount = native

    found = sum(
        any(m.id == planted_rows[i] for m in index.within(variant_bytes[i], 31)) for i in range(n_queries)
    )
    return timings, {"build_seconds": build_seconds, "planted_found": found, "queries": n_queries}


def _timing(name: str, samples: list[float], baseline: float) -> Timing:
    ms = np.array(samples) * 1e3
    return Timing(
        name, float(np.median(ms)), float(np.percentile(ms, 99)), float(np.median(ms) / (baseline * 1e3))
    )


# --------------------------------------------------------------------------------------
# PDQ speed (informative)


def pdq_speed(root: Path) -> list[tuple[str, str, float, float]]:
    candidates = [root / "dih" / "bridge-1-original.jpg", root / "exif-rotn" / "exif-rotn-6.jpg"]
    results = []
    for path in candidates:
        if not path.is_file():
            continue
        with Image.open(path) as image:
            size = f"{image.width}x{image.height}"
        decode_and_hash = _time_calls(lambda _, p=path: pdq_hash(load_rgb_for_pdq(p)), 5)
        pixels = load_rgb_for_pdq(path)
        dihedral = _time_calls(lambda _, px=pixels: pdq_hash_dihedral(px), 5)
        results.append(
            (path.name, size, statistics.median(decode_and_hash) * 1e3, statistics.median(dihedral) * 1e3)
        )
    return results


# --------------------------------------------------------------------------------------
# Output


def markdown(
    root: Path,
    cpp_rows: list[AgreementRow],
    summaries: list[ImplementationSummary],
    timings: list[Timing],
    index_info: dict[str, float],
    entries: int,
    speed: list[tuple[str, str, float, float]],
) -> str:
    passed = [r for r in cpp_rows if r.quality >= MIN_QUALITY]
    worst = max((r.distance for r in passed), default=0)
    lines = [
        "# Benchmarks: perceptual hashing (PDQ) and the Hamming index",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/hash_index_eval.py` on "
        f"{platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}, "
        f"Pillow {Image.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; "
        "the machine's 2 cores were shared with other engineers' jobs, so p99 values are noisy.",
        "",
        "## PDQ agreement with Meta's C++ reference",
        "",
        f"Images and expected hashes: `{root.relative_to(REPO.parent) if root.is_relative_to(REPO.parent) else root}`"
        " (ThreatExchange `pdq/data`; the `perception/` rows are C++ reference hashes quoted by "
        "pdqhash-python). Bar: distance <= 10 bits when quality >= 80.",
        "",
        "| image | size | quality | distance (default) | distance (`reduce_to_512`) | <= 10 |",
        "|---|---|---:|---:|---:|:-:|",
    ]
    for r in cpp_rows:
        ok = (
            "yes"
            if r.distance <= TOLERANCE_BITS
            else ("n/a (quality < 80)" if r.quality < MIN_QUALITY else "NO")
        )
        lines.append(
            f"| {r.image} | {r.size} | {r.quality} | {r.distance} | {r.distance_reduced_512} | {ok} |"
        )
    lines += [
        "",
        f"Result: {sum(r.distance <= TOLERANCE_BITS for r in passed)} of {len(passed)} images with quality >= 80 "
        f"are within 10 bits of the C++ reference (worst: {worst} bits).",
        "",
        "The default hashes the full-resolution image, as the algorithm is specified and as the C++ reference "
        "did when these hashes were published. `reduce_to_512=True` first reduces to 512x512 by "
        "nearest-neighbour sampling, as the C++ code has done since 2024 (the WASM column below is that "
        "build: it matches bit for bit) but that aliases fine detail, and on these photos it lands "
        "further from the published C++ hashes.",
        "",
        "Against every implementation quoted in the expected-hash table:",
        "",
        "| implementation | rows | median | max | median (`reduce_to_512`) | max (`reduce_to_512`) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.implementation} | {s.images} | {s.median:g} | {s.maximum} | "
            f"{s.median_reduced_512:g} | {s.maximum_reduced_512} |"
        )
    lines += [
        "",
        "Rows include low-quality images (`misc/small.jpg` quality 0, `labelme-subset/q0003.jpg` quality 3) "
        "for which no agreement is expected; the Python reference pre-shrinks with Pillow's `thumbnail`, "
        "which none of our modes reproduce.",
        "",
        "## Hamming index query time",
        "",
        f"{entries:,} random 256-bit fingerprints, {int(index_info['queries'])} queries, each query "
        "eight 256-bit variants (as for the eight PDQ dihedral hashes) unless it says 1 hash. "
        "Ratio = median query time / median time of one plain `np.bitwise_xor` over the same "
        f"({entries:,} x 4) uint64 array. Bar: <= 20 ms per query.",
        "",
        "The baseline allocates a fresh output array on every call, as a plain `a ^ q` does; the index "
        "works through the entries in blocks of 8,192 with reused buffers that stay in cache, which is "
        "why a one-hash query can be as fast as the bare XOR. The lookup-table row is the fallback for "
        "numpy < 2 (no `np.bitwise_count`); it misses the 20 ms bar, so the project should require "
        "numpy >= 2.",
        "",
        "| operation | median ms | p99 ms | ratio to one XOR pass |",
        "|---|---:|---:|---:|",
    ]
    for t in timings:
        lines.append(f"| {t.operation} | {t.median_ms:.2f} | {t.p99_ms:.2f} | {t.ratio_to_xor:.1f} |")
    lines += [
        "",
        f"Bulk load of {entries:,} fingerprints: {index_info['build_seconds'] * 1e3:.0f} ms. "
        f"Planted near copies (12 bits flipped) found by `within(d<=31)`: "
        f"{int(index_info['planted_found'])} of {int(index_info['queries'])}.",
        "",
    ]
    if speed:
        lines += [
            "## PDQ hashing time (informative)",
            "",
            "| image | size | decode + hash, ms | 8 dihedral hashes from pixels, ms |",
            "|---|---|---:|---:|",
        ]
        lines += [f"| {name} | {size} | {a:.0f} | {b:.0f} |" for name, size, a, b in speed]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--write", type=Path, help="also write the tables as Markdown to this file")
    args = parser.parse_args()

    root = SHARED_PDQ if (SHARED_PDQ / "pdq_expected_hashes.tsv").is_file() else COPIED_PDQ
    cpp_rows, summaries = pdq_agreement(root)
    timings, index_info = index_timings(args.entries, args.queries)
    speed = pdq_speed(root)
    text = markdown(root, cpp_rows, summaries, timings, index_info, args.entries, speed)
    print(text)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)


if __name__ == "__main__":
    main()
