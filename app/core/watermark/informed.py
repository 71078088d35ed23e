"""Reading a share's mark with the photo it was made from (non-blind detection).

The blind reader (`read.py`) must find the tile's scale and rotation in the copy and read
the mark through the photo itself, which is many times stronger. The vault has more to go
on: when a found copy shows one of its photos, it can rebuild the pixels that photo's shares
were made from. Then:

1. Register the copy to those pixels: ORB features matched both ways round (a mirrored
   copy too), a RANSAC similarity, refined to sub-pixel by ECC (which ignores brightness and
   contrast changes).
2. Subtract: the unmarked pixels are brought into the copy's frame the way the copy was made
   (low-passed when it is smaller), fitted for brightness and contrast, and taken away. What
   is left is the mark plus re-compression noise; the photo's own detail, the blind reader's
   main enemy, is gone.
3. Bring the residual back to the share's geometry, where the tile starts at pixel (0, 0)
   with its known period, add up its tiles and decode with the blind reader's sync check,
   Viterbi + CRC and known-ID matching (same thresholds, so the same false-accept bounds).

A copy made from another share of the same photo leaves *that* share's mark in the residual,
so the reader names the copy that actually leaked; one made from the unmarked photo (never
shared) leaves noise, and nothing is read.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.watermark import codec
from app.core.watermark.embed import EMBED_PERIOD
from app.core.watermark.fold import fold, sum_of_tiles
from app.core.watermark.lattice import Lattice
from app.core.watermark.layout import N_CODED_BITS, PAYLOAD_BITS, TILE_SIZE, TileLayout, downsample_to_chips
from app.core.watermark.read import (
    SYNC_Z_GATE,
    KnownIds,
    WatermarkResult,
    cached_known_ids,
    decode_codeword,
    known_id_threshold,
)
from app.core.watermark.working import WORK_AREA, luminance_u8, resize_to_area, validate_rgb

log = logging.getLogger(__name__)

# Registration works on images whose long side is at most this (coordinates are scaled back).
REGISTRATION_SIDE = 1024
ORB_FEATURES = 4000
RATIO_TEST = 0.8
RANSAC_THRESHOLD = 3.0  # pixels of the registration image
MIN_INLIERS = 15
# Scales a registration may have: a copy is never enlarged past this or shrunk below it (the
# blind reader's limits are similar); anything else is RANSAC fitting noise, e.g. on a collage.
MIN_SCALE, MAX_SCALE = 0.1, 8.0
# A copy smaller than this share of the original's area (after registration) holds too few
# tiles to read; below it the reader says nothing rather than guess.
MIN_COVERED_TILES = 2.0


@dataclass(frozen=True)
class Registration:
    """Where the share's pixels landed in the copy: `share_to_copy` maps (x, y) of the share
    (2 × 3 affine, mirror included) to (x, y) of the copy."""

    share_to_copy: np.ndarray
    inliers: int
    mirrored: bool

    @property
    def scale(self) -> float:
        return math.sqrt(abs(np.linalg.det(self.share_to_copy[:, :2])))

    @property
    def rotation_deg(self) -> float:
        matrix = self.share_to_copy[:, :2] @ (np.diag([-1.0, 1.0]) if self.mirrored else np.eye(2))
        return math.degrees(math.atan2(matrix[1, 0], matrix[0, 0]))


def _registration_grey(luma: np.ndarray) -> tuple[np.ndarray, float]:
    scale = min(1.0, REGISTRATION_SIDE / max(luma.shape))
    if scale < 1.0:
        size = (max(1, round(luma.shape[1] * scale)), max(1, round(luma.shape[0] * scale)))
        luma = cv2.resize(luma, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(luma, dtype=np.uint8), scale


def _orb(grey: np.ndarray):
    orb = cv2.ORB_create(nfeatures=ORB_FEATURES, scaleFactor=1.2, nlevels=10, edgeThreshold=15,
                         patchSize=31, fastThreshold=7)
    return orb.detectAndCompute(grey, None)


def register(copy_luma: np.ndarray, share_luma: np.ndarray) -> Registration | None:
    """The similarity (plus an ECC refinement) that puts the share onto the copy, or None if
    the two do not show the same picture."""
    copy_grey, copy_scale = _registration_grey(copy_luma)
    share_grey, share_scale = _registration_grey(share_luma)
    copy_points, copy_desc = _orb(copy_grey)
    if copy_desc is None or len(copy_points) < MIN_INLIERS:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    best: Registration | None = None
    width = share_grey.shape[1]
    for mirrored in (False, True):
        source = share_grey[:, ::-1] if mirrored else share_grey
        share_points, share_desc = _orb(np.ascontiguousarray(source))
        if share_desc is None or len(share_points) < MIN_INLIERS:
            continue
        pairs = [m for m, *rest in (p for p in matcher.knnMatch(share_desc, copy_desc, k=2) if p)
                 if not rest or m.distance < RATIO_TEST * rest[0].distance]
        if len(pairs) < MIN_INLIERS:
            continue
        src = np.float32([share_points[m.queryIdx].pt for m in pairs])
        dst = np.float32([copy_points[m.trainIdx].pt for m in pairs])
        matrix, inlier_mask = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_THRESHOLD, maxIters=5000, confidence=0.999)
        if matrix is None:
            continue
        inliers = int(inlier_mask.sum())
        if inliers < MIN_INLIERS or (best is not None and inliers <= best.inliers):
            continue
        # Back to full-resolution coordinates of both images; undo the mirror on the share side.
        to_share = np.diag([1.0 / share_scale, 1.0 / share_scale, 1.0])
        if mirrored:
            to_share = to_share @ np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        full = np.diag([1.0 / copy_scale, 1.0 / copy_scale, 1.0]) @ np.vstack([matrix, [0, 0, 1]]) \
            @ np.linalg.inv(to_share)
        candidate = Registration(full[:2], inliers, mirrored)
        if MIN_SCALE <= candidate.scale <= MAX_SCALE:
            best = candidate
    if best is None:
        return None
    return _refine(copy_luma, share_luma, best)


def _to_copy_frame(share_luma: np.ndarray, registration: Registration, copy_shape) -> np.ndarray:
    """The share's luminance as the copy's frame would show it: low-passed first when the copy
    is smaller, so a downscaled copy is compared with a downscaled original."""
    scale = registration.scale
    source = share_luma.astype(np.float32)
    if scale < 0.9:
        source = cv2.GaussianBlur(source, (0, 0), 0.45 / scale)
    return cv2.warpAffine(source, registration.share_to_copy, (copy_shape[1], copy_shape[0]),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


def _refine(copy_luma: np.ndarray, share_luma: np.ndarray, registration: Registration) -> Registration:
    """Sub-pixel alignment by ECC between the copy and the share warped onto it: RANSAC on
    ORB corners is good to a pixel or so, and the mark's finest chips are two pixels wide."""
    predicted = _to_copy_frame(share_luma, registration, copy_luma.shape)
    inside = _inside(registration, share_luma.shape, copy_luma.shape)
    if inside.sum() < 1000:
        return registration
    # ECC on a big copy is slow and gains nothing: refine at registration size, scale back.
    factor = min(1.0, REGISTRATION_SIDE / max(copy_luma.shape))
    size = (max(1, round(copy_luma.shape[1] * factor)), max(1, round(copy_luma.shape[0] * factor)))
    if factor < 1.0:
        predicted = cv2.resize(predicted, size, interpolation=cv2.INTER_AREA)
        observed = cv2.resize(copy_luma.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        inside = cv2.resize(inside.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    else:
        observed = copy_luma.astype(np.float32)
    correction = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
    try:
        _, correction = cv2.findTransformECC(predicted, observed, correction, cv2.MOTION_AFFINE, criteria,
                                             inside.astype(np.uint8), 5)
    except cv2.error:
        return registration  # did not converge: keep the RANSAC estimate
    if np.abs(correction[:, :2] - np.eye(2)).max() > 0.05 or np.abs(correction[:, 2]).max() > 8:
        return registration  # a jump this large is ECC losing its way, not a refinement
    to_small = np.diag([factor, factor, 1.0])
    correction_full = np.linalg.inv(to_small) @ np.vstack([correction, [0, 0, 1]]) @ to_small
    refined = correction_full @ np.vstack([registration.share_to_copy, [0, 0, 1]])
    return Registration(refined[:2], registration.inliers, registration.mirrored)


def _inside(registration: Registration, share_shape, copy_shape) -> np.ndarray:
    ones = np.ones(share_shape[:2], dtype=np.float32)
    covered = cv2.warpAffine(ones, registration.share_to_copy, (copy_shape[1], copy_shape[0]),
                             flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return cv2.erode((covered > 0.999).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)


def _brightness_contrast(predicted: np.ndarray, observed: np.ndarray) -> tuple[float, float]:
    """Least-squares gain and offset taking the share's luminance to the copy's."""
    spread = float(predicted.std())
    if spread < 1.0:  # a flat picture: no contrast to fit
        return 1.0, float(observed.mean() - predicted.mean())
    gain = float(np.mean((predicted - predicted.mean()) * (observed - observed.mean()))) / spread**2
    return gain, float(observed.mean() - gain * predicted.mean())


def residual_in_share_frame(copy_rgb: np.ndarray, share_rgb: np.ndarray, registration: Registration,
                            keep_clipped: bool = False) -> np.ndarray:
    """The copy minus the unmarked share (brightness and contrast fitted), in the share's
    geometry; zero where the copy does not reach, and unless `keep_clipped`, where it is
    black or white."""
    copy_luma = luminance_u8(copy_rgb).astype(np.float32)
    share_luma = luminance_u8(share_rgb).astype(np.float32)
    predicted = _to_copy_frame(share_luma, registration, copy_luma.shape)
    inside = _inside(registration, share_luma.shape, copy_luma.shape)
    # Clipped pixels would bend the brightness and contrast fit, so it always leaves them out.
    unclipped = inside & (copy_luma > 2) & (copy_luma < 253)
    if unclipped.sum() < 100:
        return np.zeros_like(share_luma)
    gain, offset = _brightness_contrast(predicted[unclipped], copy_luma[unclipped])
    if gain <= 0.2:
        return np.zeros_like(share_luma)
    used = inside if keep_clipped else unclipped
    residual = np.where(used, (copy_luma - (gain * predicted + offset)) / gain, 0.0).astype(np.float32)
    back = cv2.warpAffine(residual, registration.share_to_copy, (share_luma.shape[1], share_luma.shape[0]),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=0.0)
    return back


def read_with_original(copy_rgb: np.ndarray, share_rgb: np.ndarray, key: bytes,
                       known_ids: Collection[int] = ()) -> WatermarkResult | None:
    """The share ID in `copy_rgb`, read against `share_rgb`: the pixels a share was made from
    before its mark (every share of one photo starts from the same ones). None when the copy
    is not of this photo or carries no readable mark of this key."""
    copy_rgb, share_rgb = validate_rgb(copy_rgb), validate_rgb(share_rgb)
    registration = register(luminance_u8(copy_rgb), luminance_u8(share_rgb))
    if registration is None:
        return None
    layout = TileLayout.from_key(key)
    # Clipped pixels usually add more noise than mark; on white paper or a blown-out sky the
    # half of the mark that points away from the clip survives and is most of what there is
    # (a scanned page read in 0 of 9 damaged copies without them, 9 with). Both are tried.
    copy_luma = luminance_u8(copy_rgb)
    clipped = float(np.mean((copy_luma <= 2) | (copy_luma >= 253)))
    residuals = (False, True) if clipped > 0.01 else (False,)
    # The known-ID threshold counts the readings this copy gets (residuals x folds, 2 or 4)
    # instead of the blind reader's 7 lattices: the same false-accept bound per image.
    known = cached_known_ids(tuple(known_ids)) if known_ids else None
    threshold = known_id_threshold(len(known.payloads), len(residuals) * len(FOLDS)) if known else None
    for keep_clipped in residuals:
        residual = residual_in_share_frame(copy_rgb, share_rgb, registration, keep_clipped)
        found = _decode_residual(residual, layout, known, threshold)
        log.debug("informed watermark read: inliers=%d scale=%.3f mirrored=%s clipped=%s found=%s",
                  registration.inliers, registration.scale, registration.mirrored, keep_clipped,
                  found is not None)
        if found is not None:
            break
    else:
        return None
    payload, matched, confidence, raw_ber, sync_z, period = found
    return WatermarkResult(
        payload=payload, confidence=confidence, sync_z=sync_z, raw_bit_error_rate=raw_ber,
        period_px=float(period) * registration.scale, rotation_deg=registration.rotation_deg,
        mirrored=registration.mirrored, quarter_turns=0, matched_known_id=matched)


def _decode_residual(residual: np.ndarray, layout: TileLayout, known: KnownIds | None, threshold: float | None):
    """(payload, matched_known_id, confidence, raw BER, sync z, period) read from a residual in
    the share's geometry, with the blind reader's gates; None if nothing passes them.

    The tile's position is known here (it starts at pixel (0, 0) of the working frame), so
    nothing is searched: a search for the sync peak, as the blind reader must do, sometimes
    locked onto noise in a weak residual. Two folds are tried. The plain sum of the tiles comes
    first: the blind reader's whitening high-passes the image to get rid of the photo, which is
    already gone here, and would throw away the low frequencies that are all a downscaled copy
    keeps of the mark. On the benchmark's 120 copies of chains A and C, 119 read this way
    against 116 with whitening; the six that failed before scored 6.5–9.1 on the known-ID test
    against −0.3–5.8, four of them at a wrong alignment. The whitened fold is the fallback for
    text and documents, where a few strong edges dominate the residual."""
    work = resize_to_area(residual, WORK_AREA)
    period = EMBED_PERIOD
    if float(np.count_nonzero(work)) / period**2 < MIN_COVERED_TILES:
        return None
    for fold_tiles in FOLDS:
        found = _decode_aligned_tile(fold_tiles(work, period), layout, known, threshold)
        if found is not None:
            return (*found, period)
    return None


def _plain_fold(work: np.ndarray, period: int) -> np.ndarray:
    """The residual's tiles added up as they are, resampled to the decoder's tile size."""
    tile = sum_of_tiles(work, period)
    if period != TILE_SIZE:
        tile = cv2.resize(tile, (TILE_SIZE, TILE_SIZE), interpolation=cv2.INTER_LINEAR)
    return tile


def _whitened_fold(work: np.ndarray, period: int) -> np.ndarray:
    """The blind reader's fold (high-pass, contrast-normalised), at the known position."""
    return fold(work, Lattice(np.eye(2) * float(period), 0.0))


def _decode_aligned_tile(tile: np.ndarray, layout: TileLayout, known: KnownIds | None, threshold: float | None):
    """(payload, matched_known_id, confidence, raw BER, sync z) from a tile already in place."""
    correlation = np.fft.ifft2(np.fft.fft2(tile) * np.conj(np.fft.fft2(layout.sync_tile))).real
    spread = float(correlation.std())
    sync_z = float((correlation[0, 0] - correlation.mean()) / spread) if spread > 0 else 0.0
    soft = layout.soft_coded_bits(downsample_to_chips(tile))
    message, crc_ok, confidence, raw_ber = decode_codeword(soft)
    if sync_z >= SYNC_Z_GATE and crc_ok:
        return codec.bits_to_int(message[:PAYLOAD_BITS]), False, confidence, raw_ber, sync_z
    match = known.best_match(soft, threshold) if known is not None else None
    if match is None:
        return None
    payload, score, codeword = match
    raw_ber = float(np.mean(np.sign(soft) != codeword))
    return payload, True, score / math.sqrt(N_CODED_BITS), raw_ber, sync_z


# Tried in this order on each residual (see `_decode_residual`).
FOLDS = (_plain_fold, _whitened_fold)
