"""Verifying in the lossless mode: run the coupling steps backwards, keep the blocks whose
restored content matches its tag, rebuild the signed stream from their symbols, and rebuild
tampered blocks from its reference."""

from __future__ import annotations

import threading

import numpy as np

from app.core.immunizer import container, fountain, lifting
from app.core.immunizer.lossless.exception_list import EXC_RAW, parse_exceptions
from app.core.immunizer.lossless.layout import (
    MAX_SLOTS,
    META_BITS,
    SYMBOL_BITS,
    TAG_BITS,
    block_region,
    block_tags,
    fountain_seed,
    from_bits,
    header_bits,
    next_to_edit,
    read_meta,
    symbol_ids,
    tag_bytes,
)
from app.core.immunizer.lossless.params import PARAM_CANDIDATES, config_index, config_of, predictors
from app.core.immunizer.predictors import BLOCK, Predictor
from app.core.immunizer.types import Mode, Verdict, Verification, stepper
from app.core.progress import Progress


def _detect(blocks: np.ndarray, tags_of, n: int) -> tuple[Predictor, lifting.LiftingParams] | None:
    """Find the predictor and parameters whose backward pass yields valid tags on a sample."""
    rng = np.random.default_rng(1)
    index = np.arange(n) if n <= 384 else np.sort(rng.choice(n, 384, replace=False))
    best = None
    for predictor in predictors():
        for params in PARAM_CANDIDATES:
            restored, bits, capacity = lifting.extract(blocks[index], predictor, params)
            valid = (capacity >= TAG_BITS) & (from_bits(bits[:, :TAG_BITS]) == tags_of(restored, index))
            score = int(valid.sum())
            if best is None or score > best[0]:
                best = (score, predictor, params)
            if score >= len(index) // 2:
                return predictor, params  # clearly this one: no need to try the rest
    # A random block passes a 16-bit tag once in 65,536; 6 of 384 by chance is beyond belief.
    if best is None or best[0] < 6:
        return None
    return best[1], best[2]


def verify(pixels: np.ndarray, *, progress: Progress | None = None,
           cancel: threading.Event | None = None) -> Verification | None:
    step = stepper(progress, cancel, "verifying")

    h, w = pixels.shape[:2]
    bh, bw = h // BLOCK, w // BLOCK
    n = bh * bw
    blocks = lifting.to_blocks(pixels)

    def tags_of(restored: np.ndarray, index: np.ndarray) -> np.ndarray:
        out = np.empty(len(index), dtype=np.int64)
        for j, i in enumerate(index):
            region = block_region(pixels, int(i), bw).copy()
            region[:BLOCK, :BLOCK] = np.clip(restored[j], 0, 255)
            out[j] = tag_bytes(w, h, int(i), region)
        return out

    step(0.02)
    found = _detect(blocks, tags_of, n)
    if found is None:
        return None
    predictor, params = found
    step(0.2)

    def backward(predictor, params):
        restored, bits, capacity = lifting.extract(blocks, predictor, params)
        tags = block_tags(lifting.from_blocks(np.clip(restored, 0, 255), pixels))
        valid = (capacity >= TAG_BITS) & (from_bits(bits[:, :TAG_BITS]) == tags)
        return restored, bits, capacity, tags, valid

    restored, bits, capacity, tags, valid = backward(predictor, params)
    found_meta = read_meta(bits, capacity, valid)
    if found_meta is not None and found_meta[0][2] != config_index(predictor, params):
        config = config_of(found_meta[0][2])
        if config is not None:
            predictor, params = config
            restored, bits, capacity, tags, valid = backward(predictor, params)
            found_meta = read_meta(bits, capacity, valid)
    step(0.45)
    stream = None
    if found_meta is not None:
        (k, per_block, _config), meta = found_meta
        stream = _decode_stream(bits, capacity, valid, meta, w, h, k, per_block)
    step(0.7)
    if stream is None or stream.width != w or stream.height != h:
        # Immunized (the tags prove it) but too much was changed to rebuild the signed stream.
        mask = _block_mask(~valid, pixels.shape)
        return Verification(Verdict.TAMPERED, Mode.LOSSLESS, mask, None, float(mask.mean()),
                            details={"recovery": "too much of the photo was changed to rebuild its recovery data"})

    # Blocks named in the exception list carry no tag of their own.
    restored_final = restored.copy()
    for index, kind, tag in parse_exceptions(stream.exceptions, n):
        if kind == EXC_RAW:  # left untouched: its tag is of the pixels as received
            valid[index] = tag_bytes(w, h, index, block_region(pixels, index, bw)) == tag
            restored_final[index] = blocks[index]
        else:
            valid[index] = tags[index] == tag
    recovered = lifting.from_blocks(np.clip(restored_final, 0, 255), pixels)
    tampered_blocks = ~valid
    if not tampered_blocks.any() and container.pixel_digest(recovered) == stream.digest:
        return Verification(Verdict.AUTHENTIC, Mode.LOSSLESS, np.zeros((h, w), bool), recovered, 0.0,
                            signer=stream.public_key, signature_valid=True, bit_exact=True)
    reference = container.decode_reference(stream.reference, w, h)
    step(0.85)
    if not tampered_blocks.any():
        # Every tag matches but the digest doesn't: someone recomputed tags after editing.
        # Fall back to comparing with the signed reference to say where.
        tampered_blocks = _differs_from_reference(recovered, reference, bw, bh)
    block_mask = _block_mask(tampered_blocks, pixels.shape)
    mask = refine_mask(pixels, reference, block_mask)
    # Whole tampered blocks come from the reference: the pixels an edit missed in them can't be
    # restored exactly any more, and the reference is the better guess for the rest.
    recovered = np.where(block_mask[..., None], reference, recovered)
    step(1.0)
    return Verification(Verdict.TAMPERED, Mode.LOSSLESS, mask, recovered, float(mask.mean()),
                        signer=stream.public_key, signature_valid=True, bit_exact=False,
                        details={"tampered_blocks": int(tampered_blocks.sum())})



def _decode_stream(bits, capacity, valid, meta, w, h, k: int, per_block: int) -> container.Stream | None:
    n = len(bits)
    header = header_bits(n, meta)
    slots = np.where(valid, np.clip((capacity - header) // SYMBOL_BITS, 0, min(per_block, MAX_SLOTS)), 0)
    ids, values = [], []
    ids_of = symbol_ids(n)
    for is_meta in (False, True):
        rows = np.flatnonzero(valid & (np.isin(np.arange(n), meta) == is_meta))
        start = TAG_BITS + (META_BITS if is_meta else 0)
        for s in range(MAX_SLOTS):
            have = rows[slots[rows] > s]
            if len(have) == 0:
                break
            ids.append(ids_of[have, s])
            values.append(from_bits(bits[have, start + s * SYMBOL_BITS:start + (s + 1) * SYMBOL_BITS]))
    if not ids:
        return None
    ids = np.concatenate(ids)
    values = np.concatenate(values).astype(np.uint8)
    seed = fountain_seed(w, h, k)
    # A block whose tag passes by chance (1 in 65,536: an untouched exception block, or an edited
    # one) feeds wrong symbols, and one wrong symbol spoils the whole stream; the signature then
    # fails. There are usually far more symbols than needed, so decode again from random subsets
    # of the blocks: one that leaves the impostor out yields the signed stream. An impostor is an
    # edited block, so it nearly always has edited neighbours: the first retry leaves out the
    # blocks next to an edit, which costs few symbols (the random subsets cost a quarter, more
    # than a large edit leaves to spare).
    block_of = ids // MAX_SLOTS
    blocks_with_symbols = np.unique(block_of)
    rng = np.random.default_rng(k)
    near_edit = next_to_edit(valid, w // BLOCK, h // BLOCK)
    for attempt in range(8):
        if attempt == 0:
            keep = np.ones(len(ids), dtype=bool)
        elif attempt == 1:
            keep = ~near_edit[block_of]
        else:
            dropped = rng.choice(blocks_with_symbols, size=len(blocks_with_symbols) // 4, replace=False)
            keep = ~np.isin(block_of, dropped)
        if keep.sum() < k * 1.02:
            continue
        data = fountain.decode(k, ids[keep], values[keep], seed)
        if data is None:
            continue
        try:
            return container.Stream.parse(data.tobytes())
        except container.StreamError:
            continue
    return None


def _block_mask(tampered_blocks: np.ndarray, shape) -> np.ndarray:
    h, w = shape[:2]
    return lifting.grid_mask(tampered_blocks.reshape(h // BLOCK, w // BLOCK), w, h)


def _differs_from_reference(recovered, reference, bw, bh) -> np.ndarray:
    diff = np.abs(recovered.astype(np.int32) - reference.astype(np.int32)).max(axis=2)
    core = diff[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK).transpose(0, 2, 1, 3)
    return (core.reshape(bh * bw, -1).mean(axis=1) > 24)


def refine_mask(pixels: np.ndarray, reference: np.ndarray, block_mask: np.ndarray) -> np.ndarray:
    """Pixel-accurate edges: a tampered block on the border of an edit is usually only partly
    changed. Its untouched pixels are still the immunized ones, which sit as close to the
    reference as the intact blocks around it do; changed pixels usually don't. So inside border
    blocks a pixel counts as tampered when it is further from the reference than the intact
    neighbourhood ever is. Blocks inside the edit stay whole."""
    from scipy import ndimage

    h, w = block_mask.shape
    diff = np.abs(pixels.astype(np.int16) - reference.astype(np.int16)).max(axis=2).astype(np.float32)
    diff = ndimage.uniform_filter(diff, 3)
    ring = ndimage.binary_dilation(block_mask, iterations=BLOCK) & ~block_mask
    if not ring.any():
        return block_mask
    threshold = max(8.0, float(np.percentile(diff[ring], 98)))
    interior = ndimage.binary_erosion(block_mask, structure=np.ones((3, 3)), iterations=BLOCK, border_value=1)
    # Edits have smooth outlines, blocks have staircase ones: smoothing the block mask rounds the
    # stairs back towards the real outline (a straight edge on the grid stays where it is).
    smooth = ndimage.gaussian_filter(block_mask.astype(np.float32), 3.0) >= 0.5
    changed = ndimage.binary_closing(diff > threshold, structure=np.ones((3, 3)))
    refined = ndimage.binary_fill_holes((interior | (smooth & changed)) & block_mask)
    # A block whose tag failed was changed, even if too subtly to see against the reference:
    # if refining left nothing of it, flag it whole.
    bh, bw = h // BLOCK, w // BLOCK
    per_block = refined[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK).any(axis=(1, 3))
    emptied = np.kron(~per_block, np.ones((BLOCK, BLOCK), dtype=bool))
    refined[: bh * BLOCK, : bw * BLOCK] |= emptied & block_mask[: bh * BLOCK, : bw * BLOCK]
    return refined
