"""The immunizer on real photos: exact restoration, tamper localization, recovery, robustness,
signatures, the CLI and sharing. Sizes are kept small so the suite stays quick."""

from __future__ import annotations

import io
import json
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core import fingerprint
from app.core.immunizer import Mode, Verdict, fountain, immunize, lifting, verify
from app.core.immunizer.errors import ImageTooSmallToImmunize, ImmunizeCancelled
from app.core.immunizer.lossless import exception_list
from app.core.immunizer.lossless import layout as lossless_layout
from app.core.immunizer.predictors import ClassicalPredictor

PHOTOS = Path(__file__).parent / "data" / "photos"


def photo(name: str, size: tuple[int, int]) -> np.ndarray:
    with Image.open(PHOTOS / name) as image:
        return np.asarray(image.convert("RGB").resize(size, Image.LANCZOS))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def f1(mask: np.ndarray, truth: np.ndarray) -> float:
    return 2 * (mask & truth).sum() / (mask.sum() + truth.sum())


def jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGB"))


def paste(pixels: np.ndarray, donor: np.ndarray, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    y0, y1, x0, x1 = box
    out = pixels.copy()
    out[y0:y1, x0:x1] = donor[y0:y1, x0:x1]
    truth = np.zeros(pixels.shape[:2], dtype=bool)
    truth[y0:y1, x0:x1] = True
    return out, truth


@pytest.fixture(scope="module")
def key() -> bytes:
    return fingerprint.new_signing_key()


@pytest.fixture(scope="module")
def original() -> np.ndarray:
    return photo("kodim23.png", (384, 256))


@pytest.fixture(scope="module")
def lossless_copy(original, key) -> np.ndarray:
    return immunize(original, Mode.LOSSLESS, signing_private=key)


@pytest.fixture(scope="module")
def robust_original() -> np.ndarray:
    return photo("kodim04.png", (512, 768))


@pytest.fixture(scope="module")
def robust_copy(robust_original, key) -> np.ndarray:
    return immunize(robust_original, Mode.ROBUST, signing_private=key)


# --- building blocks ---------------------------------------------------------------------------

def test_the_reference_keeps_only_the_av1_data_and_rebuilds_the_avif_file_exactly():
    from app.core.immunizer import container

    out = io.BytesIO()
    Image.fromarray(photo("kodim23.png", (384, 256))).save(out, "AVIF", quality=20, speed=container.SEARCH_SPEED)
    whole = out.getvalue()
    compact = container.compact_avif(whole)
    assert len(compact) < len(whole) - 250  # the container boxes are gone
    assert container.expand_reference(compact) == whole
    # references written before the compact form (whole AVIF files) still read
    assert np.array_equal(container.decode_reference(whole, 384, 256), container.decode_reference(compact, 384, 256))
    with pytest.raises(ValueError):
        container.decode_reference(compact[:10], 384, 256)


def test_the_reference_fits_its_budget_and_resembles_the_photo():
    from app.core.immunizer import container

    original = photo("kodim23.png", (768, 512))
    for budget in (1500, 4000):
        data, scale = container.encode_reference(original, budget)
        assert len(data) <= budget and scale in (1.0, 0.5, 0.25, 0.125)
        assert psnr(container.decode_reference(data, 768, 512), original) > 24


def test_the_polished_reference_fits_the_same_budget_and_comes_closer():
    from app.core.immunizer import container

    original = photo("kodim23.png", (768, 512))
    quick, quick_scale = container.encode_reference(original, 3000)
    polished, polished_scale = container.encode_reference(original, 3000, polish=True)
    assert len(polished) <= 3000 and polished_scale == quick_scale
    assert container.can_polish(768, 512, polished_scale) and not container.can_polish(4000, 3000, 0.25)
    closeness = [psnr(container.decode_reference(data, 768, 512), original) for data in (quick, polished)]
    assert closeness[1] > closeness[0]


def test_robust_change_is_shared_out_among_the_channels_by_their_weight_in_luminance(robust_original, robust_copy):
    change = robust_copy.astype(float) - robust_original
    moved = np.abs(change).sum(axis=(0, 1))
    assert moved[1] > moved[0] > moved[2]  # green most, blue least: the least change for the luminance
    # The same change to all three would cost as much per channel as in luminance; this, 0.75x.
    luminance_change = change @ np.array([0.299, 0.587, 0.114])
    assert np.mean(change ** 2) < 0.85 * np.mean(luminance_change ** 2)


def test_fountain_rebuilds_data_from_any_large_enough_subset():
    rng = np.random.default_rng(3)
    data = rng.integers(0, 1 << 16, 3000).astype(np.uint16)
    ids = rng.choice(100_000, 3600, replace=False)
    symbols = fountain.encode(data, ids, seed=11)
    assert np.array_equal(fountain.decode(3000, ids, symbols, seed=11), data)
    # Far too few symbols: it says so instead of returning garbage.
    assert fountain.decode(3000, ids[:1500], symbols[:1500], seed=11) is None


def test_fountain_decodes_near_its_margin_where_peeling_alone_stalls(monkeypatch):
    """3 % more symbols than words: peeling stalls with words left, elimination finishes."""
    rng = np.random.default_rng(5)
    outcomes = {"with elimination": 0, "peeling only": 0}
    for _ in range(5):
        data = rng.integers(0, 256, 2000).astype(np.uint8)
        ids = rng.choice(50_000, 2060, replace=False)
        symbols = fountain.encode(data, ids, seed=3)
        decoded = fountain.decode(2000, ids, symbols, seed=3)
        outcomes["with elimination"] += decoded is not None and np.array_equal(decoded, data)
        with monkeypatch.context() as patch:
            patch.setattr(fountain, "MAX_ELIMINATION_WORDS", 0)
            outcomes["peeling only"] += fountain.decode(2000, ids, symbols, seed=3) is not None
    assert outcomes == {"with elimination": 5, "peeling only": 0}


def test_blocks_next_to_an_edit_are_the_first_suspects():
    valid = np.ones((5, 6), dtype=bool)
    valid[2, 2] = False  # one edited block
    near = lossless_layout.next_to_edit(valid.ravel(), 6, 5).reshape(5, 6)
    expected = np.zeros((5, 6), dtype=bool)
    expected[1:4, 1:4] = True
    expected[2, 2] = False  # the edited block itself is not "intact-looking"
    assert np.array_equal(near, expected)


def test_coupling_steps_are_exactly_invertible_on_a_photo(original):
    blocks = lifting.to_blocks(original)
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2, (len(blocks), lifting.MAX_BITS), dtype=np.uint8)
    params = lifting.LiftingParams(2, 48)
    state, capacity = lifting.embed(blocks, bits, ClassicalPredictor(), params)
    fits = lifting.in_range(state)
    assert fits.mean() > 0.9 and capacity[fits].mean() > 40
    restored, payload, read_capacity = lifting.extract(state[fits], ClassicalPredictor(), params)
    assert np.array_equal(restored, blocks[fits])
    assert np.array_equal(read_capacity, capacity[fits])
    for row, cap in enumerate(read_capacity[:20]):
        assert np.array_equal(payload[row, :cap], bits[np.flatnonzero(fits)[row], :cap])


# --- lossless mode -----------------------------------------------------------------------------

def test_lossless_copy_is_close_and_restores_bit_for_bit(original, lossless_copy, key):
    assert lossless_copy.shape == original.shape
    assert psnr(lossless_copy, original) >= 40.0
    result = verify(lossless_copy)
    assert result.verdict is Verdict.AUTHENTIC and result.mode is Mode.LOSSLESS
    assert result.bit_exact and np.array_equal(result.recovered, original)
    assert result.signer == fingerprint.public_key_of(key) and result.signature_valid
    assert not result.mask.any() and result.tampered_fraction == 0.0
    assert json.loads(json.dumps(result.to_json()))["verdict"] == "authentic"


def test_lossless_tampering_is_localized_and_the_rest_restored_exactly(original, lossless_copy):
    donor = photo("pizza.jpg", (384, 256))
    tampered, truth = paste(lossless_copy, donor, (100, 164, 140, 236))
    result = verify(tampered)
    assert result.verdict is Verdict.TAMPERED and result.mode is Mode.LOSSLESS
    assert result.mask.shape == original.shape[:2]
    assert f1(result.mask, truth) > 0.95
    # Every 8×8 block the edit did not reach is restored bit for bit.
    h, w = result.mask.shape
    reached = result.mask.reshape(h // 8, 8, w // 8, 8).any(axis=(1, 3))
    untouched = ~np.kron(reached, np.ones((8, 8), dtype=bool))
    assert np.array_equal(result.recovered[untouched], original[untouched])
    # The pasted pizza is gone: the region is rebuilt close to the original.
    assert psnr(result.recovered[truth], original[truth]) > psnr(tampered[truth], original[truth]) + 10
    assert psnr(result.recovered[truth], original[truth]) > 28


def test_a_photo_with_large_clipped_areas_is_immunized_losslessly(key):
    """A third of this photo's values sit at 0 or 255, so hundreds of blocks would overflow
    and carry nothing: their tags travel in the signed stream (compactly) and the meta word
    goes to blocks with room for it. Before, Sanctum called such photos too busy."""
    contrasty = np.clip((photo("kodim04.png", (384, 256)).astype(float) - 128) * 2 + 128, 0, 255).astype(np.uint8)
    assert np.mean((contrasty == 0) | (contrasty == 255)) > 0.3
    copy = immunize(contrasty, Mode.LOSSLESS, signing_private=key)
    result = verify(copy)
    assert result.verdict is Verdict.AUTHENTIC and np.array_equal(result.recovered, contrasty)
    tampered, truth = paste(copy, photo("pizza.jpg", (384, 256)), (64, 128, 96, 192))
    result = verify(tampered)
    assert result.verdict is Verdict.TAMPERED and f1(result.mask, truth) > 0.9
    assert psnr(result.recovered[truth], contrasty[truth]) > psnr(tampered[truth], contrasty[truth]) + 6


def test_exception_lists_round_trip_and_hostile_ones_are_ignored():
    rng = np.random.default_rng(3)
    n = 4096
    raw, lowcap = rng.random(n) < 0.2, rng.random(n) < 0.05
    tags = rng.integers(0, 1 << 16, n)
    listed = np.flatnonzero(raw | lowcap)
    packed = exception_list.pack_exceptions(raw, lowcap, tags)
    assert len(packed) < 3 * len(listed)  # the first format took 7 bytes a block
    expected = [(int(i), exception_list.EXC_RAW if raw[i] else exception_list.EXC_LOWCAP, int(tags[i])) for i in listed]
    assert exception_list.parse_exceptions(packed, n) == expected
    # Lists written in the first format (index, kind, tag) still read.
    first_format = b"".join(exception_list.EXC_ENTRY.pack(*entry) for entry in expected)
    assert exception_list.parse_exceptions(first_format, n) == expected
    # Wrong lengths, cut-off data and a zlib bomb read as no list rather than an error.
    for hostile in (packed[:-1], packed[:9], b"\x02", b"\x02\xff\xff\xff\xff",
                    bytes([2]) + (1 << 20).to_bytes(4, "big") + zlib.compress(bytes(50_000_000))):
        assert exception_list.parse_exceptions(hostile, n) == []


def test_meta_word_is_found_whole_and_blocks_left_with_part_of_it_carry_no_symbols():
    word = lossless_layout.meta_word(1234, 3, 17)
    word_bits = lossless_layout.to_bits(np.array(word), lossless_layout.META_BITS)
    rng = np.random.default_rng(4)
    bits = rng.integers(0, 2, (6, lifting.MAX_BITS), dtype=np.uint8)
    capacity = np.array([90, 90, 40, 40, 90, 90])
    valid = np.array([True, True, True, True, False, True])
    start = lossless_layout.TAG_BITS
    bits[0, start:start + 48] = word_bits         # whole
    bits[1, start:start + 48] = word_bits         # whole
    bits[2, start:start + 24] = word_bits[:24]    # ran short: room for 24 of the 48 bits
    bits[4, start:start + 48] = word_bits         # whole, but its tag failed (edited)
    bits[5, start:start + 48] = 1 - word_bits     # symbols
    (fields, carriers) = lossless_layout.read_meta(bits, capacity, valid)
    assert fields == (1234, 3, 17)
    assert carriers.tolist() == [0, 1, 2]


def test_a_photo_never_immunized_is_recognised_as_such(original):
    result = verify(original)
    assert result.verdict is Verdict.NOT_IMMUNIZED and result.mode is None
    assert result.recovered is None and not result.mask.any()


def test_re_immunizing_an_edit_with_another_key_shows_another_signer(original, lossless_copy, key):
    tampered, _ = paste(lossless_copy, photo("dog.jpg", (384, 256)), (20, 80, 20, 120))
    forger = fingerprint.new_signing_key()
    forged = immunize(verify(tampered).recovered, Mode.LOSSLESS, signing_private=forger)
    result = verify(forged)
    # It verifies as intact, but under the forger's key, not the owner's: the signer is what
    # tells a third party who vouches for the pixels.
    assert result.verdict is Verdict.AUTHENTIC
    assert result.signer == fingerprint.public_key_of(forger) != fingerprint.public_key_of(key)


# --- robust mode -------------------------------------------------------------------------------

def test_robust_copy_survives_jpeg_and_downscaling(robust_original, robust_copy):
    assert psnr(robust_copy, robust_original) >= 38.0
    for processed in (jpeg(robust_copy, 75), np.asarray(Image.fromarray(robust_copy).resize((384, 576), Image.LANCZOS))):
        result = verify(processed)
        assert result.mode is Mode.ROBUST
        assert result.verdict is Verdict.AUTHENTIC, result.to_json()
        assert result.mask.shape == processed.shape[:2] and result.mask.mean() <= 0.01


def test_robust_tampering_after_jpeg_is_found_and_recovered(robust_original, robust_copy):
    tampered, truth = paste(robust_copy, photo("horses.jpg", (512, 768)), (300, 460, 150, 330))
    result = verify(jpeg(tampered, 75))
    assert result.verdict is Verdict.TAMPERED and result.mode is Mode.ROBUST
    assert f1(result.mask, truth) > 0.85
    assert result.recovered.shape == robust_original.shape
    assert psnr(result.recovered[truth], robust_original[truth]) > psnr(tampered[truth], robust_original[truth]) + 5


def test_an_edit_over_the_centre_is_found_and_recovered(key):
    """The scale search used to look only at a window in the centre of the photo: an edit that
    covers it left no pilots there to agree with, and the copy read as never immunized."""
    original = photo("kodim23.png", (1024, 768))
    copy = immunize(original, Mode.ROBUST, signing_private=key)
    tampered, truth = paste(copy, photo("kodim04.png", (1024, 768)), (192, 576, 320, 704))
    result = verify(jpeg(tampered, 75))
    assert result is not None and result.verdict is Verdict.TAMPERED and result.recovered is not None
    assert f1(result.mask, truth) > 0.9
    assert psnr(result.recovered[truth], original[truth]) > psnr(tampered[truth], original[truth]) + 5


def test_robust_recovery_reaches_one_block_beyond_the_flagged_area(robust_original, robust_copy):
    """A block that an edit only grazes may keep enough of its bits to pass, so the mask misses
    slivers of the edit along its border; the recovered photo rebuilds one block further."""
    from scipy import ndimage

    rows, cols = np.ogrid[:768, :512]
    truth = ((rows - 403) / 97.0) ** 2 + ((cols - 251) / 83.0) ** 2 <= 1  # an ellipse, not on the grid
    tampered = np.where(truth[..., None], photo("horses.jpg", (512, 768)), robust_copy)
    received = jpeg(tampered, 75)
    result = verify(received)
    assert result.verdict is Verdict.TAMPERED and f1(result.mask, truth) > 0.85
    missed = truth & ~result.mask
    assert missed.any()
    error = lambda image: np.abs(image[missed].astype(float) - robust_original[missed]).mean()  # noqa: E731
    assert error(result.recovered) < error(received) / 2
    far = ~ndimage.binary_dilation(result.mask, np.ones((33, 33), dtype=bool))
    assert np.array_equal(result.recovered[far], received[far])  # the rest is the copy as it came


def test_a_splice_whose_pilots_look_right_is_found_by_the_first_try_and_left_out(monkeypatch):
    """A region pasted from another photo immunized at the same size, at the same place, holds a
    valid stream of its own under the same code, and its size-only pilots are right: over a
    quarter of the photo the stream no longer reads at first. Its nonce-keyed pilots are wrong
    in about half its blocks, and the decoder's failed guess disagrees with it; without those
    blocks (a few rounds, each blaming more precisely) it reads. (A fixed key: Ed25519
    signatures are deterministic, so the streams are the same every run.)"""
    from app.core.immunizer.robust import reader

    key = bytes(range(32))
    copy = immunize(photo("kodim04.png", (512, 768)), Mode.ROBUST, signing_private=key)
    donor = immunize(photo("kodim23.png", (512, 768)), Mode.ROBUST, signing_private=key)
    edited, truth = paste(copy, donor, (192, 576, 128, 384))
    work, _, soft, unreliable, _ = reader.read_copy(jpeg(edited, 75), (512, 768))
    monkeypatch.setattr(reader, "REDECODE_ROUNDS", 0)
    assert reader.decode_under_any_code(work, soft, unreliable)[1] is None
    monkeypatch.undo()
    assert reader.decode_under_any_code(work, soft, unreliable)[1] is not None
    result = verify(jpeg(edited, 75))
    assert result.verdict is Verdict.TAMPERED and result.recovered is not None and f1(result.mask, truth) > 0.9


def test_the_ldpc_code_corrects_errors_and_fills_erasures():
    """The robust stream's LDPC code on its own: a fifth of the codeword unknown (an edit) and
    one bit in fifty of the rest read wrong, with the confidence the soft bits would carry."""
    from app.core.immunizer import ira

    rng = np.random.default_rng(3)
    message = rng.integers(0, 2, 6000, dtype=np.uint8)
    codeword = ira.encode(message, 4000)  # rate 3/5
    assert codeword.shape == (10_000,) and np.array_equal(codeword[:6000], message)
    llr = np.where(codeword == 1, 4.0, -4.0)
    llr[rng.random(10_000) < 0.02] *= -1
    llr[rng.random(10_000) < 0.2] = 0.0
    assert np.array_equal(ira.decode(llr, 6000), codeword)
    llr[rng.random(10_000) < 0.5] = 0.0  # too little left: the decoder's guess is not the message
    assert not np.array_equal(ira.decode(llr, 6000)[:6000], message)


def test_robust_self_check_reads_the_stream_back_from_platform_copies(robust_copy):
    from app.core.immunizer.robust import embedder, reader

    work, _, soft, unreliable, _ = reader.read_copy(robust_copy, (512, 768))
    code = reader.decode_under_any_code(work, soft, unreliable)[0].code
    flagged = embedder.flagged_after_processing(robust_copy, code)
    assert flagged is not None and flagged.mean() <= 0.01


def test_a_photo_whose_stream_fails_the_self_check_gets_the_stronger_code(robust_original, robust_copy, key,
                                                                         monkeypatch):
    """Busy photos (fur, foliage) lose too many bits to JPEG 75 for the weaker codes, so immunize
    re-embeds under stronger ones, down to the strongest; verify finds which one a copy uses."""
    from app.core.immunizer.robust import embedder
    from app.core.immunizer.robust import layout as robust_layout

    real_check, checks, strongest = embedder.flagged_after_processing, [], list(robust_layout.CODES)[-1]

    def unreadable_but_under_the_strongest_code(immunized, code):
        checks.append(code)
        return None if code != strongest else real_check(immunized, code)

    monkeypatch.setattr(embedder, "flagged_after_processing", unreadable_but_under_the_strongest_code)
    sturdy_copy = immunize(robust_original, Mode.ROBUST, signing_private=key)
    assert checks[:len(robust_layout.CODES)] == list(robust_layout.CODES) and not np.array_equal(sturdy_copy, robust_copy)
    assert psnr(sturdy_copy, robust_original) >= 38.0
    for processed in (sturdy_copy, jpeg(sturdy_copy, 75)):
        result = verify(processed)
        assert result.verdict is Verdict.AUTHENTIC and result.mode is Mode.ROBUST, result.to_json()
    tampered, truth = paste(sturdy_copy, photo("horses.jpg", (512, 768)), (300, 460, 150, 330))
    result = verify(jpeg(tampered, 75))
    assert result.verdict is Verdict.TAMPERED and f1(result.mask, truth) > 0.85
    assert psnr(result.recovered[truth], robust_original[truth]) > psnr(tampered[truth], robust_original[truth]) + 5


def test_a_caption_bar_that_recompression_scrambles_is_excused_and_the_rest_still_checked(key):
    """White-on-black text (a camera's caption) rings and clips under JPEG 75 and resizing, so an
    untouched copy used to read as edited there. Immunize finds those blocks with its own platform
    test and lists them in the signed stream; verify leaves them out, and checks the rest."""
    from PIL import ImageDraw, ImageFont

    from app.core.immunizer.robust import embedder, reader
    from app.core.immunizer.robust import layout as robust_layout

    image = Image.fromarray(photo("kodim04.png", (512, 768)))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 728, 512, 768], fill=(0, 0, 0))
    draw.text((8, 734), "CAM 04  2024-06-01 03:12:55  18°C  MOON", fill=(255, 255, 255),
              font=ImageFont.load_default(size=22))
    captioned = np.asarray(image)
    copy = immunize(captioned, Mode.ROBUST, signing_private=key)

    work, _, soft, unreliable, _ = reader.read_copy(copy, (512, 768))
    _, (stream, _) = reader.decode_under_any_code(work, soft, unreliable)
    excused = robust_layout.unpack_excused(stream.exceptions, 64 * 96).reshape(96, 64)
    assert excused.any() and excused.mean() <= embedder.MAX_EXCUSED_SHARE
    assert set(np.nonzero(excused)[0]) <= set(range(89, 96))  # the caption's block rows, and a margin
    for processed in (jpeg(copy, 75), np.asarray(Image.fromarray(copy).resize((384, 576), Image.LANCZOS))):
        result = verify(processed)
        assert result.verdict is Verdict.AUTHENTIC, result.to_json()
    tampered, truth = paste(copy, photo("horses.jpg", (512, 768)), (300, 460, 150, 330))
    result = verify(jpeg(tampered, 75))
    assert result.verdict is Verdict.TAMPERED and f1(result.mask, truth) > 0.85


@pytest.mark.parametrize("fill", [0, 255])
def test_a_box_painted_over_a_robust_copy_is_found_in_both_modes(robust_copy, lossless_copy, fill):
    """Black or white blocks can't carry bits, so the decoder excuses pinned blocks; a box painted
    over a face to hide or change what happened must not hide behind that excuse."""
    for copy in (robust_copy, lossless_copy):
        h, w = copy.shape[:2]
        tampered = copy.copy()
        tampered[h // 4 : h // 2, w // 4 : w // 2] = fill
        truth = np.zeros((h, w), dtype=bool)
        truth[h // 4 : h // 2, w // 4 : w // 2] = True
        result = verify(tampered)
        assert result.verdict is Verdict.TAMPERED, (fill, result.mode)
        assert f1(result.mask, truth) > 0.9


# --- bad input and control -------------------------------------------------------------------

def test_tiny_and_malformed_inputs_give_clear_errors(key):
    with pytest.raises(ImageTooSmallToImmunize):
        immunize(np.zeros((32, 32, 3), np.uint8), Mode.LOSSLESS, signing_private=key)
    with pytest.raises(ImageTooSmallToImmunize, match="robust"):
        immunize(photo("cat.jpg", (160, 120)), Mode.ROBUST, signing_private=key)
    assert verify(np.zeros((20, 20, 3), np.uint8)).verdict is Verdict.NOT_IMMUNIZED


def test_cancel_stops_immunizing(original, key):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ImmunizeCancelled):
        immunize(original, Mode.LOSSLESS, signing_private=key, cancel=cancel)


def test_progress_counts_up_to_its_total(original, key):
    seen: list[tuple[int, int]] = []
    immunize(original, Mode.LOSSLESS, signing_private=key, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen == sorted(seen) and {total for _, total in seen} == {seen[-1][1]}
    assert seen[-1][0] == seen[-1][1]


def test_immunizer_modules_import_no_circle():
    """Each module of the package (and of its modes' subpackages) imports only modules below it:
    the modes take their shared types from `types` and `errors`, never from `api`, which
    dispatches to them."""
    import ast

    package = Path(__file__).parent.parent / "app" / "core" / "immunizer"

    def name_of(source: Path) -> str:
        parts = source.relative_to(package).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    sources = {name_of(source): source for source in package.rglob("*.py")}
    graph = {}
    for module, source in sources.items():
        if module == "":
            continue  # the package's own __init__: it re-exports `api`
        imported = set()
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app.core.immunizer"):
                base = node.module.removeprefix("app.core.immunizer").lstrip(".")
                for alias in node.names:
                    candidate = f"{base}.{alias.name}".lstrip(".")
                    imported.add(candidate if candidate in sources else base)
        graph[module] = imported & (set(sources) - {""})

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        return any(n == target or (n not in seen and reaches(n, target, seen | {n})) for n in graph[start])

    circles = sorted(module for module in graph if reaches(module, module, {module}))
    assert circles == []
