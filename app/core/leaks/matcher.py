"""Recognising the user's photos in found images, from cheap evidence to strong.

1. metadata: a Sanctum share ID in EXIF/XMP/PNG text whose HMAC checks out under the vault key.
   Metadata alone never names a share: copied onto other pixels it would frame a recipient.
   It names one when its signed pixel digest is these exact pixels, or when the pixels agree
   otherwise (the content cascade below finds the share's photo, or the picture is within
   `fingerprint.SAME_PICTURE_PDQ` of the shared copy) and the watermark names no other share;
2. perceptual hashes: PDQ of the found image in all 8 dihedral variants against every vault
   photo and shared copy — a near-certain match when very close;
3. local features: ORB keypoints matched against every vault photo's stored descriptors, then
   a RANSAC homography. This confirms weaker hash candidates and finds what whole-image hashes
   cannot: crops, rotations, screenshots, and a vault photo *inside* a larger image (a collage
   or a screenshot of a post). The homography gives the matched region;
4. watermark: when a shared photo is among the (even weak) candidates, the robust watermark's
   share ID names the share, and so the recipient, even after platforms stripped metadata.
   A copy too damaged for that is read again against the pixels the shares were made from
   (`watermark.informed`): registered onto them, the photo subtracted, the mark left.

Qt-free and DB-free: the vault builds `VaultReference`s and persists the results.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from .. import fingerprint, imaging, metadata
from ..local_features import LocalFeatures, grey_at, local_features
from ..perceptual import HammingIndex
from .feature_index import FeatureIndex

log = logging.getLogger(__name__)

# PDQ: ThreatExchange treats <= 31 as a match; we accept outright only when much closer and let
# local features confirm the rest, which keeps false matches on unrelated photos near zero.
PDQ_ACCEPT = 24
PDQ_CANDIDATE = 70
PDQ_MIN_QUALITY = 50

FEATURES_PER_QUERY = 2000
QUERY_SIDE = 1400  # found images are searched at up to this long side
MIN_INLIERS = 14
MIN_INLIER_RATIO = 0.3
RATIO_TEST = 0.8
# Text must never be enough: lines of text (chat bubbles, captions, UI labels, signs, pages) are
# full of ORB corners that look alike in any two texts, and two screenshots of one app share
# their layout. A match by features needs this many inliers outside text-like regions of the
# found image; near-identical copies of text-only pictures are still found by PDQ.
MIN_NON_TEXT_INLIERS = 8
WEAK_VOTES = 5  # feature votes that make a photo worth a watermark read
FULL_VERIFY = 2  # shortlisted photos verified with all their ratio-tested matches (see _by_features)
# Inspect (one image the user asked about) also reads the mark against this many shared photos
# nearest by PDQ, however far: a rotated scan of a text page got 1 feature vote and no PDQ match,
# yet its own photo was the nearest or second nearest by PDQ in a 60-photo vault.
NEAREST_SHARED_FOR_INSPECT = 3


@dataclass(frozen=True)
class VaultReference:
    photo_id: int
    pdq: bytes
    pdq_quality: int
    features: LocalFeatures | None


@dataclass(frozen=True)
class ShareReference:
    share_id: str
    photo_id: int | None
    pdq: bytes


@dataclass(frozen=True)
class ShareSource:
    """Pixels some shares of a photo were made from (before their marks), and those shares."""

    pixels: np.ndarray
    share_ids: tuple[str, ...]


@dataclass(frozen=True)
class MatchResult:
    photo_id: int | None
    share_id: str | None
    method: str  # a MatchMethod (see app.core.leaks.enums)
    score: float  # 0..1: how sure
    pdq_distance: int | None = None
    inliers: int | None = None
    # Corners of the vault photo in the found image, in the found image's full-size pixels
    # (`found_size`), when local features located it.
    region: list[tuple[float, float]] | None = None
    detail: str = ""
    found_size: tuple[int, int] | None = None
    # The share ID was read only against the vault's original photo (watermark.informed).
    read_against_original: bool = False


@dataclass(frozen=True)
class Checked:
    results: list[MatchResult]
    picture: Image.Image  # upright, reduced to about QUERY_SIDE: what was matched


@dataclass
class Matcher:
    references: list[VaultReference]
    shares: list[ShareReference] = field(default_factory=list)
    keys: object | None = None  # sharing.ShareKeys; None: no metadata MAC or watermark checks
    # photo id -> what its shares were made from (the vault decrypts it); None: blind reads only
    share_sources: Callable[[int], list[ShareSource]] | None = None
    # Every vault photo's local features, searchable (feature_index); None: built from
    # `references`' features.
    feature_index: FeatureIndex | None = None

    def __post_init__(self) -> None:
        self._by_photo = {ref.photo_id: ref for ref in self.references}
        self._share_by_id = {s.share_id: s for s in self.shares}
        self._known_share_ids = [fingerprint.parse_share_id(share_id) for share_id in self._share_by_id]
        self._shared_photos = {s.photo_id for s in self.shares if s.photo_id is not None}
        # One Hamming index over vault photos (ids >= 0) and shared copies (ids < 0).
        self._pdq_index = HammingIndex(256)
        ids, prints = [], []
        for ref in self.references:
            if ref.pdq_quality >= PDQ_MIN_QUALITY:
                ids.append(ref.photo_id)
                prints.append(ref.pdq)
        for position, share in enumerate(self.shares):
            if share.photo_id is not None:
                ids.append(-(position + 1))
                prints.append(share.pdq)
        if ids:
            self._pdq_index.add_many(ids, prints)
        if self.feature_index is None:
            # An exact index of these references (tests, one-off matchers); the vault passes
            # its session's index instead of stacking every descriptor for each matcher.
            self.feature_index = FeatureIndex()
            for ref in self.references:
                if ref.features is not None:
                    self.feature_index.add(ref.photo_id, ref.features)
        import cv2  # lazily, see local_features

        self._bf = cv2.BFMatcher(cv2.NORM_HAMMING)

    def _photo_for_index_id(self, entry_id: int) -> int | None:
        return entry_id if entry_id >= 0 else self.shares[-entry_id - 1].photo_id

    # --- the cascade ----------------------------------------------------------------------

    def match_bytes(self, data: bytes, thorough: bool = False) -> list[MatchResult]:
        """All vault photos found in an image (raises UnsupportedImage for non-images).

        `thorough` (one image the user asked about, not a page of them): when nothing is found,
        look for a mirrored copy with local features too, which ORB cannot see (PDQ covers
        mirrored copies only while little else is in the picture)."""
        return self.check(data, thorough).results

    def check(self, data: bytes, thorough: bool = False) -> Checked:
        """`match_bytes`, with the upright picture it matched (at most about QUERY_SIDE): the
        scan makes its evidence from it instead of decoding the image again."""
        decoded = imaging.decode(data, min_long_side=QUERY_SIDE)
        full_size = decoded.display_size
        image = _reduced(decoded.oriented, QUERY_SIDE)
        reduced = decoded.reduced or image.size != decoded.oriented.size
        found_ids = metadata.read_ids(decoded.source)  # from the decode: no second one
        del decoded  # the full-size pixels: all below works on the reduced copy
        rgb = np.asarray(image.convert("RGB"))
        claimed = self._claimed_share(found_ids)
        if claimed is not None and self._exact_copy(found_ids.ids, reduced, rgb, data):
            results = [MatchResult(claimed.photo_id, claimed.share_id, "metadata", 1.0,
                                   detail="exact copy of the shared file")]
        else:
            results, weak = self._by_content(image, rgb)
            if thorough and not results:
                mirrored = ImageOps.mirror(image)
                results, weak_mirrored = self._by_content(mirrored, np.ascontiguousarray(rgb[:, ::-1]))
                weak |= weak_mirrored
                results = [dataclasses.replace(m, region=[(image.width - x, y) for x, y in m.region])
                           if m.region else m for m in results]
            # The watermark names the share (and so the recipient) of a copy. Reading it costs
            # more than the rest of the cascade, so it is read only where a shared photo is a
            # plausible match: every unrelated image on a page would otherwise pay for it.
            candidates = self._shared_photos & ({m.photo_id for m in results} | weak)
            if thorough and not any(m.photo_id in self._shared_photos for m in results):
                candidates |= self._nearest_shared_photos(rgb, NEAREST_SHARED_FOR_INSPECT)
            if candidates:
                results = self._with_watermark(results, rgb, candidates)
            if claimed is not None:
                results = self._with_claimed_share(results, claimed, rgb)
        # Matching ran on a reduced decode; report regions in the found image's own pixels.
        factor = full_size[0] / image.width
        return Checked([
            dataclasses.replace(
                m, found_size=full_size,
                region=[(x * factor, y * factor) for x, y in m.region] if m.region else None)
            for m in results
        ], image)

    def _claimed_share(self, found: metadata.FoundIds | None) -> ShareReference | None:
        """The share the metadata names, when it is one of ours and its MAC checks out; forged
        or foreign IDs are no evidence. Not yet a match: see `_with_claimed_share`."""
        if found is None or self.keys is None:
            return None
        share = self._share_by_id.get(found.ids.share_id)
        if share is None or not fingerprint.check_mac(self.keys.mac, found.ids.claim(), found.ids.mac):
            return None
        return share

    @staticmethod
    def _exact_copy(ids: metadata.EmbeddedIds, reduced: bool, rgb: np.ndarray, data: bytes) -> bool:
        """Whether the pixels are exactly those the claim signed (decoded at full size when the
        cascade's decode was reduced: the only second decode, and only for a share ID whose MAC
        checked out, since the signature covers the full-size pixels)."""
        if reduced:
            rgb = np.asarray(imaging.decode(data).oriented.convert("RGB"))
        return ids.pixel_sha256 == fingerprint.pixel_sha256(rgb)

    def _with_claimed_share(self, results: list[MatchResult], claimed: ShareReference, rgb: np.ndarray
                            ) -> list[MatchResult]:
        """Name the metadata's share where the pixels agree with it and the watermark named
        none: the cascade found its photo, or the picture is the shared copy by PDQ."""
        for index, match in enumerate(results):
            if match.photo_id == claimed.photo_id and claimed.photo_id is not None:
                if match.share_id is not None:
                    return results  # the watermark named a share: it outranks metadata
                results[index] = dataclasses.replace(
                    match, share_id=claimed.share_id, method="metadata",
                    detail=f"share ID from the file's metadata, and the picture agrees: {match.detail}")
                return results
        if fingerprint.same_picture(rgb, claimed.pdq):
            results.insert(0, MatchResult(claimed.photo_id, claimed.share_id, "metadata", 0.9,
                                          detail="share ID from the file's metadata, and the picture is "
                                                 "the shared copy, re-encoded or edited (PDQ)"))
        return results

    def _with_watermark(self, results: list[MatchResult], rgb: np.ndarray, candidates: set[int]
                        ) -> list[MatchResult]:
        from ..watermark import read_watermark

        if self.keys is None:
            return results
        result = read_watermark(rgb, self.keys.watermark, self._known_share_ids)
        share = self._share_by_id.get(fingerprint.format_share_id(result.payload)) if result else None
        detail = "share ID read from the invisible watermark"
        against_original = False
        if share is None:
            # Strongest evidence first: photos the cascade matched, then weaker candidates.
            ordered = [m.photo_id for m in results if m.photo_id in candidates]
            ordered += sorted(candidates - set(ordered))
            result, share = self._read_against_sources(rgb, ordered)
            detail = "share ID read from the invisible watermark, against the vault's original"
            against_original = True
        if share is None:
            return results
        for index, match in enumerate(results):
            if match.photo_id == share.photo_id:
                results[index] = dataclasses.replace(
                    match, share_id=share.share_id, method="watermark", score=max(match.score, result.confidence),
                    detail=f"{detail}; {match.detail}", read_against_original=against_original)
                return results
        return [MatchResult(share.photo_id, share.share_id, "watermark", round(float(result.confidence), 3),
                            detail=detail, read_against_original=against_original), *results]

    def _nearest_shared_photos(self, rgb: np.ndarray, count: int) -> set[int]:
        """The `count` shared photos whose PDQ (best of the eight flips and rotations) is
        nearest to the image's, at any distance."""
        if not len(self._pdq_index):
            return set()
        nearest: dict[int, int] = {}
        for hit in self._pdq_index.within([h.bits for h in fingerprint.dihedral_pdq(rgb)], 256):
            photo_id = self._photo_for_index_id(int(hit.id))
            if photo_id in self._shared_photos:
                nearest[photo_id] = min(hit.distance, nearest.get(photo_id, 256))
        return set(sorted(nearest, key=nearest.__getitem__)[:count])

    def _read_against_sources(self, rgb: np.ndarray, photo_ids: list[int]):
        """(watermark result, share) from the first candidate photo whose share sources the
        copy's mark reads against, or (None, None)."""
        import cv2  # lazily, see local_features

        from ..watermark.informed import read_with_original

        if self.share_sources is None:
            return None, None
        for photo_id in photo_ids:
            for source in self.share_sources(photo_id):
                ids = [fingerprint.parse_share_id(share_id) for share_id in source.share_ids]
                try:
                    result = read_with_original(rgb, source.pixels, self.keys.watermark, ids)
                except cv2.error as error:  # a last resort must never stop a scan
                    log.warning("reading a mark against photo %s failed: %s", photo_id, error)
                    continue
                share_id = fingerprint.format_share_id(result.payload) if result else None
                if share_id in source.share_ids:
                    return result, self._share_by_id[share_id]
        return None, None

    def _by_content(self, image: Image.Image, rgb: np.ndarray) -> tuple[list[MatchResult], set[int]]:
        """Matches by hashes and local features, and the photos that got weak evidence."""
        hash_candidates: dict[int, int] = {}
        query = fingerprint.dihedral_pdq(rgb)
        if query and query[0].quality >= PDQ_MIN_QUALITY and len(self._pdq_index):
            for hit in self._pdq_index.within([h.bits for h in query], PDQ_CANDIDATE):
                photo_id = self._photo_for_index_id(int(hit.id))
                if photo_id is not None:
                    best = hash_candidates.get(photo_id)
                    hash_candidates[photo_id] = hit.distance if best is None else min(best, hit.distance)
        results: dict[int, MatchResult] = {}
        for photo_id, distance in hash_candidates.items():
            if distance <= PDQ_ACCEPT:
                results[photo_id] = MatchResult(photo_id, None, "pdq", round(1 - distance / 256, 3),
                                                pdq_distance=distance, detail="near-identical picture (PDQ)")
        weak = set(hash_candidates)
        if self.feature_index.descriptor_count():
            found, voted = self._by_features(image, set(hash_candidates) - set(results))
            weak |= voted
            for match in found:
                match_distance = hash_candidates.get(match.photo_id)
                if match.photo_id not in results:
                    results[match.photo_id] = MatchResult(
                        match.photo_id, None, "features", match.score, pdq_distance=match_distance,
                        inliers=match.inliers, region=match.region, detail=match.detail)
                elif results[match.photo_id].region is None:
                    old = results[match.photo_id]
                    results[match.photo_id] = MatchResult(old.photo_id, None, old.method, old.score,
                                                          old.pdq_distance, match.inliers, match.region, old.detail)
        return sorted(results.values(), key=lambda m: -m.score), weak

    def _by_features(self, image: Image.Image, extra_candidates: set[int]) -> tuple[list[MatchResult], set[int]]:
        query = local_features(image, QUERY_SIDE, FEATURES_PER_QUERY)
        if len(query.points) < MIN_INLIERS:
            return [], set()
        # Shortlist by nearest-neighbour votes over the whole vault, then the ratio test against
        # each shortlisted photo's own descriptors: over the whole pool the second neighbour
        # would come from some other photo ever more often as the vault grows.
        votes, voted_for = self.feature_index.shortlist(query.descriptors)
        candidates = list(votes)
        candidates += [pid for pid in extra_candidates if pid not in votes and pid in self.feature_index]
        matched: dict[int, tuple] = {}
        weak: set[int] = set()
        for photo_id in candidates:
            ref = self.feature_index.features(photo_id)
            if len(ref.points) < 2:
                continue
            good_query, good_ref = [], []
            for pair in self._bf.knnMatch(query.descriptors, ref.descriptors, k=2):
                if len(pair) == 2 and pair[0].distance < RATIO_TEST * pair[1].distance:
                    good_query.append(pair[0].queryIdx)
                    good_ref.append(pair[0].trainIdx)
            good_query_arr = np.array(good_query, dtype=np.int64)
            good_ref_arr = np.array(good_ref, dtype=np.int64)
            # Evidence counts the matches whose nearest neighbour in the whole vault is in this
            # photo too ("consistent"): a lone photo's 500 descriptors give any query some chance
            # pairs. The thresholds are those the whole-pool ratio test had (weak: a watermark
            # read; then verification).
            keep = voted_for[good_query_arr] == photo_id if len(good_query) else np.zeros(0, bool)
            consistent = int(keep.sum())
            if consistent >= WEAK_VOTES:
                weak.add(photo_id)
            if consistent >= (MIN_INLIERS // 2 if photo_id in votes else 4):
                matched[photo_id] = (consistent, good_query_arr, good_ref_arr, keep)
        # RANSAC sees every ratio-tested match of the two photos with the most consistent ones
        # (the inverted file's approximate neighbours cannot lose a copy's matches there), and
        # only the consistent matches of the others: over every chance pair RANSAC runs all its
        # iterations, ~25 ms a photo, which was most of a scan's time.
        ranked = sorted(matched, key=lambda pid: -matched[pid][0])
        matched = {pid: (matched[pid][1], matched[pid][2]) if rank < FULL_VERIFY
                   else (matched[pid][1][matched[pid][3]], matched[pid][2][matched[pid][3]])
                   for rank, pid in enumerate(ranked)}
        scale = query.width / image.width
        text: np.ndarray | None = None  # the query's text-like regions, found once when needed
        found: list[MatchResult] = []
        for photo_id, (good_query_arr, good_ref_arr) in matched.items():
            ref = self.feature_index.features(photo_id)
            ref_points = ref.points[good_ref_arr]
            query_points = query.points[good_query_arr]
            verified = _verify_homography(ref_points, query_points, ref.width, ref.height)
            if verified is None:
                continue
            inliers, corners, inlier_mask = verified
            if text is None:
                text = text_regions(grey_at(image, QUERY_SIDE)[0])
            outside_text = _outside(text, query_points[inlier_mask])
            if outside_text < MIN_NON_TEXT_INLIERS:
                log.debug("photo %s: %d of %d inliers outside text, not a match", photo_id, outside_text, inliers)
                continue
            region = [(float(x / scale), float(y / scale)) for x, y in corners]
            score = round(min(1.0, inliers / 60), 3)
            found.append(MatchResult(photo_id, None, "features", score, inliers=inliers, region=region,
                                     detail=f"{inliers} matching local features (crop, rotation or inside "
                                            f"a larger picture)"))
        return found, weak


def _reduced(image: Image.Image, long_side: int) -> Image.Image:
    """A large PNG, WebP or GIF reduced by an integer factor keeping its long side at least
    `long_side`, as libjpeg's draft already decodes a JPEG: the cascade's copies (RGB, arrays,
    mirrors) then cost that size, not the full one (a 100 MP PNG used to take 1.7 GB here)."""
    factor = max(image.size) // long_side
    return image.reduce(factor) if factor >= 2 else image


def text_regions(grey: np.ndarray) -> np.ndarray:
    """A mask (uint8, 1 = text) of the lines of text in a grey image.

    The classic morphological detector: edges (morphological gradient, Otsu), letters joined
    into words and lines by a horizontal closing, and the connected components kept that are
    shaped like a line of text — short, much wider than tall, densely filled. Textured photo
    regions make large or sparse blobs and are left out."""
    import cv2  # lazily, see local_features

    grad = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    _, edges = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    joined = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    mask = np.zeros(grey.shape, dtype=np.uint8)
    for x, y, width, height, area in stats[1:count]:
        if 6 <= height <= 80 and width >= 1.5 * height and area >= 0.35 * width * height:
            mask[max(0, y - 3):y + height + 3, max(0, x - 3):x + width + 3] = 1
    return mask


def _outside(mask: np.ndarray, points: np.ndarray) -> int:
    """How many points fall outside the mask's set pixels."""
    xs = np.clip(points[:, 0].astype(int), 0, mask.shape[1] - 1)
    ys = np.clip(points[:, 1].astype(int), 0, mask.shape[0] - 1)
    return int((mask[ys, xs] == 0).sum())


def _verify_homography(ref_points: np.ndarray, query_points: np.ndarray, ref_w: int, ref_h: int
                       ) -> tuple[int, np.ndarray, np.ndarray] | None:
    """(inlier count, the reference's corners in the query, boolean inlier mask) of a plausible
    copy, or None."""
    import cv2  # lazily, see local_features

    if len(ref_points) < MIN_INLIERS:
        return None
    matrix, mask = cv2.findHomography(ref_points, query_points, cv2.RANSAC, 6.0, maxIters=2000, confidence=0.995)
    if matrix is None or mask is None:
        return None
    inliers = int(mask.sum())
    if inliers < MIN_INLIERS or inliers < MIN_INLIER_RATIO * len(ref_points):
        return None
    # Reject degenerate transforms (a fold, a collapse to a line, wild perspective): a real copy
    # is a similarity or mild perspective of the original.
    affine = matrix[:2, :2] / matrix[2, 2]
    determinant = float(np.linalg.det(affine))
    if not 0.005 < determinant < 200 or abs(matrix[2, 0]) + abs(matrix[2, 1]) > 0.005:
        return None
    corners = np.array([[0, 0], [ref_w, 0], [ref_w, ref_h], [0, ref_h]], dtype=np.float32).reshape(-1, 1, 2)
    projected = cv2.perspectiveTransform(corners, matrix).reshape(-1, 2)
    return inliers, projected, mask.ravel().astype(bool)
