"""Vault size for `bench/leak_eval.py --vault-size N` (issue 23): distractor photos in the vault.

There are not 10,000 real photos on this machine and nothing may be downloaded. The vault is
filled with every real photo of `../shared/data` that is neither a vault photo, nor a photo the
queries are built from (the collage fillers), nor a copy of one (`leak_eval.EXCLUDED` sets,
`neardup/cameratrap`, `neardup/face_recognition_obama`, tampering masks); then, up to N, with
distinct crops of those photos (random windows of 35–90 % of the area, any position, a random
aspect, mirrored half of the time). Crops share content with their source and with each other:
harder distractors for a shortlist than independent photos would be, easier in one way — they
add fewer *different* descriptors to the vault than N independent photos would.

Distractors get their fingerprint and local features through the functions import uses
(`fingerprint.perceptual_fingerprint`, `local_features.local_features`) and go into the vault's
DB directly (a Photo row, no blobs): importing 10,000 photos (thumbnails, encryption) would
take the whole time budget. A distractor *query* made from a photo whose crops are in the vault
is then a true copy of those vault photos; such matches are counted apart, never as false.

`PoolMatcher` is the matcher before issue 23 (one ratio test over every vault descriptor
stacked), kept here only to measure what the shortlist changed.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from app.core import db, fingerprint
from app.core.leaks import matcher as matcher_module
from app.core.local_features import LocalFeatures, local_features

SOURCE_SIDE = 1280  # distractor sources are decoded once at this long side; crops are cut from it


def distractor_sources(data: Path, exclude: set[Path]) -> list[Path]:
    """Every real photo that may be a vault distractor (see the module's docstring)."""
    skip = ("natural/easyocr/example", "natural/skimage/motorcycle_right", "neardup/cameratrap",
            "neardup/face_recognition_obama",
            # a crop of faces/_multi/two_people.jpg, a collage filler: its crops would be copies
            "faces/joe_biden/biden.jpg")
    found = []
    for path in sorted(data.rglob("*")):
        relative = str(path.relative_to(data))
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"):
            continue
        if path in exclude or relative.startswith(skip) or relative.startswith("licenses"):
            continue
        if relative.startswith("tamper/") and path.stem.endswith(("_gt", "mask", "copy", "paste", "forged")):
            continue  # masks
        found.append(path)
    return found


def _variants(args: tuple[str, int, int]) -> list[tuple[str, bytes, bytes, int, int, int]]:
    """(name, pdq, features, pdq quality, width, height) of `count` variants of one source."""
    path, count, seed = args
    rng = random.Random(seed)
    try:
        base = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    except OSError:
        return []
    base.thumbnail((SOURCE_SIDE, SOURCE_SIDE))
    out = []
    for number in range(count):
        if number == 0:
            image = base
        else:
            area = rng.uniform(0.35, 0.9)
            aspect = rng.uniform(0.6, 1.6)
            w = min(base.width, max(32, round((area * base.width * base.height * aspect) ** 0.5)))
            h = min(base.height, max(32, round(area * base.width * base.height / w)))
            x, y = rng.randint(0, base.width - w), rng.randint(0, base.height - h)
            image = base.crop((x, y, x + w, y + h))
            if rng.random() < 0.5:
                image = ImageOps.mirror(image)
        prints = fingerprint.perceptual_fingerprint(image)
        features = local_features(image)
        out.append((f"{Path(path).stem}-{number}", prints.pdq, features.to_bytes(), prints.pdq_quality,
                    image.width, image.height))
    return out


def fill_vault(sources: list[Path], count: int, seed: int, processes: int = 2) -> dict[int, Path]:
    """Add `count` distractor photos to the open vault's DB; returns photo id -> source photo."""
    if count <= 0 or not sources:
        return {}
    per_source = [count // len(sources) + (i < count % len(sources)) for i in range(len(sources))]
    jobs = [(str(p), n, seed * 100_003 + i) for i, (p, n) in enumerate(zip(sources, per_source, strict=True)) if n]
    now = datetime.now()
    by_photo: dict[int, Path] = {}
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        for (path, _, _), made in zip(jobs, pool.imap(_variants, jobs), strict=True):
            with db.database.atomic():
                for name, pdq, features, quality, width, height in made:
                    # Two sources can hold the same picture: the name keeps their rows apart.
                    digest = hashlib.sha256(path.encode() + name.encode() + features).hexdigest()
                    photo = db.Photo.create(
                        image_uid=digest[:32], sha256=digest,
                        filename=f"distractor-{name}.jpg", mime="image/jpeg", size_bytes=len(features),
                        width=width, height=height, taken_at=now, taken_at_source="file", imported_at=now)
                    db.PhotoFingerprint.create(photo=photo.id, pdq=pdq, pdq_quality=quality)
                    db.PhotoFeatures.create(photo=photo.id, data=features)
                    by_photo[photo.id] = Path(path)
    return by_photo


class PoolMatcher(matcher_module.Matcher):
    """The local-feature stage as it was before issue 23: every vault descriptor stacked, one
    ratio test over the whole pool, the top five photos by the votes that pass it."""

    def __post_init__(self) -> None:
        super().__post_init__()
        photos = sorted(self.feature_index.photo_ids())
        self._pool_features = {pid: self.feature_index.features(pid) for pid in photos}
        with_points = [pid for pid in photos if len(self._pool_features[pid].points)]
        self._descriptors = np.vstack([self._pool_features[p].descriptors for p in with_points])
        self._owner = np.concatenate([np.full(len(self._pool_features[p].points), p) for p in with_points])
        starts = np.cumsum([0] + [len(self._pool_features[p].points) for p in with_points])
        self._row_start = dict(zip(with_points, starts[:-1].tolist(), strict=True))

    def _by_features(self, image, extra_candidates):
        m = matcher_module
        query = local_features(image, m.QUERY_SIDE, m.FEATURES_PER_QUERY)
        if len(query.points) < m.MIN_INLIERS:
            return [], set()
        good_query, good_ref = [], []
        for pair in self._bf.knnMatch(query.descriptors, self._descriptors, k=2):
            if len(pair) == 2 and pair[0].distance < m.RATIO_TEST * pair[1].distance:
                good_query.append(pair[0].queryIdx)
                good_ref.append(pair[0].trainIdx)
        if not good_ref:
            return [], set()
        good_query_arr, good_ref_arr = np.array(good_query), np.array(good_ref)
        owners = self._owner[good_ref_arr]
        votes = {int(p): int(n) for p, n in zip(*np.unique(owners, return_counts=True), strict=True)}
        ranked = sorted(votes, key=lambda pid: -votes[pid])
        candidates = [pid for pid in ranked[:5] if votes[pid] >= m.MIN_INLIERS // 2]
        candidates += [pid for pid in extra_candidates if pid not in candidates and votes.get(pid, 0) >= 4]
        scale = query.width / image.width
        text = None
        found = []
        for photo_id in candidates:
            mask = owners == photo_id
            ref: LocalFeatures = self._pool_features[photo_id]
            ref_points = ref.points[good_ref_arr[mask] - self._row_start[photo_id]]
            query_points = query.points[good_query_arr[mask]]
            verified = m._verify_homography(ref_points, query_points, ref.width, ref.height)
            if verified is None:
                continue
            inliers, corners, inlier_mask = verified
            if text is None:
                text = m.text_regions(m.grey_at(image, m.QUERY_SIDE)[0])
            if m._outside(text, query_points[inlier_mask]) < m.MIN_NON_TEXT_INLIERS:
                continue
            region = [(float(x / scale), float(y / scale)) for x, y in corners]
            found.append(m.MatchResult(photo_id, None, "features", round(min(1.0, inliers / 60), 3),
                                       inliers=inliers, region=region, detail=f"{inliers} features"))
        return found, {pid for pid, n in votes.items() if n >= m.WEAK_VOTES}

