"""Cancelling an immunization stops it at the next cancel check, at any stage (the Share and
Immunize dialogs offer Cancel while it runs), and the cancel checks change nothing else. How
far apart the checks are in time (how soon Cancel takes effect) is measured by
bench/immunizer_cancel.py, not asserted here."""

from __future__ import annotations

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
    return np.asarray(image.resize((768, 512), Image.Resampling.BICUBIC))


# The first check, and one well into the work (a full run makes some thirty checks in either mode).
@pytest.mark.parametrize("mode", ["robust", "lossless"])
@pytest.mark.parametrize("stop_at", [1, 12])
def test_cancel_stops_immunizing_at_the_next_check(photo, mode, stop_at):
    checks = 0

    def cancel() -> bool:
        nonlocal checks
        checks += 1
        return checks >= stop_at

    with pytest.raises(ImmunizeCancelled):
        immunize(photo, mode, signing_private=fingerprint.new_signing_key(), cancel=cancel)
    assert checks == stop_at  # it stopped there: no work went on to ask again


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
