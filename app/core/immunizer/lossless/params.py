"""Predictors and coupling parameters of the lossless mode: which ones immunize picks, the
dry runs it judges them by, and the config number the meta word names them with."""

from __future__ import annotations

import functools

import numpy as np

from app.core.immunizer import lifting
from app.core.immunizer.lossless.layout import TAG_BITS
from app.core.immunizer.predictors import BLOCK, ClassicalPredictor, Predictor
from app.core.immunizer.types import checkpoint

MIN_PSNR = 40.5          # the bar is 40 dB; keep a margin
MIN_SSIM = 0.985         # the bar is 0.98 (scikit-image SSIM); estimated here per block
# (threshold, tau, flat) candidates; immunize picks the one with the most capacity that keeps
# PSNR and SSIM above the bars, verify tries each on a sample of blocks.
PARAM_CANDIDATES = [lifting.LiftingParams(t, tau, flat) for t, tau, flat in
                    ((1, 24, -1), (2, 48, 16), (2, 1000, 8), (2, 1000, 16), (3, 48, 16), (3, 1000, 8),
                     (3, 1000, 16), (3, 1000, 24), (4, 1000, 24), (4, 1000, 32))]


@functools.cache  # loaded once; a failed load is not kept, so the next call tries again
def predictors() -> list[Predictor]:
    """Every predictor verify knows, the default first: the learned one (more capacity, so a
    better reference, at about 1.5× the time; see docs/benchmarks.md), then the classical one.
    Its weights ship inside the package; when they are missing this raises
    `PredictorWeightsMissing` instead of quietly dropping it, since an installation without it
    could not verify copies made by every other one."""
    from app.core.immunizer.learned import LearnedPredictor

    learned = LearnedPredictor()
    learned.predict(np.zeros((1, BLOCK, BLOCK, 3), np.int32), 0, 0)  # loads the weights
    return [learned, ClassicalPredictor()]


# Stable numbers for the meta word (the list above depends on what loads on this machine).
PREDICTOR_IDS = {"classical": 0, "learned": 1}


def config_index(predictor: Predictor, params: lifting.LiftingParams) -> int:
    return 16 * PREDICTOR_IDS[predictor.name] + PARAM_CANDIDATES.index(params)


def config_of(index: int) -> tuple[Predictor, lifting.LiftingParams] | None:
    by_id = {PREDICTOR_IDS[p.name]: p for p in predictors()}
    if index // 16 not in by_id or index % 16 >= len(PARAM_CANDIDATES):
        return None  # immunized with a predictor this installation lacks
    return by_id[index // 16], PARAM_CANDIDATES[index % 16]



def choose_params(blocks: np.ndarray, rng: np.random.Generator, predictor: Predictor) -> lifting.LiftingParams:
    """The parameters with the most capacity that keep PSNR and SSIM above the bars, judged by
    dry runs on a sample of blocks."""
    sample = blocks if len(blocks) <= 1000 else blocks[rng.choice(len(blocks), 1000, replace=False)]
    bits = rng.integers(0, 2, (len(sample), lifting.MAX_BITS), dtype=np.uint8)
    best: tuple[float, lifting.LiftingParams] | None = None
    for params in PARAM_CANDIDATES:
        checkpoint()
        state, capacity = lifting.embed(sample, bits, predictor, params)
        ok = lifting.in_range(state)
        kept = np.where(ok[:, None, None, None], state, sample)
        mse = float(np.mean((kept - sample).astype(np.float64) ** 2))
        psnr = 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
        usable = float(np.where(ok & (capacity >= TAG_BITS), capacity - TAG_BITS, 0).sum())
        if psnr >= MIN_PSNR and block_ssim(sample, kept) >= MIN_SSIM and (best is None or usable > best[0]):
            best = (usable, params)
    return PARAM_CANDIDATES[0] if best is None else best[1]


EMBED_CHUNK = 8192  # blocks per `lifting.embed` call: a second or so of work between cancel checks


def embed_in_chunks(blocks: np.ndarray, bits: np.ndarray, predictor: Predictor,
                    params: lifting.LiftingParams) -> tuple[np.ndarray, np.ndarray]:
    """`lifting.embed` a chunk of blocks at a time (each block is transformed on its own, so the
    result is the same), checking for a cancel between chunks: a 12 MP photo is 190,000 blocks."""
    if len(blocks) <= EMBED_CHUNK:
        checkpoint()
        return lifting.embed(blocks, bits, predictor, params)
    states, capacities = [], []
    for start in range(0, len(blocks), EMBED_CHUNK):
        checkpoint()
        state, capacity = lifting.embed(blocks[start:start + EMBED_CHUNK], bits[start:start + EMBED_CHUNK],
                                        predictor, params)
        states.append(state)
        capacities.append(capacity)
    return np.concatenate(states), np.concatenate(capacities)


def block_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM over 8×8 blocks and channels (Wang et al. 2004 constants): close to the
    windowed SSIM of scikit-image, cheap enough to compare candidates on a sample."""
    x = a.astype(np.float64).reshape(len(a), 64, 3)
    y = b.astype(np.float64).reshape(len(b), 64, 3)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = x.mean(axis=1), y.mean(axis=1)
    vx, vy = x.var(axis=1), y.var(axis=1)
    cov = ((x - mx[:, None]) * (y - my[:, None])).mean(axis=1)
    ssim = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return float(ssim.mean())


def encode_params(predictor: Predictor, params: lifting.LiftingParams) -> bytes:
    name = predictor.name.encode()
    return bytes([len(name)]) + name + params.encode()
