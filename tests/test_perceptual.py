"""pHash/dHash wrappers and the Hamming index (checked against brute force)."""

from __future__ import annotations

from pathlib import Path

import imagehash
import numpy as np
import pytest
from PIL import Image

from app.core import perceptual
from app.core.pdq import Dihedral, apply_dihedral_to_pixels, hamming_distance
from app.core.perceptual import (
    HammingIndex,
    HammingMatch,
    dhash,
    dhash_dihedral,
    perceptual_hashes,
    phash,
    phash_dihedral,
)

from .test_pdq import pdq_hash_dihedral_file

PDQ_DATA = Path(__file__).parent / "data" / "pdq"
SMALL_PHOTO = PDQ_DATA / "labelme-subset" / "q1050.jpg"  # 256x256: no working-copy shrink
LARGE_PHOTO = PDQ_DATA / "dih" / "bridge-1-original.jpg"


def _brute_force_distances(stored: list[bytes], queries: list[bytes]) -> np.ndarray:
    return np.array([min(hamming_distance(s, q) for q in queries) for s in stored])


def _random_fingerprints(rng: np.random.Generator, count: int, n_bytes: int = 32) -> list[bytes]:
    return [rng.bytes(n_bytes) for _ in range(count)]


def _flip_bits(fingerprint: bytes, positions: np.ndarray) -> bytes:
    value = int.from_bytes(fingerprint, "big")
    for position in positions:
        value ^= 1 << int(position)
    return value.to_bytes(len(fingerprint), "big")


# ---------------------------------------------------------------------------------------
# pHash / dHash


def test_phash_and_dhash_are_imagehash_values_as_bytes() -> None:
    with Image.open(SMALL_PHOTO) as image:
        assert phash(image).hex() == str(imagehash.phash(image))
        assert dhash(image).hex() == str(imagehash.dhash(image))
        assert len(phash(image)) == 8 and len(dhash(image)) == 8


def test_numpy_input_matches_pillow_input() -> None:
    with Image.open(SMALL_PHOTO) as image:
        pixels = np.asarray(image.convert("RGB"))
        assert phash(pixels) == phash(image)
        assert dhash(pixels) == dhash(image)


@pytest.mark.parametrize("variant", list(Dihedral), ids=[v.name for v in Dihedral])
def test_variants_match_hashes_of_transformed_image(variant: Dihedral) -> None:
    with Image.open(SMALL_PHOTO) as image:
        pixels = np.asarray(image.convert("RGB"))
    transformed = np.ascontiguousarray(apply_dihedral_to_pixels(pixels, variant))
    assert phash_dihedral(pixels)[variant] == phash(transformed)
    assert dhash_dihedral(pixels)[variant] == dhash(transformed)


def test_perceptual_hashes_bundle_agrees_with_single_functions() -> None:
    with Image.open(LARGE_PHOTO) as image:
        bundle = perceptual_hashes(image)
        assert list(bundle.phash) == phash_dihedral(image)
        assert list(bundle.dhash) == dhash_dihedral(image)
        assert bundle.phash[Dihedral.ORIGINAL] == phash(image)


def test_large_image_hashes_like_imagehash_within_a_few_bits() -> None:
    # Large images are shrunk (area average) before imagehash's own resize; that should
    # barely change the result compared with imagehash on the full image.
    with Image.open(LARGE_PHOTO) as image:
        assert hamming_distance(phash(image), bytes.fromhex(str(imagehash.phash(image)))) <= 4
        assert hamming_distance(dhash(image), bytes.fromhex(str(imagehash.dhash(image)))) <= 4


def test_rotated_copy_is_found_through_variants() -> None:
    # The reference's rotated file, re-encoded as JPEG by Meta: its hash should be close
    # to the matching variant of the original's hash.
    with (
        Image.open(LARGE_PHOTO) as original,
        Image.open(PDQ_DATA / "dih" / "bridge-2-rotate-90.jpg") as rotated,
    ):
        assert hamming_distance(phash_dihedral(original)[Dihedral.ROTATE_90], phash(rotated)) <= 4
        assert hamming_distance(phash(original), phash(rotated)) > 16


# ---------------------------------------------------------------------------------------
# Popcount


def test_table_popcount_matches_native() -> None:
    rng = np.random.default_rng(3)
    words = rng.integers(0, 2**64, size=(5, 999), dtype=np.uint64, endpoint=False)
    words[0, :3] = [0, np.uint64(2**64 - 1), 1]
    expected = np.array([[bin(int(w)).count("1") for w in row] for row in words], dtype=np.uint8)
    out = np.empty(words.shape, dtype=np.uint8)
    assert np.array_equal(perceptual._popcount_by_table(words, out), expected)
    if hasattr(np, "bitwise_count"):
        assert np.array_equal(np.bitwise_count(words), expected)


# ---------------------------------------------------------------------------------------
# HammingIndex


@pytest.fixture(params=["native", "table"])
def popcount_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    # Run the index tests with both popcount implementations (numpy >= 2 and older).
    if request.param == "table":
        monkeypatch.setattr(perceptual, "_popcount", perceptual._popcount_by_table)
    elif not hasattr(np, "bitwise_count"):
        pytest.skip("numpy < 2 has no bitwise_count")
    return request.param


@pytest.mark.parametrize("n_queries", [1, 8])
def test_distances_match_brute_force(popcount_mode: str, n_queries: int) -> None:
    rng = np.random.default_rng(11)
    # More entries than one scan block, and not a multiple of it, to cover block edges.
    stored = _random_fingerprints(rng, 20_011)
    index = HammingIndex()
    index.add_many(list(range(len(stored))), stored)
    queries = _random_fingerprints(rng, n_queries)
    assert np.array_equal(index.distances(queries), _brute_force_distances(stored, queries))


@pytest.mark.parametrize("max_distance", [0, 20, 100])
def test_within_matches_brute_force(popcount_mode: str, max_distance: int) -> None:
    rng = np.random.default_rng(5)
    stored = _random_fingerprints(rng, 3_000)
    # Plant near copies of the query's variants so small radii have something to find.
    queries = _random_fingerprints(rng, 8)
    for entry, query in enumerate(queries * 3):
        stored[entry * 7] = _flip_bits(query, rng.choice(256, size=entry % 25, replace=False))
    ids = [1000 + i for i in range(len(stored))]
    index = HammingIndex()
    index.add_many(ids, stored)

    found = index.within(queries, max_distance)

    per_query = np.array([[hamming_distance(s, q) for q in queries] for s in stored])
    expected = {
        (int(per_query[row].min()), ids[row], int(per_query[row].argmin()))
        for row in np.flatnonzero(per_query.min(axis=1) <= max_distance)
    }
    assert {(m.distance, m.id, m.query_index) for m in found} == expected
    assert found == sorted(found)
    assert len(found) > 0  # the planted copies guarantee a non-trivial comparison


@pytest.mark.parametrize("k", [1, 10, 257])
def test_nearest_matches_brute_force(popcount_mode: str, k: int) -> None:
    rng = np.random.default_rng(7)
    stored = _random_fingerprints(rng, 5_000)
    queries = _random_fingerprints(rng, 8)
    index = HammingIndex()
    index.add_many(list(range(len(stored))), stored)

    found = index.nearest(queries, k)

    distances = _brute_force_distances(stored, queries)
    expected = sorted(zip(distances.tolist(), range(len(stored)), strict=True))[:k]
    assert [(m.distance, m.id) for m in found] == expected


def test_nearest_with_k_larger_than_index_returns_everything() -> None:
    index = HammingIndex(bits=64)
    index.add_many([3, 1, 2], [b"\x00" * 8, b"\xff" * 8, b"\x0f" + b"\x00" * 7])
    found = index.nearest(b"\x00" * 8, 10)
    assert [(m.id, m.distance) for m in found] == [(3, 0), (2, 4), (1, 64)]
    assert HammingIndex().nearest(bytes(32), 5) == []


def test_add_and_remove_by_id() -> None:
    rng = np.random.default_rng(9)
    stored = {entry_id: rng.bytes(32) for entry_id in range(0, 4000, 2)}
    index = HammingIndex(initial_capacity=16)  # forces several capacity doublings
    for entry_id, fingerprint in stored.items():
        index.add(entry_id, fingerprint)
    assert len(index) == len(stored)

    removed = [0, 1998, 3998, 10, 500]  # first, middle, last, ...
    for entry_id in removed:
        index.remove(entry_id)
        del stored[entry_id]
    assert len(index) == len(stored)
    assert all(entry_id not in index for entry_id in removed)
    assert sorted(index.ids().tolist()) == sorted(stored)
    for entry_id, fingerprint in stored.items():
        assert index.fingerprint(entry_id) == fingerprint

    # Queries see exactly the remaining entries, with their own ids.
    query = stored[2]
    assert index.nearest(query, 1) == [HammingMatch(distance=0, id=2, query_index=0)]
    ids = list(stored)
    expected = _brute_force_distances([stored[i] for i in ids], [query])
    by_id = dict(zip(index.ids().tolist(), index.distances(query).tolist(), strict=True))
    assert [by_id[i] for i in ids] == expected.tolist()

    # A removed id can be added again; unknown ids and duplicates are refused.
    index.add(0, query)
    assert {m.id for m in index.within(query, 0)} == {0, 2}
    with pytest.raises(KeyError):
        index.remove(12345)
    with pytest.raises(ValueError):
        index.add(2, query)
    with pytest.raises(ValueError):
        index.add_many([7, 7], [query, query])


def test_remove_everything_then_query() -> None:
    index = HammingIndex()
    index.add(1, bytes(32))
    index.remove(1)
    assert len(index) == 0
    assert index.within(bytes(32), 256) == []
    assert index.nearest(bytes(32), 3) == []


def test_rejects_wrong_width() -> None:
    index = HammingIndex(bits=256)
    with pytest.raises(ValueError):
        index.add(1, bytes(8))
    with pytest.raises(ValueError):
        index.within([bytes(32), bytes(31)], 10)
    with pytest.raises(ValueError):
        HammingIndex(bits=100)


def test_query_with_pdq_dihedral_variants_finds_rotated_copy() -> None:
    # End to end: index the original's PDQ hash among random ones; querying with the
    # eight variants of the rotated file's hash finds it and reports which variant.
    rng = np.random.default_rng(13)
    original = pdq_hash_dihedral_file(LARGE_PHOTO)[Dihedral.ORIGINAL]
    index = HammingIndex()
    index.add_many(list(range(1, 5001)), _random_fingerprints(rng, 5000))
    index.add(0, original.bits)

    rotated_variants = pdq_hash_dihedral_file(PDQ_DATA / "dih" / "bridge-2-rotate-90.jpg")
    found = index.within([h.bits for h in rotated_variants], 31)

    assert [m.id for m in found] == [0]
    # Undoing a 90-degree counter-clockwise rotation is a 270-degree one.
    assert found[0].query_index == Dihedral.ROTATE_270
    assert found[0].distance <= 10


def test_sixty_four_bit_fingerprints() -> None:
    rng = np.random.default_rng(17)
    stored = _random_fingerprints(rng, 1000, n_bytes=8)
    index = HammingIndex(bits=64)
    index.add_many(list(range(1000)), stored)
    queries = _random_fingerprints(rng, 8, n_bytes=8)
    assert np.array_equal(index.distances(queries), _brute_force_distances(stored, queries))
