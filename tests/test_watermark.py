"""Robust and fragile watermarks on real photos (tests/data/photos, see ATTRIBUTION.md)."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from app.core.watermark import (
    PAYLOAD_BITS,
    FragileMessageTooLong,
    FragileState,
    ImageTooSmallForWatermark,
    InvalidWatermarkKey,
    InvalidWatermarkPayload,
    check_fragile,
    codec,
    embed_fragile,
    embed_watermark,
    informed,
    layout,
    read,
    read_watermark,
    working,
)

PHOTOS = Path(__file__).parent / "data" / "photos"
KEY = b"test vault watermark key"
SHARE_ID = 0xA5C3_0F1E_9B27_64  # 56 bits, both halves non-trivial


def load(name: str) -> np.ndarray:
    return np.array(Image.open(PHOTOS / name).convert("RGB"))


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def psnr_luma(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(255.0**2 / float(np.mean((luma(a) - luma(b)) ** 2)))


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]


def rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)


@pytest.fixture(scope="module")
def marked_kodim23() -> tuple[np.ndarray, np.ndarray]:
    original = load("kodim23.png")
    return original, embed_watermark(original, SHARE_ID, KEY)


@pytest.mark.parametrize("name", ["kodim23.png", "dog.jpg", "horses.jpg"])
def test_round_trip_is_invisible_and_exact(name: str) -> None:
    original = load(name)
    marked = embed_watermark(original, SHARE_ID, KEY)
    assert marked.shape == original.shape and marked.dtype == np.uint8
    assert psnr_luma(original, marked) >= 40.0
    result = read_watermark(marked, KEY)
    assert result is not None
    assert result.payload == SHARE_ID
    assert result.confidence > 0.5


TRANSFORMS = {
    "jpeg 50": lambda im: jpeg(im, 50),
    "resize 50 %": lambda im: cv2.resize(im, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
    # Half the area, taken from the bottom-right corner (not centred).
    "crop 50 % corner": lambda im: im[im.shape[0] - int(im.shape[0] * 0.71):,
                                      im.shape[1] - int(im.shape[1] * 0.71):],
    "rotate 3 deg": lambda im: rotate(im, 3.0),
    "mirror flip": lambda im: np.ascontiguousarray(im[:, ::-1]),
    "grayscale": lambda im: np.repeat(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2),
}


@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_survives_transform(marked_kodim23, transform: str) -> None:
    _, marked = marked_kodim23
    result = read_watermark(TRANSFORMS[transform](marked), KEY)
    assert result is not None, f"mark lost after {transform}"
    assert result.payload == SHARE_ID
    if transform == "mirror flip":
        assert result.mirrored


@pytest.mark.parametrize("name", ["dog.jpg", "horses.jpg"])
def test_survives_crop_resize_jpeg_chain(name: str) -> None:
    """Chain A of the benchmark: half the area, then half the size, then JPEG 70. On these
    photos the power-spectrum comb is too weak after the chain; the phase-aware sync
    scan finds the period."""
    marked = embed_watermark(load(name), SHARE_ID, KEY)
    height, width = marked.shape[:2]
    cropped = marked[height // 5: height // 5 + int(height * 0.71),
                     width // 6: width // 6 + int(width * 0.71)]
    small = cv2.resize(cropped, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    result = read_watermark(jpeg(small, 70), KEY)
    assert result is not None and result.payload == SHARE_ID


# A vault's other share IDs: the true one is hidden among a thousand.
OTHER_SHARE_IDS = [int(v) for v in np.random.default_rng(5).integers(1, 1 << PAYLOAD_BITS, 999, dtype=np.uint64)]


def _small_recompressed(marked: np.ndarray) -> np.ndarray:
    """0.4x the size at JPEG 60: past what the free decoder reads on these photos."""
    return jpeg(cv2.resize(marked, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA), 60)


@pytest.mark.parametrize("name", ["kodim23.png", "cat.jpg"])
def test_damaged_copy_is_matched_to_a_known_share_id(name: str) -> None:
    copy = _small_recompressed(embed_watermark(load(name), SHARE_ID, KEY))
    assert read_watermark(copy, KEY) is None  # too damaged to decode on its own
    result = read_watermark(copy, KEY, [*OTHER_SHARE_IDS, SHARE_ID])
    assert result is not None and result.payload == SHARE_ID and result.matched_known_id
    # confidence = score / sqrt(coded bits); the score cleared the threshold for 1,000 IDs.
    assert result.confidence * math.sqrt(layout.N_CODED_BITS) >= read.known_id_threshold(1000)


def _reposted(rgb: np.ndarray) -> np.ndarray:
    """Mirrored, shrunk to 0.4x, framed like a screenshot of a post, JPEG 70 (chain C-like)."""
    small = cv2.resize(np.ascontiguousarray(rgb[:, ::-1]), None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    height, width = small.shape[:2]
    post = np.full((height + 90, width + 40, 3), 245, np.uint8)
    post[60:60 + height, 20:20 + width] = small
    return jpeg(post, 70)


def test_a_copy_too_damaged_for_the_blind_read_is_read_against_the_original() -> None:
    original = load("pizza.jpg")
    copy = _reposted(embed_watermark(original, SHARE_ID, KEY))
    assert read_watermark(copy, KEY, [*OTHER_SHARE_IDS, SHARE_ID]) is None  # not even with the list
    registration = informed.register(working.luminance_u8(copy), working.luminance_u8(original))
    assert registration is not None and registration.mirrored and abs(registration.scale - 0.4) < 0.01
    result = informed.read_with_original(copy, original, KEY, [SHARE_ID])
    assert result is not None and result.payload == SHARE_ID and result.mirrored


@pytest.mark.parametrize("name", ["cat.jpg", "kodim04.png"])
def test_a_small_photo_reposted_at_a_fraction_of_its_size_is_read_against_the_original(name: str) -> None:
    """256 x 256 px, then mirrored, shrunk to 0.4x and framed: about 100 px of the photo are
    left, and what survives of the mark is its low frequencies, which the sum of the residual's
    tiles keeps (the blind reader's whitening high-passes them away)."""
    original = cv2.resize(load(name), (256, 256), interpolation=cv2.INTER_AREA)
    copy = _reposted(embed_watermark(original, SHARE_ID, KEY))
    result = informed.read_with_original(copy, original, KEY, [SHARE_ID, *OTHER_SHARE_IDS[:2]])
    assert result is not None and result.payload == SHARE_ID and result.matched_known_id


def test_reading_against_the_original_names_the_share_that_leaked() -> None:
    """Every share of a photo starts from the same pixels: the residual carries the mark of
    the copy that was actually passed on, not of the first share made."""
    original = load("pizza.jpg")
    other_share = OTHER_SHARE_IDS[0]
    copy = _reposted(embed_watermark(original, other_share, KEY))
    result = informed.read_with_original(copy, original, KEY, [SHARE_ID, other_share])
    assert result is not None and result.payload == other_share


def test_reading_against_the_original_finds_nothing_where_there_is_no_mark() -> None:
    original = load("pizza.jpg")
    # The photo got out without being shared: registration works, the residual is noise.
    assert informed.read_with_original(_reposted(original), original, KEY, [SHARE_ID, *OTHER_SHARE_IDS]) is None
    # Another photo entirely: nothing to register.
    other_photo = _reposted(embed_watermark(load("cat.jpg"), SHARE_ID, KEY))
    assert informed.register(working.luminance_u8(other_photo), working.luminance_u8(original)) is None
    assert informed.read_with_original(other_photo, original, KEY, [SHARE_ID]) is None
    # Another vault's key.
    copy = _reposted(embed_watermark(original, SHARE_ID, KEY))
    assert informed.read_with_original(copy, original, b"another vault's key", [SHARE_ID]) is None


def test_an_implausible_registration_is_refused_rather_than_used() -> None:
    """A fifth of the photo blown up five times: RANSAC fits the few corners left to a
    degenerate near-zero scale, which used to crash the low-pass before the warp."""
    original = load("pizza.jpg")
    corner = original[: original.shape[0] // 5, : original.shape[1] // 5]
    enlarged = cv2.resize(corner, None, fx=5, fy=5, interpolation=cv2.INTER_CUBIC)
    assert informed.register(working.luminance_u8(enlarged), working.luminance_u8(original)) is None
    assert informed.read_with_original(enlarged, original, KEY, [SHARE_ID]) is None


def test_known_ids_never_name_a_copy_that_carries_none_of_them() -> None:
    copy = _small_recompressed(embed_watermark(load("kodim23.png"), SHARE_ID, KEY))
    assert read_watermark(copy, KEY, OTHER_SHARE_IDS) is None  # its own ID is not in the list
    assert read_watermark(copy, b"another vault's key", [*OTHER_SHARE_IDS, SHARE_ID]) is None


def test_reports_geometry_of_rotation(marked_kodim23) -> None:
    _, marked = marked_kodim23
    result = read_watermark(rotate(marked, -4.0), KEY)
    assert result is not None and result.payload == SHARE_ID
    # OpenCV's positive angle is counter-clockwise on screen; either way the magnitude holds.
    assert abs(abs(result.rotation_deg) - 4.0) < 0.3


@pytest.mark.parametrize("name", ["kodim23.png", "dog.jpg", "horses.jpg", "cat.jpg",
                                  "coffee.jpg", "pizza.jpg"])
def test_unmarked_photos_and_crops_read_as_none(name: str) -> None:
    photo = load(name)
    height, width = photo.shape[:2]
    known = [*OTHER_SHARE_IDS, SHARE_ID]
    for variant in (photo, photo[: height * 2 // 3, width // 4:], _small_recompressed(photo)):
        assert read_watermark(variant, KEY) is None
        assert read_watermark(variant, KEY, known) is None


def test_wrong_key_reads_nothing(marked_kodim23) -> None:
    _, marked = marked_kodim23
    assert read_watermark(marked, b"another vault's key") is None


def test_flat_areas_get_little_of_the_mark() -> None:
    """Perceptual masking: a flat sky-like half carries far less change than a textured one."""
    rng = np.random.default_rng(7)
    image = np.full((512, 768, 3), 128, np.uint8)
    texture = rng.normal(128, 25, size=(512, 384)).astype(np.float32)
    texture = cv2.GaussianBlur(texture, (0, 0), 1.0)
    image[:, 384:] = np.clip(texture, 0, 255).astype(np.uint8)[:, :, None]
    marked = embed_watermark(image, SHARE_ID, KEY)
    change = np.abs(luma(marked) - luma(image))
    flat_change = change[:, :360].mean()  # a margin away from the border between halves
    textured_change = change[:, 400:].mean()
    assert flat_change < 0.35 * textured_change
    assert change[:, :360].max() <= 2.0


def test_payload_and_key_validation() -> None:
    photo = load("cat.jpg")
    with pytest.raises(InvalidWatermarkPayload):
        embed_watermark(photo, 1 << PAYLOAD_BITS, KEY)
    with pytest.raises(InvalidWatermarkPayload):
        embed_watermark(photo, -1, KEY)
    with pytest.raises(InvalidWatermarkKey):
        embed_watermark(photo, 1, b"")
    with pytest.raises(ImageTooSmallForWatermark):
        embed_watermark(photo[:100, :100], 1, KEY)


def test_viterbi_corrects_errors_and_crc_rejects_garbage() -> None:
    rng = np.random.default_rng(1)
    message = codec.add_crc(rng.integers(0, 2, PAYLOAD_BITS).astype(np.uint8))
    coded = codec.conv_encode(message)
    soft = 2.0 * coded - 1.0
    flipped = rng.choice(coded.size, size=coded.size // 10, replace=False)
    soft[flipped] *= -1  # 10 % hard errors, spread out
    assert np.array_equal(codec.viterbi_decode(soft, message.size), message)
    corrupted = message.copy()
    corrupted[5] ^= 1
    assert not codec.check_crc(corrupted)


def test_viterbi_decodes_many_codewords_side_by_side_as_it_decodes_each() -> None:
    rng = np.random.default_rng(2)
    messages = rng.integers(0, 2, (4, 3000)).astype(np.uint8)
    soft = 2.0 * codec.conv_encode_rows(messages) - 1.0 + rng.normal(0, 0.9, (4, codec.coded_length(3000)))
    together = codec.viterbi_decode_rows(soft, 3000)
    assert np.array_equal(together, np.stack([codec.viterbi_decode(row, 3000) for row in soft]))
    assert (together != messages).mean() < 0.005  # Eb/N0 about 2.7 dB: Viterbi fixes nearly all


def test_fragile_intact_altered_absent() -> None:
    photo = load("pizza.jpg")
    message = b"share 0123456789abcdef"
    sealed = embed_fragile(photo, KEY, message)
    assert np.max(np.abs(sealed.astype(int) - photo.astype(int))) <= 1

    intact = check_fragile(sealed, KEY)
    assert intact.state is FragileState.INTACT
    assert intact.message == message

    one_pixel = sealed.copy()
    one_pixel[200, 300, 1] ^= 0b0001_0000  # a high bit: the HMAC catches it
    assert check_fragile(one_pixel, KEY).state is FragileState.ALTERED

    low_bit = sealed.copy()
    low_bit[-1, -1, 2] ^= 1  # only a filler LSB at the very end
    assert check_fragile(low_bit, KEY).state is FragileState.ALTERED

    header_hit = sealed.copy()
    header_hit[0, :4] = 0  # wipes the header; the filler still shows the mark was there
    assert check_fragile(header_hit, KEY).state is FragileState.ALTERED

    assert check_fragile(photo, KEY).state is FragileState.ABSENT
    assert check_fragile(sealed, b"another key").state is FragileState.ABSENT
    # Re-encoding destroys it, as intended for a proof of exactness.
    assert check_fragile(jpeg(sealed, 95), KEY).state is not FragileState.INTACT


def test_fragile_over_robust_keeps_both() -> None:
    original = load("horses.jpg")
    marked = embed_watermark(original, SHARE_ID, KEY)
    sealed = embed_fragile(marked, KEY, b"x")
    assert check_fragile(sealed, KEY).state is FragileState.INTACT
    result = read_watermark(sealed, KEY)
    assert result is not None and result.payload == SHARE_ID


def test_fragile_message_too_long() -> None:
    small = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(FragileMessageTooLong):
        embed_fragile(small, KEY, b"x" * 200)
