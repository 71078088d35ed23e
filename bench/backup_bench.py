"""Backup throughput vs a plain copy of the vault folder, and what an incremental backup touches,
measured side by side in one run.

Builds a vault of N photos (small but real: crops of real photos, re-encoded as distinct JPEGs of
about 1 MP), then, on the same vault folder, alternately:
  * copy     — `shutil.copytree` of the vault folder (what a person would do by hand; no fsync);
  * copy+sync — the same, then one syncfs(2) of the file system (what the backup does to make its
               files durable before its manifest: what a copy that survives a power cut costs);
  * backup   — `Vault.backup` into an empty folder (database snapshot, every blob hashed, copied
               and fsync'ed, the signed manifest);
each twice, keeping the faster run. Throughput = bytes of the vault folder / seconds; the bar is
backup ≥ 0.7 × copy. Then 10 photos are imported and the backup runs again: it must copy their
30 blobs and the new database snapshot, and nothing else.

    python bench/backup_bench.py [--photos 1000] [--source ../shared/data/natural/kodak]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core import crypto  # noqa: E402
from app.core.backup.copying import make_durable  # noqa: E402
from app.core.vault import Vault  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[1] / "shared" / "data" / "natural" / "kodak"
PASSPHRASE = "benchmark passphrase, long enough"


def make_photos(source: Path, target: Path, start: int, count: int) -> list[Path]:
    photos = sorted(p for p in source.glob("*") if p.suffix.lower() in (".jpg", ".png"))
    if not photos:
        photos = sorted((HERE.parent / "tests" / "data" / "photos").glob("*"))
    target.mkdir(parents=True, exist_ok=True)
    rng = random.Random(start)
    paths = []
    for i in range(start, start + count):
        image = Image.open(photos[i % len(photos)]).convert("RGB")
        # A distinct crop of each photo: every file is a different (real) picture to the vault.
        w, h = image.size
        box = ((i // len(photos)) * 2 % (w // 8), rng.randrange(h // 8))  # x: distinct in every round
        image = image.crop((*box, box[0] + w * 3 // 4, box[1] + h * 3 // 4)).resize((1152, 864))
        path = target / f"photo-{i:04d}.jpg"
        image.save(path, "JPEG", quality=92)
        paths.append(path)
    return paths


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def plain_copy(vault: Path, target: Path, sync: bool) -> float:
    start = time.perf_counter()
    shutil.copytree(vault, target)
    if sync:
        make_durable(target, [], set())
    return time.perf_counter() - start


def backup_once(vault: Vault, target: Path) -> float:
    start = time.perf_counter()
    vault.backup(target)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--add", type=int, default=10)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sanctum-backup-bench-"))
    try:
        started = time.perf_counter()
        photos = make_photos(args.source, tmp / "photos", 0, args.photos)
        print(f"made {len(photos)} JPEGs ({folder_bytes(tmp / 'photos') / 1e6:.0f} MB) "
              f"in {time.perf_counter() - started:.0f} s")
        kdf = crypto.KdfParams.new(time_cost=1, memory_kib=8192, parallelism=1)
        vault, _ = Vault.create(tmp / "vault", PASSPHRASE, enable_totp=False, kdf=kdf)
        started = time.perf_counter()
        report = vault.import_paths(photos)
        assert not report.errors, report.errors
        print(f"imported {vault.count()} photos in {time.perf_counter() - started:.0f} s")
        size = folder_bytes(tmp / "vault")
        print(f"vault folder: {size / 1e6:.1f} MB, {sum(1 for _ in (tmp / 'vault').rglob('*'))} entries")

        times: dict[str, list[float]] = {"copy": [], "copy+sync": [], "backup": []}
        for round_ in range(2):
            for kind in times:
                target = tmp / f"{kind}-{round_}"
                if kind == "backup":
                    times[kind].append(backup_once(vault, target))
                else:
                    times[kind].append(plain_copy(tmp / "vault", target, sync=kind == "copy+sync"))
                shutil.rmtree(target)
        best = {kind: min(values) for kind, values in times.items()}
        print("\nfull backup of the vault folder (best of 2, same run):")
        for kind, seconds in best.items():
            print(f"  {kind:10s} {seconds:6.2f} s  {size / seconds / 1e6:7.1f} MB/s")
        print(f"  ratio backup / copy      = {best['copy'] / best['backup']:.2f}×  (bar ≥ 0.7×)")
        print(f"  ratio backup / copy+sync = {best['copy+sync'] / best['backup']:.2f}×")

        dest = tmp / "backup"
        first = vault.backup(dest)
        added = make_photos(args.source, tmp / "more", args.photos, args.add)
        vault.import_paths(added)
        started = time.perf_counter()
        second = vault.backup(dest)
        seconds = time.perf_counter() - started
        print(f"\nincremental backup after adding {args.add} photos to {first.photos}:")
        print(f"  {seconds:.2f} s; blobs copied {second.blobs_copied} (expected {3 * args.add}), kept "
              f"{second.blobs_kept} (expected {3 * first.photos}), removed {second.blobs_removed}; other files "
              f"written {second.files_written} (the new database snapshot); bytes written "
              f"{second.bytes_written / 1e6:.2f} MB of {folder_bytes(tmp / 'vault') / 1e6:.1f} MB")
        started = time.perf_counter()
        check = vault.verify_backup(dest)
        print(f"  verify with the vault's keys: ok={check.ok}, {check.blobs_authenticated} blobs authenticated "
              f"in {time.perf_counter() - started:.2f} s")
        vault.lock()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
