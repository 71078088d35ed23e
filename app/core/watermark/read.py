"""Reading the robust mark: the share ID a copy carries, or None.

* The copy is brought to the working scale (`working.py`); lattice candidates (`lattice.py`)
  are folded and synchronised (`fold.py`) until one decodes.
* Channel code. 56-bit payload + CRC-24, rate-1/3 convolutional code, soft Viterbi
  (`codec.py`). A result is returned only if the sync peak is clearly above noise *and*
  the CRC matches, which bounds false accepts (bench/watermark_eval.py measures the
  gate's pass rate on unmarked images and reports the bound).
* Matching the vault's own IDs. The key that reads the mark lives in the vault, and so
  does the list of share IDs it ever embedded. When the caller passes that list, a copy
  too damaged for the Viterbi decoder (small, re-compressed copies) is still named: the
  received soft bits are correlated with each known ID's codeword, and the best one is
  accepted if its score clears a threshold set from the list's length (see
  `known_id_threshold`). A few hundred coded bits at 25-30 % errors still stand ~7
  standard deviations above noise, where free decoding of 80 bits has long failed.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Collection, Iterator
from dataclasses import dataclass

import numpy as np

from app.core.watermark import codec
from app.core.watermark.fold import SyncHit, fold, refine_upright, synchronise
from app.core.watermark.lattice import (
    MIN_PERIOD,
    N_LATTICE_CANDIDATES,
    N_SCAN_CANDIDATES,
    Lattice,
    Spectrum,
    lattice_candidates,
    sync_scan,
    whiten,
)
from app.core.watermark.layout import (
    MESSAGE_BITS,
    N_CODED_BITS,
    PAYLOAD_BITS,
    TileLayout,
    downsample_to_chips,
)
from app.core.watermark.working import DECODE_AREA, luminance_u8, resize_to_area, validate_rgb

log = logging.getLogger(__name__)

# Sync gate: the folded tile's correlation with the sync chips must stand this many
# standard deviations above the other shifts. Noise alone passes it in roughly 1 of
# 1000 tries (measured in bench/watermark_eval.py); a real mark that can be decoded
# sits far above it (typically 8-30).
SYNC_Z_GATE = 5.0
# Matching known IDs: the target probability that an unmarked image is matched to any of
# the known IDs (the bar is 1e-6; a tenth of it leaves room for the bound's
# assumptions).
KNOWN_ID_FALSE_ACCEPT = 1e-7

@dataclass(frozen=True)
class WatermarkResult:
    payload: int
    # Normalised correlation between the received soft bits and the decoded codeword
    # (1.0 = every coded bit received cleanly; lower = a weaker, noisier mark).
    confidence: float
    sync_z: float  # height of the sync peak in standard deviations
    raw_bit_error_rate: float  # coded bits whose hard decision disagreed with the codeword
    period_px: float  # tile period found in the decoder's working image
    rotation_deg: float
    mirrored: bool
    quarter_turns: int
    # False: decoded from the mark alone (Viterbi + CRC). True: the mark was too damaged
    # to decode, and the payload is the known ID whose codeword it matched best.
    matched_known_id: bool = False


@dataclass(frozen=True)
class WatermarkInspection:
    """Best-effort decoding, kept for benchmarks and diagnostics: `payload_bits` is the
    Viterbi output of the strongest sync candidate even when its CRC failed."""

    result: WatermarkResult | None
    payload_bits: np.ndarray | None
    soft_coded_bits: np.ndarray | None
    sync_z: float
    candidates_tried: int


def known_id_threshold(n_known: int, attempts: int = N_LATTICE_CANDIDATES + N_SCAN_CANDIDATES) -> float:
    """Score a known ID must reach to be accepted, for `n_known` IDs in the list and a reader
    that makes up to `attempts` readings of the image (the blind reader: one per lattice).

    The score is soft · codeword / ‖soft‖. Without a mark (or at a wrong alignment), the
    signs of the soft bits are fair coins whatever their sizes, so for one codeword the
    score is a Rademacher sum with P(score ≥ t) ≤ exp(-t²/2) (Hoeffding). A union over
    every ID and every attempt gives the threshold for KNOWN_ID_FALSE_ACCEPT.
    """
    tests = max(n_known, 1) * max(attempts, 1)
    return math.sqrt(2.0 * math.log(tests / KNOWN_ID_FALSE_ACCEPT))


class KnownIds:
    """Codewords (±1) of the caller's known share IDs, for matching damaged marks."""

    def __init__(self, payloads: Collection[int]):
        self.payloads = np.array(sorted({int(p) for p in payloads if 0 <= int(p) < 1 << PAYLOAD_BITS}),
                                 dtype=np.uint64)
        messages = codec.add_crc_rows(codec.ints_to_bits(self.payloads, PAYLOAD_BITS))
        self.codewords = 2.0 * codec.conv_encode_rows(messages).astype(np.float32) - 1.0
        self.threshold = known_id_threshold(len(self.payloads))

    def best_match(self, soft: np.ndarray, threshold: float | None = None) -> tuple[int, float, np.ndarray] | None:
        """(payload, score, codeword) of the best-matching known ID, if it clears the
        threshold (by default the blind reader's, see `known_id_threshold`)."""
        norm = float(np.linalg.norm(soft))
        if len(self.payloads) == 0 or norm == 0:
            return None
        scores = self.codewords @ soft.astype(np.float32) / norm
        best = int(np.argmax(scores))
        if scores[best] < (self.threshold if threshold is None else threshold):
            return None
        return int(self.payloads[best]), float(scores[best]), self.codewords[best]


@functools.lru_cache(maxsize=4)
def cached_known_ids(payloads: tuple[int, ...]) -> KnownIds:
    """A leak scan reads every found image against the same share list: encode it once."""
    return KnownIds(payloads)


def decode_codeword(soft: np.ndarray) -> tuple[np.ndarray, bool, float, float]:
    message = codec.viterbi_decode(soft, MESSAGE_BITS)
    codeword = 2.0 * codec.conv_encode(message) - 1.0
    norm = float(np.linalg.norm(soft))
    confidence = float(soft @ codeword / (norm * math.sqrt(N_CODED_BITS))) if norm > 0 else 0.0
    raw_ber = float(np.mean(np.sign(soft) != codeword))
    return message, codec.check_crc(message), confidence, raw_ber


def inspect_watermark(rgb: np.ndarray, key: bytes, known_ids: Collection[int] = ()) -> WatermarkInspection:
    """Full decoding with diagnostics (see `WatermarkInspection`). `known_ids` are the
    share IDs this key ever embedded; a mark too damaged to decode is matched to them."""
    rgb = validate_rgb(rgb)
    layout = TileLayout.from_key(key)
    known = cached_known_ids(tuple(known_ids)) if known_ids else None
    luma = resize_to_area(luminance_u8(rgb), DECODE_AREA)
    if min(luma.shape) < 2 * MIN_PERIOD + 1 or float(luma.std()) < 0.5:
        return WatermarkInspection(None, None, None, 0.0, 0)

    best_effort: tuple[float, np.ndarray, np.ndarray] | None = None
    tried = 0
    spectrum = Spectrum(whiten(luma))
    seen: list[Lattice] = []

    def attempts() -> Iterator[tuple[Lattice, SyncHit]]:
        for lattice in lattice_candidates(spectrum, luma.shape):
            seen.append(lattice)
            yield lattice, synchronise(fold(luma, lattice), layout)
        for period, _ in sync_scan(spectrum, layout, luma.shape, seen):
            yield refine_upright(luma, layout, period)

    for tried, (lattice, hit) in enumerate(attempts(), start=1):
        soft = layout.soft_coded_bits(downsample_to_chips(hit.aligned_tile))
        if best_effort is None or hit.z > best_effort[0]:
            message, _, _, _ = decode_codeword(soft)
            best_effort = (hit.z, message[:PAYLOAD_BITS], soft)
        if hit.z >= SYNC_Z_GATE:
            message, crc_ok, confidence, raw_ber = decode_codeword(soft)
            if crc_ok:
                result = _result(codec.bits_to_int(message[:PAYLOAD_BITS]), confidence, raw_ber, lattice, hit)
                return WatermarkInspection(result, message[:PAYLOAD_BITS], soft, hit.z, tried)
        match = known.best_match(soft) if known is not None else None
        if match is not None:
            payload, score, codeword = match
            raw_ber = float(np.mean(np.sign(soft) != codeword))
            result = _result(payload, score / math.sqrt(N_CODED_BITS), raw_ber, lattice, hit,
                             matched_known_id=True)
            return WatermarkInspection(result, codec.int_to_bits(payload, PAYLOAD_BITS), soft, hit.z, tried)
    if best_effort is None:
        return WatermarkInspection(None, None, None, 0.0, 0)
    return WatermarkInspection(None, best_effort[1], best_effort[2], best_effort[0], tried)


def _result(payload: int, confidence: float, raw_ber: float, lattice: Lattice, hit: SyncHit,
            matched_known_id: bool = False) -> WatermarkResult:
    return WatermarkResult(
        payload=payload,
        confidence=confidence,
        sync_z=hit.z,
        raw_bit_error_rate=raw_ber,
        period_px=lattice.period,
        rotation_deg=lattice.angle_deg,
        mirrored=hit.dihedral >= 4,
        quarter_turns=hit.dihedral % 4,
        matched_known_id=matched_known_id,
    )


def read_watermark(rgb: np.ndarray, key: bytes, known_ids: Collection[int] = ()) -> WatermarkResult | None:
    """The share ID hidden in `rgb` under `key`, or None if no valid mark is found.

    Pass the share IDs this key has embedded as `known_ids` (the vault's share records):
    copies too damaged to decode on their own are then still recognised."""
    inspection = inspect_watermark(rgb, key, known_ids)
    log.debug("watermark read: found=%s sync_z=%.1f lattices_tried=%d",
              inspection.result is not None, inspection.sync_z, inspection.candidates_tried)
    return inspection.result
