"""The shortlist of vault photos a found image's local features point to (issue 23).

Matching a found image's 2,000 ORB descriptors against every vault photo's 500 at once costs in
proportion to the vault, and a ratio test over that whole pool takes its second neighbour from
some other photo ever more often as the vault grows, so recall falls. Instead:

1. every vault descriptor sits in one binary inverted-file index (FAISS `IndexBinaryIVF`); each
   query descriptor's nearest vault descriptor (within `VOTE_DISTANCE`) votes for its photo;
2. the photos with the most votes form the shortlist;
3. the matcher then runs the ratio test against each shortlisted photo's own descriptors only,
   and RANSAC as before (`matcher._by_features`).

The inverted file's cells are a vocabulary of `VOCABULARY_CELLS` binary centroids trained on the
vault's own descriptors once it has `TRAIN_MIN_PHOTOS` photos; a search visits the `PROBES`
nearest cells. Smaller vaults use one cell (an exact search, which is cheap at that size). Each
descriptor's cell is stored with the photo (`db.PhotoFeatureCells`), so the index is rebuilt at
unlock without assigning millions of descriptors again.

Qt-free and DB-free: `feature_store` loads, trains and persists it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np

from ..local_features import LocalFeatures

VOCABULARY_CELLS = 1024
# k-means on binary descriptors needs ~40 training points a cell: 100 photos give 50,000.
TRAIN_MIN_PHOTOS = 100
TRAIN_SAMPLE = 150_000
PROBES = 16
# A nearest neighbour farther than this votes for nothing: in a large vault every query
# descriptor has *some* nearest neighbour, and those of unrelated corners are mostly this far.
VOTE_DISTANCE = 64
SHORTLIST = 8  # photos verified per found image (plus PDQ's candidates)
# A descriptor's id is (photo id << ROW_BITS) | row: a photo has at most 2**ROW_BITS rows.
ROW_BITS = 10


def _faiss():
    import faiss  # lazily: only scans need it, and it loads in ~0.2 s

    global _single_threaded
    if not _single_threaded:
        # One thread per search: a scan already checks several images at once, and OpenMP
        # threads spinning for cores the other workers hold made a search 6× slower.
        faiss.omp_set_num_threads(1)
        _single_threaded = True
    return faiss


_single_threaded = False


def assign_cells(centroids: np.ndarray, descriptors: np.ndarray) -> np.ndarray:
    """The nearest centroid of each descriptor (uint16), as the index files it."""
    if len(centroids) <= 1 or not len(descriptors):
        return np.zeros(len(descriptors), np.uint16)
    faiss = _faiss()
    quantizer = faiss.IndexBinaryFlat(256)
    quantizer.add(np.ascontiguousarray(centroids, dtype=np.uint8))
    _, nearest = quantizer.search(np.ascontiguousarray(descriptors, dtype=np.uint8), 1)
    return nearest[:, 0].astype(np.uint16)


def train_vocabulary(sample: np.ndarray, cells: int | None = None, seed: int = 1234) -> np.ndarray:
    """Binary k-means centroids (cells × 32 bytes, VOCABULARY_CELLS by default) of a sample of
    ORB descriptors."""
    faiss = _faiss()
    cells = cells or VOCABULARY_CELLS
    index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(256), 256, cells)
    index.cp.seed = seed  # the same sample trains the same vocabulary
    index.cp.verbose = False
    index.train(np.ascontiguousarray(sample, dtype=np.uint8))
    quantizer = faiss.downcast_IndexBinary(index.quantizer)
    return faiss.rev_swig_ptr(quantizer.xb.data(), quantizer.ntotal * 32).copy().reshape(-1, 32)


class FeatureIndex:
    """Every vault photo's ORB descriptors, searchable by nearest neighbour, per photo.

    Thread-safe: a scan's workers search it while a sync adds or removes photos."""

    def __init__(self, centroids: np.ndarray | None = None, vocabulary_id: int = 0):
        faiss = _faiss()
        self.centroids = (np.zeros((1, 32), np.uint8) if centroids is None
                          else np.ascontiguousarray(centroids, dtype=np.uint8))
        self.vocabulary_id = vocabulary_id if centroids is not None else 0
        quantizer = faiss.IndexBinaryFlat(256)
        quantizer.add(self.centroids)
        self._index = faiss.IndexBinaryIVF(quantizer, 256, len(self.centroids))
        self._index.is_trained = True
        self._index.nprobe = min(PROBES, len(self.centroids))
        self._quantizer = quantizer  # the index does not own it: keep it alive
        self._features: dict[int, LocalFeatures] = {}
        self._lock = threading.RLock()

    @property
    def exact(self) -> bool:
        """One cell: every search compares with every descriptor."""
        return len(self.centroids) == 1

    def __len__(self) -> int:
        return len(self._features)

    def __contains__(self, photo_id: int) -> bool:
        return photo_id in self._features

    def photo_ids(self) -> set[int]:
        with self._lock:
            return set(self._features)

    def descriptor_count(self) -> int:
        return int(self._index.ntotal)

    def features(self, photo_id: int) -> LocalFeatures:
        return self._features[photo_id]

    def cells_of(self, features: LocalFeatures) -> np.ndarray:
        return assign_cells(self.centroids, features.descriptors)

    def add(self, photo_id: int, features: LocalFeatures, cells: np.ndarray | None = None) -> None:
        """File a photo's descriptors (in `cells` when already known, computed otherwise);
        a photo already in the index is replaced."""
        n = len(features.points)
        if n >= 1 << ROW_BITS:
            raise ValueError(f"a photo has at most {(1 << ROW_BITS) - 1} local features here")
        if cells is None:
            cells = self.cells_of(features)
        with self._lock:
            if photo_id in self._features:
                self.remove([photo_id])
            self._features[photo_id] = features
            if n:
                # Named arrays: a swig pointer does not keep its array alive.
                codes = np.ascontiguousarray(features.descriptors, dtype=np.uint8)
                ids = (np.int64(photo_id) << ROW_BITS) | np.arange(n, dtype=np.int64)
                lists = np.ascontiguousarray(cells, dtype=np.int64)
                self._index.add_core(n, _ptr(codes), _ptr(ids), _ptr(lists))

    def remove(self, photo_ids: Iterable[int]) -> None:
        faiss = _faiss()
        with self._lock:
            for photo_id in photo_ids:
                if self._features.pop(photo_id, None) is None:
                    continue
                first = photo_id << ROW_BITS
                self._index.remove_ids(faiss.IDSelectorRange(first, first + (1 << ROW_BITS)))

    def filed(self) -> dict[int, np.ndarray]:
        """The cell each photo's descriptors are filed in, read back from the inverted lists
        (photo id -> one cell per descriptor row): what two indexes are compared by."""
        faiss = _faiss()
        rows: dict[int, list[tuple[int, int]]] = {}
        with self._lock:
            lists = self._index.invlists
            for cell in range(len(self.centroids)):
                size = lists.list_size(cell)
                if not size:
                    continue
                ids = faiss.rev_swig_ptr(lists.get_ids(cell), size).copy()
                for entry in ids.tolist():
                    rows.setdefault(entry >> ROW_BITS, []).append((entry & ((1 << ROW_BITS) - 1), cell))
        return {pid: np.array([cell for _, cell in sorted(pairs)], np.uint16) for pid, pairs in rows.items()}

    def shortlist(self, descriptors: np.ndarray, count: int = SHORTLIST) -> tuple[dict[int, int], np.ndarray]:
        """(votes of the `count` photos with most, the photo each query descriptor voted for
        or -1): each votes for the photo of its nearest vault descriptor within VOTE_DISTANCE."""
        voted = np.full(len(descriptors), -1, np.int64)
        with self._lock:
            if not len(descriptors) or not self._index.ntotal:
                return {}, voted
            distances, ids = self._index.search(np.ascontiguousarray(descriptors, dtype=np.uint8), 1)
        near = (ids[:, 0] >= 0) & (distances[:, 0] <= VOTE_DISTANCE)
        voted[near] = ids[near, 0] >> ROW_BITS
        if not near.any():
            return {}, voted
        photos, votes = np.unique(voted[near], return_counts=True)
        best = np.argsort(-votes, kind="stable")[:count]
        return {int(photos[i]): int(votes[i]) for i in best}, voted


def _ptr(array: np.ndarray):
    return _faiss().swig_ptr(array)
