"""pHash and dHash fingerprints, and a fast Hamming-distance index for fingerprints.

pHash (DCT of a 32x32 grey copy) and dHash (signs of horizontal gradients on 9x8) come
from the ``imagehash`` package. The vault does not store them (the leak scanner matches on
PDQ and local features); bench/leak_eval.py runs pHash as the plain-hash baseline. Like PDQ
they are not rotation invariant, so each also comes in the eight dihedral variants
(computed on transposed copies of a small image).

``HammingIndex`` answers "which stored fingerprints are within distance d of this one"
and "which k are closest" by a vectorised linear scan. For the vault sizes Sanctum sees
(up to ~100,000 photos) a scan is a few milliseconds, exact, and needs no tuning; a
multi-index hash would only pay off at millions of entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import imagehash

from .pdq import Dihedral

__all__ = [
    "DHASH_BITS",
    "PHASH_BITS",
    "HammingIndex",
    "HammingMatch",
    "PerceptualHashes",
    "dhash",
    "dhash_dihedral",
    "perceptual_hashes",
    "phash",
    "phash_dihedral",
]

PHASH_BITS = 64
DHASH_BITS = 64

# pHash looks at 32x32 pixels and dHash at 9x8, so anything beyond a few hundred pixels
# only costs time: we shrink once (area average) before making the eight transposed
# copies. It also makes the hash independent of how large the photo happened to be
# decoded (an import may decode at reduced scale, a scan at full size).
_WORKING_MAX_SIDE = 512

# Pillow's transposes for each dihedral variant, matching pdq.apply_dihedral_to_pixels.
_PILLOW_TRANSPOSE: dict[Dihedral, Image.Transpose | None] = {
    Dihedral.ORIGINAL: None,
    Dihedral.ROTATE_90: Image.Transpose.ROTATE_90,  # counter-clockwise, like np.rot90
    Dihedral.ROTATE_180: Image.Transpose.ROTATE_180,
    Dihedral.ROTATE_270: Image.Transpose.ROTATE_270,
    Dihedral.FLIP_X: Image.Transpose.FLIP_TOP_BOTTOM,
    Dihedral.FLIP_Y: Image.Transpose.FLIP_LEFT_RIGHT,
    Dihedral.TRANSPOSE: Image.Transpose.TRANSPOSE,
    Dihedral.TRANSVERSE: Image.Transpose.TRANSVERSE,
}


# --------------------------------------------------------------------------------------
# pHash / dHash


@dataclass(frozen=True, slots=True)
class PerceptualHashes:
    """pHash and dHash of an image, each as 8 bytes, in all eight dihedral variants.

    ``phash[0]`` / ``dhash[0]`` are the hashes of the image as given; index ``v`` is the
    hash of the image transformed by ``Dihedral(v)``.
    """

    phash: tuple[bytes, ...]
    dhash: tuple[bytes, ...]


def _working_grey(image: Image.Image | np.ndarray) -> Image.Image:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.ascontiguousarray(image))
    grey = image.convert("L")
    if max(grey.size) > _WORKING_MAX_SIDE:
        grey = grey.copy() if grey is image else grey
        grey.thumbnail((_WORKING_MAX_SIDE, _WORKING_MAX_SIDE), Image.Resampling.BOX)
    return grey


def _imagehash():
    # Imported on first use: opening the app does not hash anything, and ImageHash costs ~0.05 s.
    import imagehash

    return imagehash


def _hash_bytes(value: imagehash.ImageHash) -> bytes:
    # Row-major, most significant bit first: the same order as str(value).
    return np.packbits(value.hash.reshape(-1)).tobytes()


def _transposed(grey: Image.Image, variant: Dihedral) -> Image.Image:
    method = _PILLOW_TRANSPOSE[variant]
    return grey if method is None else grey.transpose(method)


def phash(image: Image.Image | np.ndarray) -> bytes:
    """64-bit pHash (imagehash.phash) as 8 bytes."""
    return _hash_bytes(_imagehash().phash(_working_grey(image)))


def dhash(image: Image.Image | np.ndarray) -> bytes:
    """64-bit dHash (imagehash.dhash, horizontal gradients) as 8 bytes."""
    return _hash_bytes(_imagehash().dhash(_working_grey(image)))


def phash_dihedral(image: Image.Image | np.ndarray) -> list[bytes]:
    """pHash of the image in each of the eight dihedral variants, indexed by ``Dihedral``."""
    grey = _working_grey(image)
    return [_hash_bytes(_imagehash().phash(_transposed(grey, v))) for v in Dihedral]


def dhash_dihedral(image: Image.Image | np.ndarray) -> list[bytes]:
    """dHash of the image in each of the eight dihedral variants, indexed by ``Dihedral``."""
    grey = _working_grey(image)
    return [_hash_bytes(_imagehash().dhash(_transposed(grey, v))) for v in Dihedral]


def perceptual_hashes(image: Image.Image | np.ndarray) -> PerceptualHashes:
    """Both hashes in all variants, sharing one grey working copy."""
    grey = _working_grey(image)
    variants = [_transposed(grey, v) for v in Dihedral]
    return PerceptualHashes(
        phash=tuple(_hash_bytes(_imagehash().phash(g)) for g in variants),
        dhash=tuple(_hash_bytes(_imagehash().dhash(g)) for g in variants),
    )


# --------------------------------------------------------------------------------------
# Population count


def _popcount_by_table(words: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Bits set in each uint64, for numpy < 2 (no np.bitwise_count): 16-bit lookups."""
    halves = np.ascontiguousarray(words).view(np.uint16).reshape(*words.shape, 4)
    np.sum(_POPCOUNT_TABLE16[halves], axis=-1, dtype=np.uint8, out=out)
    return out


_POPCOUNT_TABLE16 = np.array([bin(value).count("1") for value in range(1 << 16)], dtype=np.uint8)


def _popcount_native(words: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.bitwise_count(words, out=out)


_popcount = _popcount_native if hasattr(np, "bitwise_count") else _popcount_by_table


# --------------------------------------------------------------------------------------
# Index


@dataclass(frozen=True, slots=True, order=True)
class HammingMatch:
    """One index entry near a query. Sorts by distance, then id.

    ``query_index`` says which of the query fingerprints was closest (with the eight
    PDQ dihedral hashes as the query, it is the ``Dihedral`` of the match).
    """

    distance: int
    id: int
    query_index: int


class HammingIndex:
    """Fixed-width binary fingerprints keyed by integer id, searched by Hamming distance.

    Storage is word-major: ``_words[w, row]`` holds 64-bit word ``w`` of entry ``row``, so
    a scan streams through contiguous memory one word at a time, and all query variants
    are compared against a block of entries while it is in cache. Rows are kept dense
    (removal moves the last row into the hole) so a scan never skips tombstones.

    Not thread-safe for writers: guard ``add``/``remove`` against concurrent queries.
    """

    # Entries compared per block: 8 variants x 8192 x 8 bytes = 512 KiB of XOR output,
    # small enough to stay in cache while the four words are accumulated.
    _BLOCK_ROWS = 8192

    def __init__(self, bits: int = 256, *, initial_capacity: int = 1024) -> None:
        if bits <= 0 or bits % 64:
            raise ValueError("fingerprint width must be a positive multiple of 64 bits")
        self.bits = bits
        self._n_words = bits // 64
        capacity = max(int(initial_capacity), 1)
        self._words = np.zeros((self._n_words, capacity), dtype=np.uint64)
        self._ids = np.zeros(capacity, dtype=np.int64)
        self._row_of_id: dict[int, int] = {}
        self._size = 0

    # ---- contents ------------------------------------------------------------------

    def __len__(self) -> int:
        return self._size

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._row_of_id

    def ids(self) -> np.ndarray:
        """Ids currently stored (a copy, in storage order)."""
        return self._ids[: self._size].copy()

    def fingerprint(self, entry_id: int) -> bytes:
        row = self._row_of_id[entry_id]
        return self._words[:, row].astype(">u8").tobytes()

    def add(self, entry_id: int, fingerprint: bytes) -> None:
        """Store one fingerprint; raises ValueError if ``entry_id`` is already present."""
        self.add_many([entry_id], [fingerprint])

    def add_many(self, entry_ids: Sequence[int], fingerprints: Sequence[bytes]) -> None:
        """Store many fingerprints at once (bulk loading a vault's hashes at unlock)."""
        if len(entry_ids) != len(fingerprints):
            raise ValueError("entry_ids and fingerprints differ in length")
        ids = [int(entry_id) for entry_id in entry_ids]
        if len(set(ids)) != len(ids) or any(entry_id in self._row_of_id for entry_id in ids):
            raise ValueError("an id is already in the index (remove it first)")
        words = self._to_words(fingerprints)  # (n_words, n)
        count = len(ids)
        self._reserve(self._size + count)
        rows = slice(self._size, self._size + count)
        self._words[:, rows] = words
        self._ids[rows] = ids
        for offset, entry_id in enumerate(ids):
            self._row_of_id[entry_id] = self._size + offset
        self._size += count

    def remove(self, entry_id: int) -> None:
        """Forget one fingerprint; raises KeyError if ``entry_id`` is not present."""
        row = self._row_of_id.pop(entry_id)
        last = self._size - 1
        if row != last:
            self._words[:, row] = self._words[:, last]
            moved_id = int(self._ids[last])
            self._ids[row] = moved_id
            self._row_of_id[moved_id] = row
        self._size = last

    # ---- queries -------------------------------------------------------------------

    def distances(self, queries: bytes | Sequence[bytes]) -> np.ndarray:
        """Smallest distance from any query fingerprint to every entry, in storage order."""
        return self._min_distances(self._to_words(_as_list(queries)))

    def within(self, queries: bytes | Sequence[bytes], max_distance: int) -> list[HammingMatch]:
        """Entries within ``max_distance`` of any query fingerprint, nearest first."""
        query_words = self._to_words(_as_list(queries))
        nearest = self._min_distances(query_words)
        rows = np.flatnonzero(nearest <= max_distance)
        return self._matches(rows, query_words)

    def nearest(self, queries: bytes | Sequence[bytes], k: int) -> list[HammingMatch]:
        """The ``k`` entries closest to any query fingerprint (ties broken by lower id)."""
        if k <= 0 or self._size == 0:
            return []
        query_words = self._to_words(_as_list(queries))
        nearest = self._min_distances(query_words)
        if k < self._size:
            # Everything strictly closer than the k-th distance, plus enough of the tied
            # entries (by id, for a stable answer) to make k.
            kth_distance = np.partition(nearest, k - 1)[k - 1]
            rows = np.flatnonzero(nearest <= kth_distance)
            if len(rows) > k:
                order = np.lexsort((self._ids[rows], nearest[rows]))
                rows = rows[order[:k]]
        else:
            rows = np.arange(self._size)
        return self._matches(rows, query_words)

    # ---- internals -----------------------------------------------------------------

    def _to_words(self, fingerprints: Sequence[bytes]) -> np.ndarray:
        width = self.bits // 8
        for fingerprint in fingerprints:
            if len(fingerprint) != width:
                raise ValueError(f"fingerprint must be {width} bytes, got {len(fingerprint)}")
        packed = np.frombuffer(b"".join(fingerprints), dtype=">u8")
        return packed.reshape(len(fingerprints), self._n_words).T.astype(np.uint64)

    def _reserve(self, needed: int) -> None:
        capacity = self._words.shape[1]
        if needed <= capacity:
            return
        new_capacity = max(needed, 2 * capacity)
        words = np.zeros((self._n_words, new_capacity), dtype=np.uint64)
        words[:, : self._size] = self._words[:, : self._size]
        ids = np.zeros(new_capacity, dtype=np.int64)
        ids[: self._size] = self._ids[: self._size]
        self._words, self._ids = words, ids

    def _min_distances(self, query_words: np.ndarray) -> np.ndarray:
        """For every stored entry, the minimum distance over the query variants."""
        n_queries = query_words.shape[1]
        if n_queries == 0:
            raise ValueError("at least one query fingerprint is needed")
        result = np.empty(self._size, dtype=np.uint16)
        block = min(self._BLOCK_ROWS, max(self._size, 1))
        xor = np.empty((n_queries, block), dtype=np.uint64)
        bit_count = np.empty((n_queries, block), dtype=np.uint8)
        # One word's count is <= 64, so a pair of words sums to <= 128 and fits uint8
        # (half the memory traffic of uint16); pairs are accumulated in uint16, as a
        # 256-bit distance can reach 256.
        pair_sum = np.empty((n_queries, block), dtype=np.uint8)
        total = np.empty((n_queries, block), dtype=np.uint16)
        # Query word w for every variant as a column, broadcast against a row of entries.
        query_columns = [query_words[w][:, None] for w in range(self._n_words)]
        for start in range(0, self._size, block):
            stop = min(start + block, self._size)
            n = stop - start
            x, c, p, t = xor[:, :n], bit_count[:, :n], pair_sum[:, :n], total[:, :n]
            t.fill(0)
            for w in range(0, self._n_words, 2):
                np.bitwise_xor(self._words[w, start:stop][None, :], query_columns[w], out=x)
                _popcount(x, out=p)
                if w + 1 < self._n_words:
                    np.bitwise_xor(self._words[w + 1, start:stop][None, :], query_columns[w + 1], out=x)
                    _popcount(x, out=c)
                    np.add(p, c, out=p)
                np.add(t, p, out=t)
            np.min(t, axis=0, out=result[start:stop])
        return result

    def _matches(self, rows: np.ndarray, query_words: np.ndarray) -> list[HammingMatch]:
        if len(rows) == 0:
            return []
        # Recompute distances for the few selected rows per variant, to report which
        # query fingerprint matched (cheaper than tracking an argmin during the scan).
        per_query = np.zeros((query_words.shape[1], len(rows)), dtype=np.int32)
        counts = np.empty(per_query.shape, dtype=np.uint8)
        for w in range(self._n_words):
            per_query += _popcount(self._words[w, rows][None, :] ^ query_words[w][:, None], out=counts)
        best_query = per_query.argmin(axis=0)
        best_distance = per_query[best_query, np.arange(len(rows))]
        matches = [
            HammingMatch(distance=int(d), id=int(i), query_index=int(q))
            for d, i, q in zip(best_distance, self._ids[rows], best_query, strict=True)
        ]
        matches.sort()
        return matches


def _as_list(queries: bytes | Iterable[bytes]) -> list[bytes]:
    if isinstance(queries, (bytes, bytearray, memoryview)):
        return [bytes(queries)]
    return [bytes(query) for query in queries]
