"""Organising through the vault: real models on real photos, persisted and searchable."""

from __future__ import annotations

import json
import threading

import pytest

pytest.importorskip("torch")
pytest.importorskip("dlib")
pytest.importorskip("onnxruntime")

from app.core import organize  # noqa: E402
from app.core.db import Face, PhotoTag  # noqa: E402

from .conftest import PHOTOS  # noqa: E402


@pytest.fixture
def indexed(vault):
    vault.import_paths([PHOTOS])
    report = vault.analyze()
    return vault, report, {p.filename: p.id for p in vault.list_photos()}


def test_analysis_is_stored_and_searchable(indexed):
    vault, report, ids = indexed
    assert report.analyzed == len(ids) and not report.cancelled
    assert organize.pending_photo_ids() == []
    assert "pizza.jpg" in {p.filename for p in vault.list_photos(tag="food & drink")}
    assert "cat.jpg" in {p.filename for p in vault.list_photos(tag="animals")}
    assert "cat.jpg" not in {p.filename for p in vault.list_photos(tag="vehicles")}
    details = vault.photo_details([ids["kodim04.png"], ids["pizza.jpg"]])
    portrait = details[ids["kodim04.png"]]
    assert portrait.faces >= 1 and portrait.categories[0] == "people" and portrait.people
    assert not details[ids["pizza.jpg"]].sensitive
    # face descriptors are stored (in the encrypted DB) as 128 float32
    assert all(len(bytes(f.descriptor)) == 128 * 4 for f in Face.select())
    assert PhotoTag.select().where(PhotoTag.kind == "label").count() > 0


def test_people_can_be_named_merged_and_searched(indexed):
    vault, _, ids = indexed
    face = Face.select().where(Face.photo == ids["kodim04.png"]).first()
    assert face is not None and face.person_id is not None, "the Kodak portrait's face has a person"
    person = face.person_id
    organize.name_person(person, "Ada")
    assert "kodim04.png" in {p.filename for p in vault.list_photos(person="ada")}
    assert vault.photo_details([ids["kodim04.png"]])[ids["kodim04.png"]].people == ["Ada"]

    organize.move_face(face.id, None)  # "this is someone else": a new person of its own
    moved = Face.get_by_id(face.id)
    assert moved.person_id not in (None, person) and moved.confirmed
    assert "kodim04.png" not in {p.filename for p in vault.list_photos(person="Ada")}

    organize.name_person(moved.person_id, "Bea")
    organize.merge_people(moved.person_id, person) if Face.select().where(Face.person == person).exists() else None
    assert "kodim04.png" in {p.filename for p in vault.list_photos(person="Bea")}

    organize.reject_face(face.id)  # not a face worth grouping
    assert Face.get_by_id(face.id).rejected
    assert "kodim04.png" not in {p.filename for p in vault.list_photos(person="Bea")}


def test_sensitive_override_and_filter(indexed):
    vault, _, ids = indexed
    assert vault.list_photos(sensitive=True) == []
    organize.set_sensitive(ids["cat.jpg"], True)
    assert [p.filename for p in vault.list_photos(sensitive=True)] == ["cat.jpg"]
    organize.set_sensitive(ids["cat.jpg"], None)  # back to the model's verdict
    assert vault.list_photos(sensitive=True) == []


def test_indexing_resumes_after_cancel(vault, monkeypatch):
    monkeypatch.setattr(organize, "CHUNK", 2)  # 7 photos: several chunks
    vault.import_paths([PHOTOS])
    total = vault.count()
    cancel = threading.Event()
    seen = []

    def progress(done, total_):
        seen.append(done)
        if done >= organize.CHUNK:
            cancel.set()

    first = vault.analyze(progress=progress, cancel=cancel)
    assert first.cancelled and 0 < first.analyzed < total
    second = vault.analyze()
    assert first.analyzed + second.analyzed == total and organize.pending_photo_ids() == []


def test_cli_list_json_fills_tags_people_sensitive(indexed, tmp_path):
    vault, _, ids = indexed
    path = vault.path
    vault.lock()
    from .test_cli import sanctum

    listed = json.loads(sanctum("list", "--tag", "animals", "--json", vault=path).stdout)["photos"]
    names = {p["filename"] for p in listed}
    assert "cat.jpg" in names and "pizza.jpg" not in names
    for photo in listed:
        assert "animals" in photo["tags"] and photo["sensitive"] is False and isinstance(photo["faces"], int)
    people = json.loads(sanctum("people", "--json", vault=path).stdout)["people"]
    assert people and all(p["faces"] >= 1 for p in people)
