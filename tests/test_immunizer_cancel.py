"""Cancelling an immunization stops it within a second or two, at any stage (the Share and
Immunize dialogs offer Cancel while it runs), and the cancel checks change nothing else."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PIL import Image

from app.core import fingerprint
from app.core.immunizer import immunize, lifting, lossless
from app.core.immunizer.api import ImmunizeCancelled

from .conftest import PHOTOS


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    image = Image.open(PHOTOS / "kodim23.png").convert("RGB")
    return np.asarray(image.resize((1536, 1024), Image.Resampling.BICUBIC))


def _cancel_latency(pixels, mode: str, after: float) -> float:
    """Seconds between the cancel and the immunize call giving up (inf if it finished first)."""
    cancel = threading.Event()
    ended: dict[str, float] = {}

    def run():
        try:
            immunize(pixels, mode, signing_private=fingerprint.new_signing_key(), cancel=cancel.is_set)
        except ImmunizeCancelled:
            ended["at"] = time.perf_counter()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(after)
    asked = time.perf_counter()
    cancel.set()
    worker.join()
    return ended["at"] - asked if "at" in ended else float("inf")


@pytest.mark.parametrize(("mode", "after"), [("robust", 1.5), ("robust", 6.0), ("lossless", 1.0),
                                             ("lossless", 4.0)])
def test_cancel_stops_immunizing_quickly(photo, mode, after):
    # (the longest step left is one belief-propagation decode, a single C call: ~1 s here)
    assert _cancel_latency(photo, mode, after) < 3.0


def test_embedding_in_chunks_is_the_same_embedding(photo, monkeypatch):
    blocks = lifting.to_blocks(photo[:256, :320])
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2, (len(blocks), lifting.MAX_BITS), dtype=np.uint8)
    predictor = lossless.predictors()[0]
    params = lossless.PARAM_CANDIDATES[0]
    whole = lifting.embed(blocks, bits, predictor, params)
    monkeypatch.setattr(lossless, "EMBED_CHUNK", 300)  # 1,280 blocks: five chunks, the last one short
    chunked = lossless.embed_in_chunks(blocks, bits, predictor, params)
    assert np.array_equal(whole[0], chunked[0]) and np.array_equal(whole[1], chunked[1])
