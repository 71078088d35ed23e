"""People: grouping face descriptors, incrementally, with the user's corrections respected.

Pure functions over ``FaceRecord(face_id, descriptor, person_id, confirmed, rejected)``: they
read records and return the changes to persist (``FaceChange``); they never touch a database.
The caller allocates person ids (``new_person_id``), so ids come from the vault's own table.

Model:
* A *person* is the set of faces sharing a ``person_id``; naming a person is the caller's
  business (a name column on its person row) and changes nothing here.
* ``confirmed`` faces were placed by the user (moved, or kept on merge): automatic passes never
  move them. ``rejected`` faces ("not a face", "not this person, leave it out") are never
  assigned again.
* New faces join an existing person when their distance to that person — the mean of their
  ``K_NEAREST`` nearest faces of that person — is under ``ASSIGN_THRESHOLD`` and clearly
  better than the runner-up; the rest are grouped among themselves by average-linkage
  agglomerative clustering cut at ``CLUSTER_THRESHOLD`` (dlib descriptors: same person ≲ 0.5,
  different people ≳ 0.6). Both thresholds were chosen with ``bench/organize_eval.py``.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .errors import VisionCancelled

CLUSTER_THRESHOLD = 0.50  # average-linkage cut for grouping unassigned faces
ASSIGN_THRESHOLD = 0.50  # a new face joins a person closer than this...
ASSIGN_MARGIN = 0.03  # ...if the next person is at least this much farther
K_NEAREST = 3
BLOCK = 2000  # faces clustered at once (average linkage needs O(n²) memory)


@dataclass(frozen=True, slots=True)
class FaceRecord:
    face_id: int
    descriptor: np.ndarray  # float32[128]
    person_id: int | None = None
    confirmed: bool = False  # placed by the user: never moved automatically
    rejected: bool = False  # excluded by the user: never assigned


@dataclass(frozen=True, slots=True)
class FaceChange:
    """The new state of one face; persist all three fields."""

    face_id: int
    person_id: int | None
    confirmed: bool
    rejected: bool


@dataclass(frozen=True, slots=True)
class ClusterUpdate:
    changes: tuple[FaceChange, ...]  # only faces whose state changed
    new_people: tuple[int, ...]  # person ids created by this update (from ``new_person_id``)

    def apply(self, faces: Iterable[FaceRecord]) -> list[FaceRecord]:
        """The records with these changes applied (for callers that keep records in memory)."""
        by_id = {c.face_id: c for c in self.changes}
        out = []
        for f in faces:
            c = by_id.get(f.face_id)
            out.append(f if c is None else replace(f, person_id=c.person_id, confirmed=c.confirmed, rejected=c.rejected))
        return out


def counter_from(faces: Iterable[FaceRecord], start: int = 1) -> Callable[[], int]:
    """A ``new_person_id`` for in-memory use: numbers above every person id already used."""
    used = [f.person_id for f in faces if f.person_id is not None]
    it = itertools.count(max(used, default=start - 1) + 1)
    lock = threading.Lock()

    def next_id() -> int:
        with lock:
            return next(it)

    return next_id


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(d, 0.0))


def agglomerate(descriptors: np.ndarray, threshold: float = CLUSTER_THRESHOLD) -> np.ndarray:
    """Average-linkage clustering; returns a cluster label (0..k-1) per row, in first-seen order."""
    n = len(descriptors)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    z = linkage(pdist(np.asarray(descriptors, dtype=np.float64)), method="average")
    raw = fcluster(z, t=threshold, criterion="distance")
    relabel: dict[int, int] = {}
    return np.array([relabel.setdefault(int(r), len(relabel)) for r in raw], dtype=np.int64)


def _person_scores(desc: np.ndarray, gallery: np.ndarray, gallery_pid: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``desc``: (person ids sorted by distance, their distances).

    A person's distance is the mean of the ``k`` smallest distances to that person's faces.
    Vectorised per row: O(G log G) for G gallery faces.
    """
    people, inv = np.unique(gallery_pid, return_inverse=True)
    dist = pairwise_distances(desc, gallery)
    ids, ds = [], []
    for row in dist:
        order = np.lexsort((row, inv))  # grouped by person, nearest first within a person
        grp, d = inv[order], row[order]
        starts = np.r_[0, np.nonzero(np.diff(grp))[0] + 1]
        rank = np.arange(len(grp)) - np.repeat(starts, np.diff(np.r_[starts, len(grp)]))
        keep = rank < k
        sums = np.bincount(grp[keep], weights=d[keep], minlength=len(people))
        counts = np.bincount(grp[keep], minlength=len(people))
        mean = sums / np.maximum(counts, 1)
        best = np.argsort(mean)
        ids.append(people[best])
        ds.append(mean[best])
    return ids, ds


def update_people(
    faces: Sequence[FaceRecord],
    new_person_id: Callable[[], int],
    *,
    assign_threshold: float = ASSIGN_THRESHOLD,
    cluster_threshold: float = CLUSTER_THRESHOLD,
    margin: float = ASSIGN_MARGIN,
    min_cluster_size: int = 1,
    cancel: threading.Event | None = None,
) -> ClusterUpdate:
    """Give every unassigned, unrejected face a person: an existing one or a new one.

    Faces that already have a person keep it. Pending faces are handled in blocks of
    ``BLOCK`` (bounded memory for the O(n²) clustering step): each block is first matched
    against the people known so far, the rest of it is clustered into new people, which the
    next block can then join. With ``min_cluster_size`` > 1, groups smaller than that stay
    unassigned (to be reconsidered when more photos arrive).
    """
    gal_desc: list[np.ndarray] = []
    gal_pid: list[int] = []
    pending: list[FaceRecord] = []
    for f in faces:
        if f.rejected:
            continue
        if f.person_id is not None:
            gal_desc.append(np.asarray(f.descriptor, dtype=np.float32))
            gal_pid.append(f.person_id)
        else:
            pending.append(f)

    changes: list[FaceChange] = []
    new_people: list[int] = []
    for start in range(0, len(pending), BLOCK):
        if cancel is not None and cancel.is_set():
            raise VisionCancelled("people clustering cancelled")
        block = pending[start : start + BLOCK]
        desc = np.stack([np.asarray(f.descriptor, dtype=np.float32) for f in block])
        leftovers: list[int] = []
        if gal_pid:
            ids, ds = _person_scores(desc, np.stack(gal_desc), np.asarray(gal_pid), K_NEAREST)
            for n, (f, pid_order, d) in enumerate(zip(block, ids, ds, strict=True)):
                if d[0] < assign_threshold and (len(d) == 1 or d[1] - d[0] >= margin):
                    changes.append(FaceChange(f.face_id, int(pid_order[0]), False, False))
                    gal_desc.append(desc[n])
                    gal_pid.append(int(pid_order[0]))
                else:
                    leftovers.append(n)
        else:
            leftovers = list(range(len(block)))
        if not leftovers:
            continue
        labels = agglomerate(desc[leftovers], cluster_threshold)
        members: dict[int, list[int]] = defaultdict(list)
        for n, lab in zip(leftovers, labels, strict=True):
            members[int(lab)].append(n)
        for lab in sorted(members):
            group = members[lab]
            if len(group) < min_cluster_size:
                continue
            pid = new_person_id()
            new_people.append(pid)
            for n in group:
                changes.append(FaceChange(block[n].face_id, pid, False, False))
                gal_desc.append(desc[n])
                gal_pid.append(pid)
    return ClusterUpdate(tuple(changes), tuple(new_people))


def recluster_all(
    faces: Sequence[FaceRecord],
    new_person_id: Callable[[], int],
    *,
    keep_people: Iterable[int] = (),
    cluster_threshold: float = CLUSTER_THRESHOLD,
) -> ClusterUpdate:
    """Start over (e.g. after the thresholds change): every face not confirmed and not in a
    person listed in ``keep_people`` (the named ones, say) is unassigned, then ``update_people``
    runs. Confirmed faces and kept people stay as they are."""
    keep = set(keep_people)
    reset = [
        f if (f.confirmed or f.rejected or f.person_id in keep) else replace(f, person_id=None)
        for f in faces
    ]
    upd = update_people(reset, new_person_id, cluster_threshold=cluster_threshold)
    # report faces that lost their person and were not re-assigned, too
    assigned = {c.face_id for c in upd.changes}
    before = {f.face_id: f for f in faces}
    extra = [
        FaceChange(f.face_id, None, f.confirmed, f.rejected)
        for f in reset
        if f.person_id is None and not f.rejected and f.face_id not in assigned and before[f.face_id].person_id is not None
    ]
    changes = [c for c in upd.changes if before[c.face_id].person_id != c.person_id] + extra
    return ClusterUpdate(tuple(changes), upd.new_people)


def merge_people(faces: Sequence[FaceRecord], keep: int, absorb: int) -> ClusterUpdate:
    """Move every face of person ``absorb`` to person ``keep`` (the user said: same person)."""
    if keep == absorb:
        return ClusterUpdate((), ())
    changes = tuple(
        FaceChange(f.face_id, keep, f.confirmed, f.rejected) for f in faces if f.person_id == absorb
    )
    return ClusterUpdate(changes, ())


def move_face(face: FaceRecord, to_person: int) -> ClusterUpdate:
    """The user put this face on ``to_person``: it is confirmed there (and un-rejected)."""
    return ClusterUpdate((FaceChange(face.face_id, to_person, True, False),), ())


def move_face_to_new_person(face: FaceRecord, new_person_id: Callable[[], int]) -> ClusterUpdate:
    """The user split this face off into a person of its own."""
    pid = new_person_id()
    return ClusterUpdate((FaceChange(face.face_id, pid, True, False),), (pid,))


def reject_face(face: FaceRecord) -> ClusterUpdate:
    """The user says this is not a face worth keeping (or not anyone): never assign it again."""
    return ClusterUpdate((FaceChange(face.face_id, None, False, True),), ())


def unreject_face(face: FaceRecord) -> ClusterUpdate:
    """Undo ``reject_face``: the face waits for the next ``update_people``."""
    return ClusterUpdate((FaceChange(face.face_id, None, False, False),), ())


def suggest_people(
    descriptor: np.ndarray, faces: Sequence[FaceRecord], *, limit: int = 3, max_distance: float = 0.6
) -> list[tuple[int, float]]:
    """People closest to ``descriptor`` (for a "who is this?" menu): [(person_id, distance)]."""
    known = [f for f in faces if f.person_id is not None and not f.rejected]
    if not known:
        return []
    gallery = np.stack([np.asarray(f.descriptor, dtype=np.float32) for f in known])
    ids, ds = _person_scores(np.asarray(descriptor, dtype=np.float32)[None, :], gallery, np.asarray([f.person_id for f in known]), K_NEAREST)
    return [(int(p), float(d)) for p, d in zip(ids[0][:limit], ds[0][:limit], strict=True) if d <= max_distance]


def bcubed(predicted: Sequence[object], truth: Sequence[object]) -> tuple[float, float]:
    """BCubed (precision, recall) of a clustering against true labels (one entry per item)."""
    n = len(truth)
    if n == 0:
        return 1.0, 1.0
    pred = np.unique(np.asarray([repr(p) for p in predicted]), return_inverse=True)[1]
    true = np.unique(np.asarray([repr(t) for t in truth]), return_inverse=True)[1]
    same_pred = pred[:, None] == pred[None, :]
    same_true = true[:, None] == true[None, :]
    both = (same_pred & same_true).sum(1)
    precision = float((both / same_pred.sum(1)).mean())
    recall = float((both / same_true.sum(1)).mean())
    return precision, recall
