"""The feature index kept in step with the vault's DB: loaded at the first scan of a session,
brought up to date at every later one, trained and rebuilt when needed.

The index itself (`feature_index.FeatureIndex`) is memory only; what the DB keeps is what
rebuilds it fast: the vocabulary (`db.FeatureVocabulary`) and every photo's descriptor cells
(`db.PhotoFeatureCells`), written at import (`vault.importer`) or here, in short transactions.
A deleted photo's cells go with it (foreign key) and it leaves the index at the next sync, or at
once through `LeakStore.forget_photo`.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterable

import numpy as np
import peewee

from .. import db
from ..db import FeatureVocabulary, PhotoFeatureCells, PhotoFeatures
from ..local_features import LocalFeatures
from ..progress import Progress
from ..vault.records import local_now
from .feature_index import TRAIN_MIN_PHOTOS, TRAIN_SAMPLE, FeatureIndex, assign_cells, train_vocabulary

log = logging.getLogger(__name__)

LOAD_BATCH = 500  # photos read (and their missing cells written) per step


def current_vocabulary() -> tuple[int, np.ndarray] | None:
    """(id, centroids) of the vault's vocabulary, or None while it has none."""
    row = FeatureVocabulary.select().order_by(FeatureVocabulary.id.desc()).first()
    if row is None:
        return None
    return row.id, np.frombuffer(bytes(row.centroids), np.uint8).reshape(-1, 32)


def cells_for_import(vocabulary: tuple[int, np.ndarray] | None, features: LocalFeatures
                     ) -> tuple[int, bytes] | None:
    """(vocabulary id, cells) to store with a photo being imported; None without a vocabulary."""
    if vocabulary is None:
        return None
    vocabulary_id, centroids = vocabulary
    return vocabulary_id, assign_cells(centroids, features.descriptors).tobytes()


def synced(index: FeatureIndex | None, progress: Progress = lambda done, total: None,
           cancel: threading.Event | None = None) -> FeatureIndex:
    """`index` (or a new one) holding exactly the photos with stored features: photos deleted
    since are removed, photos imported since added; trained first when the vault has grown to
    TRAIN_MIN_PHOTOS photos without a vocabulary."""
    stored = {pid for (pid,) in PhotoFeatures.select(PhotoFeatures.photo).tuples()}
    vocabulary = current_vocabulary()
    if vocabulary is None and len(stored) >= TRAIN_MIN_PHOTOS:
        vocabulary = _train(sorted(stored))
    vocabulary_id = vocabulary[0] if vocabulary else 0
    if index is None or index.vocabulary_id != vocabulary_id:
        index = FeatureIndex(vocabulary[1] if vocabulary else None, vocabulary_id)
    index.remove(index.photo_ids() - stored)
    missing = sorted(stored - index.photo_ids())
    progress(0, len(missing))
    for start in range(0, len(missing), LOAD_BATCH):
        if cancel is not None and cancel.is_set():
            break  # what is loaded stays; the next sync adds the rest
        _load(index, missing[start:start + LOAD_BATCH])
        progress(min(start + LOAD_BATCH, len(missing)), len(missing))
    return index


def rebuild(progress: Progress = lambda done, total: None, cancel: threading.Event | None = None
            ) -> FeatureIndex:
    """A new vocabulary trained on the vault as it is now, and the index built again (the
    vocabulary was trained when the vault was small, or the stored cells are in doubt); a vault
    too small for one is loaded again as it is."""
    stored = sorted(pid for (pid,) in PhotoFeatures.select(PhotoFeatures.photo).tuples())
    if len(stored) >= TRAIN_MIN_PHOTOS:
        # The new row is made before the old ones go, so its id is new: an id used again would
        # make cells filed under the old centroids (an import running meanwhile) look current.
        vocabulary_id, _ = _train(stored)
        with db.database.atomic():
            FeatureVocabulary.delete().where(FeatureVocabulary.id != vocabulary_id).execute()
    return synced(None, progress, cancel)


def _train(photo_ids: list[int]) -> tuple[int, np.ndarray]:
    """Train a vocabulary on a sample of the vault's descriptors and store it."""
    per_photo = max(1, TRAIN_SAMPLE // 500)
    sample_ids = random.Random(len(photo_ids)).sample(photo_ids, min(len(photo_ids), per_photo))
    descriptors = [LocalFeatures.from_bytes(bytes(data)).descriptors
                   for (data,) in PhotoFeatures.select(PhotoFeatures.data)
                   .where(PhotoFeatures.photo.in_(sample_ids)).tuples()]
    centroids = train_vocabulary(np.vstack(descriptors))
    with db.database.atomic():
        row = FeatureVocabulary.create(centroids=centroids.tobytes(), trained_on=len(photo_ids),
                                       created_at=local_now())
    log.info("feature vocabulary trained on %d photos", len(photo_ids))
    return row.id, centroids


def _load(index: FeatureIndex, photo_ids: Iterable[int]) -> None:
    """Add these photos' stored features to the index; cells missing or of another vocabulary
    are computed and stored (one short transaction for the batch)."""
    query = (PhotoFeatures.select(PhotoFeatures.photo, PhotoFeatures.data, PhotoFeatureCells.vocabulary,
                                  PhotoFeatureCells.cells)
             .join(PhotoFeatureCells, peewee.JOIN.LEFT_OUTER, on=(PhotoFeatures.photo == PhotoFeatureCells.photo))
             .where(PhotoFeatures.photo.in_(list(photo_ids))).tuples())
    computed: list[dict] = []
    for photo_id, data, vocabulary_id, cells in query:
        features = LocalFeatures.from_bytes(bytes(data))
        stored = np.frombuffer(bytes(cells), np.uint16) if cells is not None else None
        if stored is None or vocabulary_id != index.vocabulary_id or len(stored) != len(features.points):
            stored = index.cells_of(features)
            if not index.exact:
                computed.append({"photo": photo_id, "vocabulary": index.vocabulary_id, "cells": stored.tobytes()})
        index.add(photo_id, features, stored)
    if computed:
        with db.database.atomic():
            PhotoFeatureCells.replace_many(computed).execute()
