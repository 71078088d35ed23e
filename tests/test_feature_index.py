"""The leak scan's feature index: shortlisting the right photo, kept in step with the vault's DB
through imports and deletes, and the same when rebuilt from what the DB stores."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageOps

from app.core import db
from app.core.leaks import feature_index, feature_store
from app.core.leaks.feature_index import FeatureIndex, train_vocabulary
from app.core.local_features import LocalFeatures, local_features

from .conftest import PHOTOS


def tiles() -> dict[str, Image.Image]:
    """The quarters of every test photo: 28 real pictures that share no pixels."""
    out = {}
    for path in sorted(PHOTOS.iterdir()):
        image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        w, h = image.width // 2, image.height // 2
        for row in range(2):
            for col in range(2):
                out[f"{path.stem}-{row}{col}"] = image.crop((col * w, row * h, (col + 1) * w, (row + 1) * h))
    return out


def query_of(image: Image.Image) -> np.ndarray:
    """A found copy's descriptors: the middle 60 % of the picture, turned 7°, JPEG 75."""
    w, h = image.size
    copy = image.crop((w // 5, h // 5, w - w // 5, h - h // 5)).rotate(7, expand=True)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=75)
    return local_features(Image.open(io.BytesIO(out.getvalue())), 1400, 2000).descriptors


@pytest.fixture(scope="module")
def tile_features():
    return {name: local_features(image) for name, image in tiles().items()}


@pytest.mark.parametrize("cells", [None, 16])
def test_a_crop_shortlists_its_own_photo_first(tile_features, cells):
    """Exact (one cell) and with a trained vocabulary: the photo a crop comes from has the most
    votes among 28 photos, for every tile of a textured enough picture."""
    names = sorted(tile_features)
    centroids = None
    if cells:
        centroids = train_vocabulary(np.vstack([f.descriptors for f in tile_features.values()]), cells)
    index = FeatureIndex(centroids, vocabulary_id=1 if cells else 0)
    for photo_id, name in enumerate(names, 1):
        index.add(photo_id, tile_features[name])
    assert index.exact == (cells is None)
    assert index.descriptor_count() == sum(len(f.points) for f in tile_features.values())
    images = tiles()
    checked = 0
    for photo_id, name in enumerate(names, 1):
        if len(tile_features[name].points) < 300:  # a flat quarter (sky, wall): too few features
            continue
        votes, voted_for = index.shortlist(query_of(images[name]))
        assert next(iter(votes)) == photo_id, name
        assert (voted_for == photo_id).sum() == votes[photo_id]
        checked += 1
    assert checked >= 20


def test_a_removed_photo_is_never_shortlisted(tile_features):
    names = sorted(tile_features)
    index = FeatureIndex()
    for photo_id, name in enumerate(names, 1):
        index.add(photo_id, tile_features[name])
    target = names.index("horses-00") + 1
    query = query_of(tiles()["horses-00"])
    assert next(iter(index.shortlist(query)[0])) == target
    index.remove([target])
    votes, voted_for = index.shortlist(query)
    assert target not in votes and target not in voted_for
    assert target not in index.photo_ids()
    assert index.descriptor_count() == sum(len(tile_features[n].points) for n in names if n != "horses-00")


@pytest.fixture
def small_vocabulary(monkeypatch):
    """A vocabulary from the fourth photo on (the real one waits for 100 photos and has 1,024
    cells, more than a few test photos can train)."""
    monkeypatch.setattr(feature_store, "TRAIN_MIN_PHOTOS", 4)
    monkeypatch.setattr(feature_index, "VOCABULARY_CELLS", 16)


def stored_cells() -> dict[int, tuple[int, bytes]]:
    return {row.photo_id: (row.vocabulary, bytes(row.cells)) for row in db.PhotoFeatureCells.select()}


def test_imports_and_deletes_keep_the_index_in_step(vault, photo_dir, small_vocabulary):
    paths = sorted(photo_dir.iterdir())
    first = vault.import_paths(paths[:3]).imported
    index = vault.build_matcher().feature_index
    assert index.exact and index.photo_ids() == set(first)  # three photos: no vocabulary yet
    assert stored_cells() == {}

    second = vault.import_paths(paths[3:5]).imported
    index = vault.build_matcher().feature_index  # five photos: trained, every photo filed
    assert not index.exact
    assert index.photo_ids() == set(first + second)
    assert set(stored_cells()) == set(first + second)

    # Imported once a vocabulary exists: the importer files the photo's cells itself.
    [third] = vault.import_paths(paths[5:6]).imported
    assert stored_cells()[third][0] == index.vocabulary_id

    gone = first[0]
    query = query_of(ImageOps.exif_transpose(Image.open(paths[0])).convert("RGB"))
    assert gone in index.shortlist(query)[0]
    vault.delete([gone])
    assert gone not in index.photo_ids()  # at once, not only at the next scan
    matcher = vault.build_matcher()
    assert matcher.feature_index is index
    assert index.photo_ids() == {p.id for p in vault.list_photos()}
    assert gone not in stored_cells()
    assert gone not in index.shortlist(query)[0]
    data = (photo_dir / paths[0].name).read_bytes()
    assert all(m.photo_id != gone for m in matcher.match_bytes(data))


def test_rebuilt_from_scratch_equals_incremental(vault, photo_dir, small_vocabulary):
    """The index kept up to date through imports and a delete equals the one loaded from the DB
    (as at unlock) and the one filed from scratch; a rebuild on demand trains a new vocabulary
    and files every photo again."""
    paths = sorted(photo_dir.iterdir())
    ids = vault.import_paths(paths[:5]).imported
    vault.build_matcher()
    ids += vault.import_paths(paths[5:]).imported
    vault.delete([ids[1]])
    incremental = vault.build_matcher().feature_index
    kept = set(ids) - {ids[1]}
    from_db = feature_store.synced(None)
    from_scratch = FeatureIndex(incremental.centroids, incremental.vocabulary_id)
    for row in db.PhotoFeatures.select():
        from_scratch.add(row.photo_id, LocalFeatures.from_bytes(bytes(row.data)))
    queries = [query_of(ImageOps.exif_transpose(Image.open(p)).convert("RGB")) for p in paths]
    assert incremental.photo_ids() == from_db.photo_ids() == from_scratch.photo_ids() == kept
    filed = incremental.filed()
    assert set(filed) == kept
    for other in (from_db, from_scratch):
        assert set(other.filed()) == kept
        assert all(np.array_equal(other.filed()[pid], filed[pid]) for pid in kept)
    # Searches agree too (up to the order of equally near neighbours in a cell).
    for query in queries:
        for other in (from_db, from_scratch):
            assert next(iter(other.shortlist(query)[0])) == next(iter(incremental.shortlist(query)[0]))

    assert vault.rebuild_feature_index() == len(kept)
    rebuilt = vault.build_matcher().feature_index
    assert rebuilt.vocabulary_id != incremental.vocabulary_id
    assert rebuilt.photo_ids() == kept
    assert set(stored_cells()) == kept
    assert {vocabulary for vocabulary, _ in stored_cells().values()} == {rebuilt.vocabulary_id}
    for query in queries:
        assert next(iter(rebuilt.shortlist(query)[0])) == next(iter(incremental.shortlist(query)[0]))


def test_cli_reindex(vault, photo_dir, small_vocabulary):
    ids = vault.import_paths(sorted(photo_dir.iterdir())[:4]).imported
    vault_path = vault.path
    vault.lock()
    from .test_cli import sanctum

    assert json.loads(sanctum("reindex", "--json", vault=vault_path).stdout) == {"photos": len(ids)}
