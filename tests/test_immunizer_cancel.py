"""Cancelling an immunization stops it at the next cancel check, at any stage (the Share and
Immunize dialogs offer Cancel while it runs), and the cancel checks change nothing else. How
far apart the checks are in time (how soon Cancel takes effect) is measured by
bench/immunizer_cancel.py, not asserted here."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from app.core import fingerprint
from app.core.immunizer import immunize, lifting
from app.core.immunizer.api import ImmunizeCancelled
from app.core.immunizer.lossless import params

from .conftest import PHOTOS


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    image = Image.open(PHOTOS / "kodim23.png").convert("RGB")
    return np.asarray(image.resize((768, 512), Image.Resampling.BICUBIC))


class CancelAfter(threading.Event):
    """A cancel event that is set as it is looked at for the `stop_at`-th time (Cancel pressed
    just then), counting how often the work looked at it."""

    def __init__(self, stop_at: int):
        super().__init__()
        self.stop_at, self.checks = stop_at, 0

    def is_set(self) -> bool:
        self.checks += 1
        if self.checks == self.stop_at:
            self.set()
        return super().is_set()


# The first check, and one well into the work (a full run makes some thirty checks in either mode).
@pytest.mark.parametrize("mode", ["robust", "lossless"])
@pytest.mark.parametrize("stop_at", [1, 12])
def test_cancel_stops_immunizing_at_the_next_check(photo, mode, stop_at):
    cancel = CancelAfter(stop_at)
    with pytest.raises(ImmunizeCancelled):
        immunize(photo, mode, signing_private=fingerprint.new_signing_key(), cancel=cancel)
    assert cancel.checks == stop_at  # it stopped there: no work went on to ask again


def test_embedding_in_chunks_is_the_same_embedding(photo, monkeypatch):
    blocks = lifting.to_blocks(photo[:256, :320])
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2, (len(blocks), lifting.MAX_BITS), dtype=np.uint8)
    predictor = params.predictors()[0]
    chosen = params.PARAM_CANDIDATES[0]
    whole = lifting.embed(blocks, bits, predictor, chosen)
    monkeypatch.setattr(params, "EMBED_CHUNK", 300)  # 1,280 blocks: five chunks, the last one short
    chunked = params.embed_in_chunks(blocks, bits, predictor, chosen)
    assert np.array_equal(whole[0], chunked[0]) and np.array_equal(whole[1], chunked[1])
