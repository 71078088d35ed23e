"""Search text through the vault: every word must match a tag, a person's name, the file name or
the date; short words match tags and names only whole."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from app.core import organize
from app.core.db import Face, Person, Photo, PhotoTag
from app.core.search import PhotoQuery, search_words

from .conftest import PHOTOS


@pytest.fixture
def tagged(vault):
    """Real photos with tags, a named person and known dates, as the organiser would leave them."""
    vault.import_paths([PHOTOS])
    ids = {p.filename: p.id for p in vault.list_photos()}
    dates = {"cat.jpg": datetime(2026, 6, 2), "pizza.jpg": datetime(2025, 6, 3), "kodim04.png": datetime(2026, 1, 9)}
    Photo.update(taken_at=datetime(2019, 3, 1)).execute()  # the others: file dates, of today
    for name, when in dates.items():
        Photo.update(taken_at=when).where(Photo.id == ids[name]).execute()
    rows = [("cat.jpg", "animals", "category"), ("cat.jpg", "tabby", "label"),
            ("pizza.jpg", "food & drink", "category"), ("pizza.jpg", "pizza", "label"),
            ("kodim04.png", "people", "category"), ("kodim04.png", "box", "label")]
    PhotoTag.insert_many([{"photo": ids[f], "term": t, "kind": k, "score": 1.0} for f, t, k in rows]).execute()
    person = Person.create(name="Barack Obama", created_at=datetime.now())
    Face.create(photo=ids["kodim04.png"], person=person, box=json.dumps([0, 0, 10, 10]), descriptor=b"\0" * 512,
                quality=1.0)
    return vault, ids


def found(vault, ids, text, **kw) -> set[str]:
    names = {v: k for k, v in ids.items()}
    return {names[i] for i in vault.find_photos(PhotoQuery(text=text, **kw))}


def test_every_word_must_match_something(tagged):
    vault, ids = tagged
    assert found(vault, ids, "tabby") == {"cat.jpg"}
    assert found(vault, ids, "2026") == {"cat.jpg", "kodim04.png"}
    assert found(vault, ids, "animals 2026") == {"cat.jpg"}  # a tag and a year: both
    assert found(vault, ids, "pizza 2026") == set()  # the pizza is from 2025
    assert found(vault, ids, "Barack") == {"kodim04.png"}  # a person's name, any case
    assert found(vault, ids, "obama 2026 people") == {"kodim04.png"}
    assert found(vault, ids, "june") == {"cat.jpg", "pizza.jpg"}
    assert found(vault, ids, "jun 2025") == {"pizza.jpg"}
    assert found(vault, ids, "kodim04") == {"kodim04.png"}  # the file name
    assert found(vault, ids, "CAT.JPG  tabby") == {"cat.jpg"}


def test_short_words_and_wildcards(tagged):
    vault, ids = tagged
    assert found(vault, ids, "ox") == set()  # "box" is no "ox"
    assert found(vault, ids, "box") == {"kodim04.png"}
    assert found(vault, ids, "%") == set() and found(vault, ids, "_") == set()  # characters, not wildcards
    assert found(vault, ids, "   ") == set()
    assert search_words("Boat  boat 2026") == ["boat", "2026"]


def test_text_combines_with_a_scope(tagged):
    vault, ids = tagged
    assert found(vault, ids, "2026", tag="animals") == {"cat.jpg"}
    assert found(vault, ids, "barack", tag="animals") == set()
    assert organize.list_people()[0].name == "Barack Obama"
