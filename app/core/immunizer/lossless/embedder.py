"""Immunizing in the lossless mode: choose the parameters, lay out tags, the meta word and the
stream's symbols, and embed them by the integer coupling steps."""

from __future__ import annotations

import threading

import numpy as np

from app.core.immunizer import container, fountain, lifting
from app.core.immunizer.errors import ImageTooSmallToImmunize
from app.core.immunizer.lossless.exception_list import pack_exceptions
from app.core.immunizer.lossless.layout import (
    MAX_SLOTS,
    META_BITS,
    META_MARGIN_BITS,
    MIN_META_BLOCKS,
    SYMBOL_BITS,
    TAG_BITS,
    block_tags,
    fountain_seed,
    header_bits,
    meta_block_order,
    meta_blocks,
    meta_word,
    symbol_ids,
    to_bits,
)
from app.core.immunizer.lossless.params import (
    choose_params,
    config_index,
    embed_in_chunks,
    encode_params,
    predictors,
)
from app.core.immunizer.predictors import Predictor
from app.core.immunizer.types import checkpoint, stepper
from app.core.progress import Progress

MAX_STREAM_BYTES = 384 * 1024  # bounds fountain decoding on 12 MP photos (~5 s)
_TOO_BUSY = "this photo is too small or too busy to carry its recovery data losslessly; try the robust mode"
FOUNTAIN_OVERHEAD = 1.12
TAMPER_HEADROOM = 0.70   # the stream must survive losing 30 % of the symbols


def immunize(pixels: np.ndarray, signing_private: bytes, *, progress: Progress | None = None,
             cancel: threading.Event | None = None, predictor: Predictor | None = None) -> np.ndarray:
    """`predictor` defaults to the first of `predictors()` (bench/predictor_compare.py passes each)."""
    step = stepper(progress, cancel, "immunizing")

    h, w = pixels.shape[:2]
    rng = np.random.default_rng(int.from_bytes(container.pixel_digest(pixels)[:8], "big"))
    blocks = lifting.to_blocks(pixels)
    n = len(blocks)
    step(0.02)
    predictor = predictor or predictors()[0]
    params = choose_params(blocks, rng, predictor)
    step(0.15)

    # Dry run for the exact capacity layout: which blocks overflow, how much each carries.
    probe_bits = rng.integers(0, 2, (n, lifting.MAX_BITS), dtype=np.uint8)
    state, capacity = embed_in_chunks(blocks, probe_bits, predictor, params)
    ok = lifting.in_range(state)
    meta_order = meta_block_order(n, w, h)
    meta = meta_blocks(meta_order, ok & (capacity >= TAG_BITS + META_BITS + META_MARGIN_BITS))
    if len(meta) < MIN_META_BLOCKS:  # a busy photo: take blocks without the margin too
        meta = meta_blocks(meta_order, ok & (capacity >= TAG_BITS + META_BITS))
    if len(meta) < MIN_META_BLOCKS:
        raise ImageTooSmallToImmunize(_TOO_BUSY)
    header = header_bits(n, meta)
    slots = np.where(ok, np.clip((capacity - header) // SYMBOL_BITS, 0, MAX_SLOTS), 0)
    step(0.3)

    tags = block_tags(pixels)
    raw = ~ok
    lowcap = ok & (capacity < TAG_BITS)
    meta_rows = np.isin(np.arange(n), meta)
    ids = symbol_ids(n)
    # Room for blocks that turn out to overflow or run short only in the final pass (each
    # costs its 2-byte tag and a little bitmap).
    slack_bytes = 3 * (n // 50 + 8)
    total_symbols = int(slots.sum())
    k_budget = int(total_symbols * TAMPER_HEADROOM / FOUNTAIN_OVERHEAD) - 32
    params_bytes = encode_params(predictor, params)
    digest = container.pixel_digest(pixels)
    reference = None
    fitted_exceptions = 0
    for _attempt in range(6):
        checkpoint()
        exceptions = pack_exceptions(raw, lowcap, tags)
        fixed = container.Stream("lossless", w, h, params_bytes, digest, exceptions, 1.0, b"")
        overhead_bytes = len(fixed.sign(signing_private))
        if reference is None:
            budget = min(k_budget, MAX_STREAM_BYTES) - overhead_bytes - slack_bytes
            if budget < 200:
                raise ImageTooSmallToImmunize(_TOO_BUSY)
            try:
                reference, scale = container.encode_reference(pixels, budget)
            except ValueError:
                raise ImageTooSmallToImmunize(_TOO_BUSY) from None
            fitted_exceptions = len(exceptions)
            step(0.6)
        stream = container.Stream("lossless", w, h, params_bytes, digest, exceptions, scale, reference
                                  ).sign(signing_private)
        data = np.frombuffer(stream, dtype=np.uint8)
        k = len(data)
        # Big photos hold far more than the stream needs: fill only the first `per_block` slots
        # of each block with symbols (the rest carry filler), which bounds the coding work.
        needed = k * FOUNTAIN_OVERHEAD / TAMPER_HEADROOM
        per_block = next((s for s in range(1, MAX_SLOTS + 1) if np.minimum(slots, s).sum() >= needed), MAX_SLOTS)

        # Each block's payload: tag, meta word (meta blocks only), then its symbols.
        payload = np.zeros((n, lifting.MAX_BITS), dtype=np.uint8)
        payload[:, :TAG_BITS] = to_bits(tags, TAG_BITS)
        payload[meta, TAG_BITS:TAG_BITS + META_BITS] = to_bits(
            np.full(len(meta), meta_word(k, per_block, config_index(predictor, params))), META_BITS)
        symbols = fountain.encode(data, ids[:, :per_block].reshape(-1), fountain_seed(w, h, k)).reshape(n, per_block)
        symbol_bits = to_bits(symbols, SYMBOL_BITS).reshape(n, per_block * SYMBOL_BITS)
        for is_meta in (False, True):
            rows = meta_rows == is_meta
            start = TAG_BITS + (META_BITS if is_meta else 0)
            width = min(lifting.MAX_BITS - start, symbol_bits.shape[1])
            payload[rows, start:start + width] = symbol_bits[rows, :width]
        state, capacity = embed_in_chunks(blocks, payload, predictor, params)
        fits = lifting.in_range(state)
        # Capacity depends a little on the payload (later steps predict from earlier ones): a
        # block may overflow or run short only now. Name it in the stream and go again.
        new_raw = ~fits & ~raw
        new_low = fits & ~raw & (capacity < TAG_BITS) & ~lowcap
        # Verify reads the word from meta blocks that hold all of it: keep enough of those.
        meta_whole = fits[meta] & (capacity[meta] >= TAG_BITS + META_BITS)
        too_few_whole = meta_whole.sum() < min(MIN_META_BLOCKS, len(meta))
        if not new_raw.any() and not new_low.any() and not too_few_whole:
            break
        raw |= new_raw
        lowcap |= new_low
        if too_few_whole:
            has_room = fits & (capacity >= TAG_BITS + META_BITS + META_MARGIN_BITS) & ~raw & ~lowcap
            has_room[meta[~meta_whole]] = False
            meta = meta_blocks(meta_order, has_room)
            if len(meta) < MIN_META_BLOCKS:
                raise ImageTooSmallToImmunize(_TOO_BUSY)
            meta_rows = np.isin(np.arange(n), meta)
        if len(pack_exceptions(raw, lowcap, tags)) - fitted_exceptions > slack_bytes:
            reference = None  # the list outgrew its room: fit the reference again
    else:
        raise ImageTooSmallToImmunize("could not lay out the recovery data for this photo")
    step(0.9)
    state = np.where(raw[:, None, None, None], blocks, state)
    step(1.0)
    return lifting.from_blocks(state, pixels)
