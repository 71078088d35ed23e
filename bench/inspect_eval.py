"""End to end: does the app's Inspect name the share of a copy that went through each edit?

`bench/watermark_eval.py` measures the watermark readers on their own and hands the read
against the original the right photo. This benchmark runs what a user runs: a real vault
(SQLCipher, encrypted blobs) with the same photos of `shared/data/natural`, each shared
`--shares` times to different recipients with `Vault.share` (PNG, so the copy starts
lossless, as in the watermark benchmark), every copy put through the same edits
(`watermark_eval.TRANSFORMS`), re-encoded as PNG without metadata (a platform strips it),
and given to `Vault.inspect`: the blind read with the vault's share list, then, when that
fails, the leak matcher finds the photo (PDQ, local features, the mirrored picture too) and
reads the mark against the photo's pixels.

Counted per edit: the copy's share named (right), another share named (wrong), how many
needed the read against the original, and the time per Inspect. False namings: each photo,
never shared as such (its original pixels), through the three chains and two plain edits:
Inspect must name no share.

Skips (exit 0) when `shared/data/natural` is absent.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core import crypto, fingerprint  # noqa: E402
from app.core.sharing import ShareOptions  # noqa: E402
from app.core.vault import Vault  # noqa: E402
from bench.report import publish  # noqa: E402
from bench.watermark_eval import DATA, TRANSFORMS, jpeg, list_photos, resize  # noqa: E402


def png_bytes(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG", compress_level=1)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=60, help="photos spread evenly over the folders")
    parser.add_argument("--shares", type=int, default=3, help="shares (recipients) per photo")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--only", default="", help="quick loop: only edits whose name contains this "
                        "(the random draws stay those of a full run)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "inspect_eval.md")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent (the shared photo set is needed)")
        return 0
    work = Path(tempfile.mkdtemp(prefix="sanctum-inspect-eval-"))
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> int:
    rng = np.random.default_rng(args.seed)
    # Share IDs from the run's seed rather than the system's randomness, so that a run (and a
    # failure in it) can be repeated exactly.
    id_rng = np.random.default_rng([args.seed, 1])
    fingerprint.new_share_id = lambda: int(id_rng.integers(1, 1 << fingerprint.SHARE_ID_BITS, dtype=np.uint64))
    vault, _ = Vault.create(work / "vault", "benchmark passphrase", enable_totp=False,
                            kdf=crypto.KdfParams.new(1, 8192, 1))
    started = time.time()
    right: dict[str, int] = defaultdict(int)
    wrong: dict[str, int] = defaultdict(int)
    trials: dict[str, int] = defaultdict(int)
    against_original: dict[str, int] = defaultdict(int)
    seconds: dict[str, list[float]] = defaultdict(list)
    false_trials = false_named = 0
    used = 0
    chains = [t for t in TRANSFORMS if t.name.startswith("chain")]
    for path in list_photos(args.photos):
        report = vault.import_paths([path], workers=1)
        if not report.imported:
            print(f"  skip {path.name}: not imported ({report.errors or report.duplicates})")
            continue
        photo_id = report.imported[0]
        try:
            outcomes = [vault.share(photo_id, work / "shares" / f"{photo_id}-{n}.png",
                                    ShareOptions(recipient=f"recipient {n}", output_format="PNG"))
                        for n in range(args.shares)]
        except Exception as error:  # e.g. too small to carry a mark: the share is refused
            print(f"  skip {path.name}: not shared ({error})")
            continue
        used += 1
        # Every share of the photo is in the vault; the copy that "leaks" is one of them.
        leaked = outcomes[int(rng.integers(0, len(outcomes)))]
        leaked_id = leaked.share.share_id
        shared = np.asarray(Image.open(leaked.out).convert("RGB"))
        megapixels = shared.shape[0] * shared.shape[1] / 1e6
        for transform in TRANSFORMS:
            if megapixels < transform.min_megapixels:
                continue
            seed = int(rng.integers(0, 2**31))
            if args.only not in transform.name:
                continue
            attacked = transform.apply(shared, np.random.default_rng(seed))
            data = png_bytes(np.ascontiguousarray(attacked))
            start = time.perf_counter()
            inspect_report, _ = vault.inspect(data)
            seconds[transform.name].append(time.perf_counter() - start)
            named = inspect_report.watermark_share_id
            trials[transform.name] += 1
            right[transform.name] += named == leaked_id
            wrong[transform.name] += named is not None and named != leaked_id
            against_original[transform.name] += bool(inspect_report.watermark_against_original)
            if named != leaked_id:
                found = {m.photo_id for m in vault.build_matcher().match_bytes(data, thorough=True)}
                print(f"  not named: {path.parent.name}/{path.name}, {transform.name} "
                      f"({'photo recognised' if photo_id in found else 'photo not recognised'})")
        # The photo itself, never passed on as a share: nothing may be named. (The seeds are
        # drawn in a quick loop too, so that it sees the same copies as a full run.)
        seeds = [int(rng.integers(0, 2**31)) for _ in chains]
        if not args.only:
            original = np.asarray(Image.open(path).convert("RGB"))
            for variant in [jpeg(original, 70), resize(original, 0.5)] + \
                    [t.apply(original, np.random.default_rng(seed)) for t, seed in zip(chains, seeds, strict=True)]:
                inspect_report, _ = vault.inspect(png_bytes(np.ascontiguousarray(variant)))
                false_trials += 1
                false_named += inspect_report.watermark_share_id is not None
        print(f"  {used:3d} {path.parent.name}/{path.name}: {time.time() - started:.0f} s", flush=True)
    if used == 0:
        print("skipped: no usable photos")
        return 0

    lines = [
        f"Measured by `bench/inspect_eval.py` on {used} photos of `shared/data/natural` in a real vault, "
        f"{args.shares} shares (PNG) per photo, one of them put through each edit, re-encoded as PNG "
        "without metadata and given to `Vault.inspect`. *Named* means the watermark named exactly "
        "the leaked share; *wrong* another share; *against original* counts the copies that needed "
        "the leak matcher and the read against the photo's pixels.",
        "",
        "| edit | n | named | wrong | against original | Inspect s (median) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for transform in TRANSFORMS:
        n = trials[transform.name]
        if n == 0:
            continue
        lines.append(f"| {transform.name} | {n} | {100 * right[transform.name] / n:.1f} % | "
                     f"{wrong[transform.name]} | {against_original[transform.name]} | "
                     f"{statistics.median(seconds[transform.name]):.2f} |")
    total = sum(trials.values())
    lines += [
        "",
        f"All edits: {sum(right.values())} of {total} named "
        f"({100 * sum(right.values()) / total:.2f} %), {sum(wrong.values())} wrong.",
        f"False namings on the photos themselves (never shared as such; JPEG 70, half size and the "
        f"three chains): {false_named} of {false_trials}.",
        f"Runtime: {(time.time() - started) / 60:.1f} min.",
    ]
    publish("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
