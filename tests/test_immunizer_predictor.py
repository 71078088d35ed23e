"""The learned predictor of the immunizer's lossless coupling layers: read rules, exact
integer arithmetic, accuracy on a real photo, and the shipped weights file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.immunizer.learned import (
    MODEL_PATH,
    LearnedPredictor,
    PredictorWeightsMissing,
    load_heads,
    parity_values,
    training_samples,
)
from app.core.immunizer.lossless import params
from app.core.immunizer.predictors import ClassicalPredictor

PHOTOS = Path(__file__).parent / "data" / "photos"
# kodim23 belongs to the evaluation split (Kodak), never to the predictor's training data.
EVAL_PHOTO = PHOTOS / "kodim23.png"
STEPS = [(p, c) for p in (0, 1) for c in range(3)]


def photo_blocks(path: Path = EVAL_PHOTO) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.int32)
    h, w = (rgb.shape[0] // 8) * 8, (rgb.shape[1] // 8) * 8
    t = rgb[:h, :w].reshape(h // 8, 8, w // 8, 8, 3).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(t.reshape(-1, 8, 8, 3))


@pytest.fixture(scope="module")
def blocks() -> np.ndarray:
    return photo_blocks()


@pytest.fixture(scope="module")
def busy_blocks(blocks) -> np.ndarray:
    """A few textured photo blocks plus random ones (every hidden unit gets exercised)."""
    spread = blocks.reshape(len(blocks), -1).std(axis=1)
    textured = blocks[np.argsort(spread)[-6:]]
    noise = np.random.default_rng(7).integers(0, 256, (4, 8, 8, 3)).astype(np.int32)
    return np.concatenate([textured, noise])


def _variants(block: np.ndarray, pixels: list[tuple[int, int, int]]) -> np.ndarray:
    """One copy of `block` per pixel, with that pixel changed by a large amount."""
    out = np.repeat(block[None], len(pixels), axis=0)
    for i, (r, c, k) in enumerate(pixels):
        out[i, r, c, k] = (block[r, c, k] + 97) % 256
    return out


@pytest.mark.parametrize("parity,channel", STEPS)
def test_forbidden_pixels_never_change_the_prediction(busy_blocks, parity, channel):
    pred = LearnedPredictor()
    mask = (np.add.outer(np.arange(8), np.arange(8)) % 2) == parity
    forbidden = [(r, c, k) for r in range(8) for c in range(8) for k in range(channel, 3) if mask[r, c]]
    for block in busy_blocks:
        base_p, base_x = pred.predict(block[None], parity, channel)
        var_p, var_x = pred.predict(_variants(block, forbidden), parity, channel)
        assert np.array_equal(var_p[:, mask], np.broadcast_to(base_p[:, mask], var_p[:, mask].shape))
        assert np.array_equal(var_x[:, mask], np.broadcast_to(base_x[:, mask], var_x[:, mask].shape))


@pytest.mark.parametrize("parity,channel", STEPS)
def test_allowed_pixels_are_read(busy_blocks, parity, channel):
    pred = LearnedPredictor()
    mask = (np.add.outer(np.arange(8), np.arange(8)) % 2) == parity
    allowed = [(r, c, k) for r in range(8) for c in range(8) for k in range(3)
               if not mask[r, c] or k < channel]
    changed = np.zeros(len(allowed), bool)
    for block in busy_blocks:
        base, _ = pred.predict(block[None], parity, channel)
        var, _ = pred.predict(_variants(block, allowed), parity, channel)
        changed |= (var[:, mask] != base[:, mask]).any(axis=1)
    # The pixel's own channel and the earlier channels always matter.
    own = np.array([k <= channel for _, _, k in allowed])
    assert changed[own].all()
    # Later channels only give hints (the rhombus' shape), but they are read too.
    if channel < 2:
        assert changed[~own].mean() > 0.9, f"{changed[~own].mean():.0%} of later-channel pixels read"


def test_deterministic_int32_and_exact(blocks):
    a, b = LearnedPredictor(), LearnedPredictor()
    for parity, channel in STEPS:
        p1, x1 = a.predict(blocks, parity, channel)
        p2, x2 = b.predict(blocks.copy(), parity, channel)
        assert p1.dtype == np.int32 and x1.dtype == np.int32
        assert p1.shape == x1.shape == blocks.shape[:3]
        assert np.array_equal(p1, p2) and np.array_equal(x1, x2)
        assert (x1 >= 0).all() and p1.min() >= 0 and p1.max() <= 255
        # Same results one block at a time (chunking and batch size do not matter).
        for i in (0, len(blocks) // 2, len(blocks) - 1):
            assert np.array_equal(a.predict(blocks[i:i + 1], parity, channel)[0][0], p1[i])


def test_matches_a_pure_integer_reference(busy_blocks, blocks):
    """The float64 BLAS path (with folded weights) equals the fixed-point spec in int64."""
    extreme = np.random.default_rng(3).choice([0, 255], (64, 8, 8, 3)).astype(np.int32)
    sample = np.concatenate([busy_blocks, blocks[::37], extreme])
    with np.load(MODEL_PATH) as data:
        w = {k: data[k].astype(np.int64) for k in data.files}
    pred = LearnedPredictor()
    for parity, channel in STEPS:
        x, sum4, _ = training_samples(sample, parity, channel)
        x = x.astype(np.int64)
        p = f"c{channel}_"
        q = int(w[p + "q"])
        h = np.maximum(x @ w[p + "w1"] + w[p + "b1"], 0)
        out = h @ w[p + "w2"] + x @ w[p + "skip"] + int(w[p + "b2"])
        ref = np.clip((sum4.astype(np.int64) * 2 ** (q - 2) + out + 2 ** (q - 1)) >> q, 0, 255)
        got = parity_values(pred.predict(sample, parity, channel)[0], parity)
        assert np.array_equal(got, ref)


def test_better_than_classical_on_a_real_photo(blocks):
    errors = {}
    for pred in (ClassicalPredictor(), LearnedPredictor()):
        e = []
        for parity, channel in STEPS:
            p, _ = pred.predict(blocks, parity, channel)
            e.append(parity_values(p - blocks[..., channel], parity))
        errors[pred.name] = float(np.abs(np.concatenate(e)).mean())
    # Measured with the shipped weights: classical 1.655, learned 1.316 on kodim23 (-20%).
    assert errors["classical"] == pytest.approx(1.655, abs=0.002)
    assert errors["learned"] == pytest.approx(1.316, abs=0.002)
    assert errors["learned"] <= 0.85 * errors["classical"], errors


def test_weights_file_is_small_and_integer():
    assert MODEL_PATH.is_file()
    assert len(MODEL_PATH.read_bytes()) < 200_000
    with np.load(MODEL_PATH, allow_pickle=False) as data:
        for name in data.files:
            assert np.issubdtype(data[name].dtype, np.integer), name
        assert {f"c{c}_{k}" for c in range(3) for k in ("w1", "b1", "w2", "skip", "b2", "q")} <= set(data.files)
    assert len(load_heads(MODEL_PATH)) == 3


def test_out_of_range_states_are_predicted_from_clipped_values(blocks, busy_blocks):
    """The lifting's intermediate states may hold values outside 0..255 for a while."""
    pred = LearnedPredictor()
    shifted = busy_blocks.copy()
    shifted[:, ::3, ::2, :] += 300
    shifted[:, 1::3, 1::2, :] -= 300
    for parity, channel in STEPS:
        p, x = pred.predict(shifted, parity, channel)
        assert np.array_equal(p, pred.predict(np.clip(shifted, 0, 255), parity, channel)[0])
        assert p.min() >= 0 and p.max() <= 255
        # In range, the complexity is exactly the classical one.
        assert np.array_equal(pred.predict(blocks, parity, channel)[1],
                              ClassicalPredictor().predict(blocks, parity, channel)[1])


def test_rejects_bad_arguments(blocks):
    with pytest.raises(ValueError):
        LearnedPredictor().predict(blocks[:1], 2, 0)
    with pytest.raises(ValueError):
        LearnedPredictor().predict(blocks[:1], 0, 3)
    with pytest.raises(ValueError):
        LearnedPredictor().predict(blocks[:1, :4], 0, 0)
    empty_p, empty_x = LearnedPredictor().predict(blocks[:0], 1, 2)
    assert empty_p.shape == empty_x.shape == (0, 8, 8) and empty_p.dtype == np.int32


def test_weights_are_package_data():
    """They live inside the package (found through importlib.resources), so every
    installation has them, not only a source checkout."""
    from importlib import resources

    weights = resources.files("app.core.immunizer") / "immunizer_predictor.npz"
    assert weights.is_file() and weights.read_bytes() == MODEL_PATH.read_bytes()
    assert len(load_heads(weights)) == 3


def test_missing_or_damaged_weights_fail_loudly(tmp_path, monkeypatch):
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(MODEL_PATH.read_bytes()[:5000])
    for path in (tmp_path / "missing.npz", damaged):
        with pytest.raises(PredictorWeightsMissing):
            LearnedPredictor(path).predict(np.zeros((1, 8, 8, 3), np.int32), 0, 0)
    # The lossless mode does not quietly fall back to the classical predictor: an installation
    # without the weights could not verify copies made by one with them.
    monkeypatch.setattr("app.core.immunizer.learned.MODEL_PATH", tmp_path / "missing.npz")
    params.predictors.cache_clear()  # a failed load is not cached: later callers load the real weights
    with pytest.raises(PredictorWeightsMissing):
        params.predictors()
