"""Lossless mode: reversible embedding for channels that keep files intact.

Immunizing:
1. Pick the coupling parameters (threshold, busy-context cut-off) that give the most capacity
   while keeping PSNR ≥ 40.5 dB, by dry runs on a sample of blocks.
2. Build the signed stream: a digest of the original pixels, an AVIF reference of the photo as
   large as capacity allows (for rebuilding tampered areas), and the tags of blocks that cannot
   carry their own.
3. Every 8×8 block carries a 16-bit tag of its *original* content, then LT-coded byte symbols
   of the stream (named by block and slot), embedded by the integer coupling steps.

Verifying runs the steps backwards: blocks whose restored content matches its tag are intact
(and now restored bit for bit); their symbols rebuild the stream; the signature proves it;
tampered blocks are rebuilt from the reference.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

import numpy as np

from app.core.immunizer import container, fountain, lifting
from app.core.immunizer.errors import ImageTooSmallToImmunize
from app.core.immunizer.predictors import BLOCK, ClassicalPredictor, Predictor
from app.core.immunizer.types import CancelFn, Mode, ProgressFn, Verdict, Verification, checkpoint, stepper

TAG_BITS = 16
SYMBOL_BITS = 8          # byte symbols: busy blocks carry only a few dozen bits
MAX_STREAM_BYTES = 384 * 1024  # bounds fountain decoding on 12 MP photos (~5 s)
META_BITS = 48           # k (24 bits), symbol slots per block (8), config (8), check (8); in up to META_BLOCKS blocks
META_BLOCKS = 64
_TOO_BUSY = "this photo is too small or too busy to carry its recovery data losslessly; try the robust mode"
MIN_META_BLOCKS = 4     # fewer and one edit could take every copy of the word
META_MARGIN_BITS = 8    # room a meta block should have to spare in the dry run
MIN_PSNR = 40.5          # the bar is 40 dB; keep a margin
FOUNTAIN_OVERHEAD = 1.12
TAMPER_HEADROOM = 0.70   # the stream must survive losing 30 % of the symbols

MIN_SSIM = 0.985         # the bar is 0.98 (scikit-image SSIM); estimated here per block
# (threshold, tau, flat) candidates; immunize picks the one with the most capacity that keeps
# PSNR and SSIM above the bars, verify tries each on a sample of blocks.
PARAM_CANDIDATES = [lifting.LiftingParams(t, tau, flat) for t, tau, flat in
                    ((1, 24, -1), (2, 48, 16), (2, 1000, 8), (2, 1000, 16), (3, 48, 16), (3, 1000, 8),
                     (3, 1000, 16), (3, 1000, 24), (4, 1000, 24), (4, 1000, 32))]

# Blocks whose tag travels in the signed stream instead of in the block itself:
_EXC_RAW = 1      # left untouched (embedding would push a pixel past 0 or 255)
_EXC_LOWCAP = 2   # too busy to carry its own tag
# How the list is written: bitmaps of both kinds (zlib) then the tags, ~2.2 bytes a block on
# photos with many (see `_exceptions`). The first format spent 7 bytes on each (index, kind,
# tag), which left busy photos with clipped areas no room for a reference; verify still reads it.
_EXC_COMPACT = 2
_EXC_ENTRY = struct.Struct(">IBH")  # the first format's entry; its index's top byte is 0


def predictors() -> list[Predictor]:
    """Every predictor verify knows, the default first: the learned one (more capacity, so a
    better reference: +0.3 to +1.5 dB on the benchmark, at about 1.5× the time; see
    docs/benchmarks.md), then the classical one. Its weights ship inside the package; when they
    are missing this raises `PredictorWeightsMissing` instead of quietly dropping it, since an
    installation without it could not verify copies made by every other one."""
    global _PREDICTORS
    if _PREDICTORS is None:
        from app.core.immunizer.learned import LearnedPredictor

        learned = LearnedPredictor()
        learned.predict(np.zeros((1, BLOCK, BLOCK, 3), np.int32), 0, 0)  # loads the weights
        _PREDICTORS = [learned, ClassicalPredictor()]
    return _PREDICTORS


# Stable numbers for the meta word (the list above depends on what loads on this machine).
PREDICTOR_IDS = {"classical": 0, "learned": 1}


_PREDICTORS: list[Predictor] | None = None


# --- block tags and layout ---------------------------------------------------------------------

def _block_region(pixels: np.ndarray, index: int, bw: int) -> np.ndarray:
    """What a block's tag covers: its 8×8 pixels, plus for edge blocks the strip of pixels
    beyond the last whole block (so those are covered too)."""
    h, w = pixels.shape[:2]
    bh = h // BLOCK
    r, c = divmod(index, bw)
    y1 = (r + 1) * BLOCK if r < bh - 1 else h
    x1 = (c + 1) * BLOCK if c < bw - 1 else w
    return pixels[r * BLOCK:y1, c * BLOCK:x1]


def _block_tags(pixels: np.ndarray, indices=None) -> np.ndarray:
    """16-bit keyless tag of each block's content (of the blocks in `indices`, default all)."""
    h, w = pixels.shape[:2]
    bw = w // BLOCK
    if indices is None:
        indices = range((h // BLOCK) * bw)
    return np.array([_tag_bytes(w, h, int(i), _block_region(pixels, int(i), bw)) for i in indices],
                    dtype=np.int64)


def _meta_order(n_blocks: int, width: int, height: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(struct.pack(">II", width, height) + b"meta").digest()[:8], "big")
    return np.random.default_rng(seed).permutation(n_blocks)


def _meta_blocks(order: np.ndarray, has_room: np.ndarray) -> np.ndarray:
    """The blocks that carry the meta word: the first META_BLOCKS, in an order seeded by the
    size, of those with room for it. On busy photos most blocks carry fewer than the 64 bits
    a tag and the word take, so a fixed set would lose the word; verify needs no list, it
    recognises these blocks by the word itself (see `_read_meta`)."""
    return np.sort(order[has_room[order]][:META_BLOCKS])


def _fountain_seed(width: int, height: int, k: int) -> int:
    return int.from_bytes(hashlib.sha256(struct.pack(">III", width, height, k)).digest()[:4], "big")


def _meta_word(k: int, per_block: int, config: int) -> int:
    """k: stream bytes; per_block: symbol slots used per block; config: predictor and parameters
    (16 × predictor index + parameter index). Smooth photos decode alike under several
    parameter sets, so the sampled guess is confirmed from here."""
    check = hashlib.sha256(k.to_bytes(3, "big") + bytes([per_block, config]) + b"k").digest()[0]
    return (k << 24) | (per_block << 16) | (config << 8) | check


def _config_index(predictor: Predictor, params: lifting.LiftingParams) -> int:
    return 16 * PREDICTOR_IDS[predictor.name] + PARAM_CANDIDATES.index(params)


def _config_of(index: int) -> tuple[Predictor, lifting.LiftingParams] | None:
    by_id = {PREDICTOR_IDS[p.name]: p for p in predictors()}
    if index // 16 not in by_id or index % 16 >= len(PARAM_CANDIDATES):
        return None  # immunized with a predictor this installation lacks
    return by_id[index // 16], PARAM_CANDIDATES[index % 16]


def _read_meta(bits, capacity, valid) -> tuple[tuple[int, int, int], np.ndarray] | None:
    """(k, per_block, config) and the blocks that carry them. The word is the self-checking
    one that the most intact blocks hold whole in the bits after their tag (other blocks hold
    symbol bits there, which repeat a 48-bit word by chance about never)."""
    rich = np.flatnonzero(valid & (capacity >= TAG_BITS + META_BITS))
    if len(rich) == 0:
        return None
    words = _from_bits(bits[rich, TAG_BITS:TAG_BITS + META_BITS])
    values, counts = np.unique(words, return_counts=True)
    for index in np.argsort(-counts, kind="stable")[:64]:
        word = int(values[index])
        fields = (word >> 24, (word >> 16) & 0xFF, (word >> 8) & 0xFF)
        if _meta_word(*fields) == word:
            return fields, _meta_carriers(bits, capacity, valid, word)
    return None


def _meta_carriers(bits, capacity, valid, word: int) -> np.ndarray:
    """Blocks holding the meta word, or as much of it as they had room for: a chosen block
    can end up with less room than planned (capacity depends a little on the payload). Such a
    block carries no symbols, and verify must not read the word's bits as symbols. A symbol
    block that matches a short prefix by chance is only skipped, which costs a symbol or two,
    never a wrong one."""
    room = np.clip(capacity - TAG_BITS, 0, META_BITS)
    expected = _to_bits(np.array(word), META_BITS)
    matches = bits[:, TAG_BITS:TAG_BITS + META_BITS] == expected[None, :]
    within = np.arange(META_BITS)[None, :] < room[:, None]
    return np.flatnonzero(valid & (room > 0) & np.all(matches | ~within, axis=1))


def _header_bits(n_blocks: int, meta: np.ndarray) -> np.ndarray:
    bits = np.full(n_blocks, TAG_BITS)
    bits[meta] += META_BITS
    return bits


def _to_bits(values: np.ndarray, width: int) -> np.ndarray:
    shifts = np.arange(width - 1, -1, -1)
    return ((values[..., None].astype(np.int64) >> shifts) & 1).astype(np.uint8)


def _from_bits(bits: np.ndarray) -> np.ndarray:
    weights = 1 << np.arange(bits.shape[-1] - 1, -1, -1, dtype=np.int64)
    return (bits.astype(np.int64) * weights).sum(axis=-1)


MAX_SLOTS = (lifting.MAX_BITS - TAG_BITS) // SYMBOL_BITS


def _symbol_ids(n_blocks: int) -> np.ndarray:
    return (np.arange(n_blocks, dtype=np.int64)[:, None] * MAX_SLOTS + np.arange(MAX_SLOTS)[None, :])


# --- choosing parameters -----------------------------------------------------------------------

def _choose(blocks: np.ndarray, rng: np.random.Generator, predictor: Predictor) -> lifting.LiftingParams:
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


def _params_bytes(predictor: Predictor, params: lifting.LiftingParams) -> bytes:
    name = predictor.name.encode()
    return bytes([len(name)]) + name + params.encode()


# --- immunize ----------------------------------------------------------------------------------

def immunize(pixels: np.ndarray, signing_private: bytes, *, progress: ProgressFn | None = None,
             cancel: CancelFn | None = None, predictor: Predictor | None = None) -> np.ndarray:
    """`predictor` defaults to the first of `predictors()` (bench/predictor_compare.py passes each)."""
    step = stepper(progress, cancel, "immunizing")

    h, w = pixels.shape[:2]
    rng = np.random.default_rng(int.from_bytes(container.pixel_digest(pixels)[:8], "big"))
    blocks = lifting.to_blocks(pixels)
    n = len(blocks)
    step(0.02)
    predictor = predictor or predictors()[0]
    params = _choose(blocks, rng, predictor)
    step(0.15)

    # Dry run for the exact capacity layout: which blocks overflow, how much each carries.
    probe_bits = rng.integers(0, 2, (n, lifting.MAX_BITS), dtype=np.uint8)
    state, capacity = embed_in_chunks(blocks, probe_bits, predictor, params)
    ok = lifting.in_range(state)
    meta_order = _meta_order(n, w, h)
    meta = _meta_blocks(meta_order, ok & (capacity >= TAG_BITS + META_BITS + META_MARGIN_BITS))
    if len(meta) < MIN_META_BLOCKS:  # a busy photo: take blocks without the margin too
        meta = _meta_blocks(meta_order, ok & (capacity >= TAG_BITS + META_BITS))
    if len(meta) < MIN_META_BLOCKS:
        raise ImageTooSmallToImmunize(_TOO_BUSY)
    header = _header_bits(n, meta)
    slots = np.where(ok, np.clip((capacity - header) // SYMBOL_BITS, 0, MAX_SLOTS), 0)
    step(0.3)

    tags = _block_tags(pixels)
    raw = ~ok
    lowcap = ok & (capacity < TAG_BITS)
    meta_rows = np.isin(np.arange(n), meta)
    ids = _symbol_ids(n)
    # Room for blocks that turn out to overflow or run short only in the final pass (each
    # costs its 2-byte tag and a little bitmap).
    slack_bytes = 3 * (n // 50 + 8)
    total_symbols = int(slots.sum())
    k_budget = int(total_symbols * TAMPER_HEADROOM / FOUNTAIN_OVERHEAD) - 32
    params_bytes = _params_bytes(predictor, params)
    digest = container.pixel_digest(pixels)
    reference = None
    fitted_exceptions = 0
    for _attempt in range(6):
        checkpoint()
        exceptions = _exceptions(raw, lowcap, tags)
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
        payload[:, :TAG_BITS] = _to_bits(tags, TAG_BITS)
        payload[meta, TAG_BITS:TAG_BITS + META_BITS] = _to_bits(
            np.full(len(meta), _meta_word(k, per_block, _config_index(predictor, params))), META_BITS)
        symbols = fountain.encode(data, ids[:, :per_block].reshape(-1), _fountain_seed(w, h, k)).reshape(n, per_block)
        symbol_bits = _to_bits(symbols, SYMBOL_BITS).reshape(n, per_block * SYMBOL_BITS)
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
            meta = _meta_blocks(meta_order, has_room)
            if len(meta) < MIN_META_BLOCKS:
                raise ImageTooSmallToImmunize(_TOO_BUSY)
            meta_rows = np.isin(np.arange(n), meta)
        if len(_exceptions(raw, lowcap, tags)) - fitted_exceptions > slack_bytes:
            reference = None  # the list outgrew its room: fit the reference again
    else:
        raise ImageTooSmallToImmunize("could not lay out the recovery data for this photo")
    step(0.9)
    state = np.where(raw[:, None, None, None], blocks, state)
    step(1.0)
    return lifting.from_blocks(state, pixels)


# --- verify ------------------------------------------------------------------------------------

def _detect(blocks: np.ndarray, tags_of, n: int) -> tuple[Predictor, lifting.LiftingParams] | None:
    """Find the predictor and parameters whose backward pass yields valid tags on a sample."""
    rng = np.random.default_rng(1)
    index = np.arange(n) if n <= 384 else np.sort(rng.choice(n, 384, replace=False))
    best = None
    for predictor in predictors():
        for params in PARAM_CANDIDATES:
            restored, bits, capacity = lifting.extract(blocks[index], predictor, params)
            valid = (capacity >= TAG_BITS) & (_from_bits(bits[:, :TAG_BITS]) == tags_of(restored, index))
            score = int(valid.sum())
            if best is None or score > best[0]:
                best = (score, predictor, params)
            if score >= len(index) // 2:
                return predictor, params  # clearly this one: no need to try the rest
    # A random block passes a 16-bit tag once in 65,536; 6 of 384 by chance is beyond belief.
    if best is None or best[0] < 6:
        return None
    return best[1], best[2]


def verify(pixels: np.ndarray, *, progress: ProgressFn | None = None,
           cancel: CancelFn | None = None) -> Verification | None:
    step = stepper(progress, cancel, "verifying")

    h, w = pixels.shape[:2]
    bh, bw = h // BLOCK, w // BLOCK
    n = bh * bw
    blocks = lifting.to_blocks(pixels)

    def tags_of(restored: np.ndarray, index: np.ndarray) -> np.ndarray:
        out = np.empty(len(index), dtype=np.int64)
        for j, i in enumerate(index):
            region = _block_region(pixels, int(i), bw).copy()
            region[:BLOCK, :BLOCK] = np.clip(restored[j], 0, 255)
            out[j] = _tag_bytes(w, h, int(i), region)
        return out

    step(0.02)
    found = _detect(blocks, tags_of, n)
    if found is None:
        return None
    predictor, params = found
    step(0.2)

    def backward(predictor, params):
        restored, bits, capacity = lifting.extract(blocks, predictor, params)
        tags = _block_tags(lifting.from_blocks(np.clip(restored, 0, 255), pixels))
        valid = (capacity >= TAG_BITS) & (_from_bits(bits[:, :TAG_BITS]) == tags)
        return restored, bits, capacity, tags, valid

    restored, bits, capacity, tags, valid = backward(predictor, params)
    found_meta = _read_meta(bits, capacity, valid)
    if found_meta is not None and found_meta[0][2] != _config_index(predictor, params):
        config = _config_of(found_meta[0][2])
        if config is not None:
            predictor, params = config
            restored, bits, capacity, tags, valid = backward(predictor, params)
            found_meta = _read_meta(bits, capacity, valid)
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
    for index, kind, tag in _parse_exceptions(stream.exceptions, n):
        if kind == _EXC_RAW:  # left untouched: its tag is of the pixels as received
            valid[index] = _tag_bytes(w, h, index, _block_region(pixels, index, bw)) == tag
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


def _tag_bytes(w: int, h: int, index: int, region: np.ndarray) -> int:
    data = struct.pack(">III", w, h, index) + np.ascontiguousarray(region, dtype=np.uint8).tobytes()
    digest = hashlib.blake2b(data, digest_size=2, person=b"sanctum-imm-tag").digest()
    return int.from_bytes(digest, "big") >> (16 - TAG_BITS)


def _exceptions(raw: np.ndarray, lowcap: np.ndarray, tags: np.ndarray) -> bytes:
    """The exception list: format byte, length-prefixed zlib of the two block bitmaps (raw,
    then low-capacity; they cluster in clipped or busy areas and compress to a few hundred
    bytes), then the 16-bit tag of every listed block in block order."""
    listed = raw | lowcap
    if not listed.any():
        return b""
    bitmaps = zlib.compress(np.packbits(np.concatenate([raw, lowcap & ~raw])).tobytes(), 9)
    tag_bytes = tags[listed].astype(">u2").tobytes()
    return bytes([_EXC_COMPACT]) + struct.pack(">I", len(bitmaps)) + bitmaps + tag_bytes


def _parse_exceptions(data: bytes, n: int) -> list[tuple[int, int, int]]:
    """(block index, kind, tag) of every listed block. The list is signed, so it is ours, but
    its lengths are still checked rather than trusted."""
    if not data:
        return []
    if data[0] != _EXC_COMPACT:  # the first format: fixed entries
        entries = (_EXC_ENTRY.unpack_from(data, offset)
                   for offset in range(0, len(data) - _EXC_ENTRY.size + 1, _EXC_ENTRY.size))
        return [(index, kind, tag) for index, kind, tag in entries if index < n]
    if len(data) < 5:
        return []
    (zlen,) = struct.unpack_from(">I", data, 1)
    try:
        packed = zlib.decompressobj().decompress(data[5:5 + zlen], (2 * n + 7) // 8)
        bits = np.unpackbits(np.frombuffer(packed, dtype=np.uint8))
    except zlib.error:
        return []
    if len(bits) < 2 * n:
        return []
    raw, lowcap = bits[:n].astype(bool), bits[n:2 * n].astype(bool)
    listed = np.flatnonzero(raw | lowcap)
    tag_bytes = data[5 + zlen:]
    if len(tag_bytes) != 2 * len(listed):
        return []
    tags = np.frombuffer(tag_bytes, dtype=">u2")
    return [(int(i), _EXC_RAW if raw[i] else _EXC_LOWCAP, int(t)) for i, t in zip(listed, tags, strict=True)]


def _decode_stream(bits, capacity, valid, meta, w, h, k: int, per_block: int) -> container.Stream | None:
    n = len(bits)
    header = _header_bits(n, meta)
    slots = np.where(valid, np.clip((capacity - header) // SYMBOL_BITS, 0, min(per_block, MAX_SLOTS)), 0)
    ids, values = [], []
    symbol_ids = _symbol_ids(n)
    for is_meta in (False, True):
        rows = np.flatnonzero(valid & (np.isin(np.arange(n), meta) == is_meta))
        start = TAG_BITS + (META_BITS if is_meta else 0)
        for s in range(MAX_SLOTS):
            have = rows[slots[rows] > s]
            if len(have) == 0:
                break
            ids.append(symbol_ids[have, s])
            values.append(_from_bits(bits[have, start + s * SYMBOL_BITS:start + (s + 1) * SYMBOL_BITS]))
    if not ids:
        return None
    ids = np.concatenate(ids)
    values = np.concatenate(values).astype(np.uint8)
    seed = _fountain_seed(w, h, k)
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
    next_to_edit = _next_to_edit(valid, w // BLOCK, h // BLOCK)
    for attempt in range(8):
        if attempt == 0:
            keep = np.ones(len(ids), dtype=bool)
        elif attempt == 1:
            keep = ~next_to_edit[block_of]
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


def _next_to_edit(valid: np.ndarray, bw: int, bh: int) -> np.ndarray:
    """Intact-looking blocks with an edited (tag-failing) block among their eight neighbours."""
    edited = np.pad(~valid.reshape(bh, bw), 1)
    near = np.zeros((bh, bw), dtype=bool)
    for dy in range(3):
        for dx in range(3):
            near |= edited[dy:dy + bh, dx:dx + bw]
    return (near & valid.reshape(bh, bw)).ravel()


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
