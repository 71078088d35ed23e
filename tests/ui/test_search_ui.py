"""Search in the gallery: the whole vault unless narrowed, the scope shown in the header, and
several words combined — on a real vault with real photos."""

from __future__ import annotations

import json
from datetime import datetime

from app.core.db import Face, Person, PhotoTag
from app.ui.gallery import Roles
from app.ui.sidebar import Scope


def _import(qtbot, window, photo_dir):
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(photo_dir)])


def shown(window) -> set[str]:
    return {window.proxy.index(r, 0).data(Roles.Info).filename for r in range(window.proxy.rowCount())}


def tag(window, rows) -> dict[str, int]:
    """Tags and a named person as the organiser leaves them (the models are not run here)."""
    ids = {p.filename: p.id for p in window.model.photos}
    PhotoTag.insert_many([{"photo": ids[f], "term": t, "kind": k, "score": 1.0} for f, t, k in rows]).execute()
    return ids


def test_search_looks_everywhere_shows_its_scope_and_combines_words(qtbot, unlocked, photo_dir):
    session, window, _ = unlocked
    _import(qtbot, window, photo_dir)
    # photoNN.jpg is dated 20(20 + N % 4): photo01 and photo05 are from 2021
    ids = tag(window, [("photo01.jpg", "vehicles", "category"), ("photo01.jpg", "boat", "label"),
                       ("photo02.jpg", "vehicles", "category"), ("photo02.jpg", "boat", "label"),
                       ("photo03.jpg", "people", "category")])
    person = Person.create(name="Barack", created_at=datetime.now())
    Face.create(photo=ids["photo03.jpg"], person=person, box=json.dumps([0, 0, 9, 9]), descriptor=b"\0" * 512,
                quality=1.0)

    window.sidebar.select_scope(Scope("tag", tag="vehicles"))
    qtbot.waitUntil(lambda: shown(window) == {"photo01.jpg", "photo02.jpg"}, timeout=10_000)
    assert window.library.scope_title.text() == "Vehicles"
    assert not window.library.search_scope.isVisible()

    # a person outside Vehicles is found: the search looks through the whole vault, and says so
    window.search.setText("Barack")
    qtbot.waitUntil(lambda: shown(window) == {"photo03.jpg"}, timeout=10_000)
    assert window.library.scope_title.text() == "Results for “Barack”"
    assert window.library.search_scope.isVisible() and window.library.search_all.isChecked()
    assert window.library.search_here.text() == "Vehicles"
    assert window.library.scope_count.text() == "1 photo"

    # narrowed to Vehicles by the user: nothing, and the empty gallery says where it looked
    window.library.search_here.click()
    qtbot.waitUntil(lambda: shown(window) == set(), timeout=5_000)
    assert "Nothing in Vehicles matches" in window.gallery.empty_text
    window.library.search_all.click()
    assert shown(window) == {"photo03.jpg"}

    # several words: each must match (a tag and a year)
    window.search.setText("boat 2021")
    qtbot.waitUntil(lambda: shown(window) == {"photo01.jpg"}, timeout=10_000)
    window.search.setText("boat")
    qtbot.waitUntil(lambda: shown(window) == {"photo01.jpg", "photo02.jpg"}, timeout=10_000)

    # a new search starts everywhere again; the sidebar ends the search and shows its entry
    window.library.search_here.click()
    window.search.clear()
    window.search.setText("photo0")
    assert window.library.search_all.isChecked() and len(shown(window)) == 8
    window.sidebar.select_scope(Scope("tag", tag="people"))
    assert window.search.text() == "" and window.library.scope_title.text() == "Photos with people"
    qtbot.waitUntil(lambda: shown(window) == {"photo03.jpg"}, timeout=10_000)


def test_search_from_the_people_view_shows_photos(qtbot, unlocked, photo_dir):
    session, window, _ = unlocked
    _import(qtbot, window, photo_dir)
    window.sidebar.select_scope(Scope("people"))
    assert window.library.middle.currentWidget() is window.people_page
    window.search.setText("photo05")
    assert window.library.middle.currentWidget() is window.gallery
    assert shown(window) == {"photo05.jpg"}
    assert window.library.search_in.text() == "in all photos"
    window.search.clear()
    assert window.library.middle.currentWidget() is window.people_page
    assert window.library.scope_title.text() == "People"


def test_sidebar_counts_follow_delete_and_not_a_face(qtbot, unlocked, photo_dir, monkeypatch):
    from app.core.organize import PersonEdit
    from app.ui import dialogs
    from app.ui.sidebar import COUNT_ROLE

    session, window, _ = unlocked
    _import(qtbot, window, photo_dir)
    ids = tag(window, [(f"photo0{n}.jpg", "vehicles", "category") for n in (1, 2, 3)]
              + [("photo04.jpg", "people", "category")])
    person = Person.create(name="Dana", created_at=datetime.now())
    face = Face.create(photo=ids["photo04.jpg"], person=person, box=json.dumps([0, 0, 9, 9]),
                       descriptor=b"\0" * 512, quality=1.0)
    window.organiser.refresh_summary()
    items = window.sidebar_model.category_items
    qtbot.waitUntil(lambda: items["vehicles"].data(COUNT_ROLE) == 3, timeout=10_000)
    assert items["people"].data(COUNT_ROLE) == 1 and window.sidebar_model.people_item.data(COUNT_ROLE) == 1

    # delete two vehicles: the count follows at once, without locking and unlocking
    window.sidebar.select_scope(Scope("tag", tag="vehicles"))
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 3, timeout=10_000)
    select = window.gallery.selectionModel().SelectionFlag.Select
    for row in (0, 1):
        window.gallery.selectionModel().select(window.proxy.index(row, 0), select)
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    window.delete_action.trigger()
    qtbot.waitUntil(lambda: items["vehicles"].data(COUNT_ROLE) == 1, timeout=10_000)
    assert window.proxy.rowCount() == 1
    assert items["vehicles"].text() == "Vehicles  (1)"

    # "Not a face" on the only face: no person, and the photo leaves "Photos with people"
    window.sidebar.select_scope(Scope("tag", tag="people"))
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 1, timeout=10_000)
    window.edit_people(PersonEdit("reject", face_id=face.id))
    qtbot.waitUntil(lambda: items["people"].data(COUNT_ROLE) == 0, timeout=10_000)
    assert window.sidebar_model.people_item.data(COUNT_ROLE) == 0
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 0, timeout=10_000)
    assert session.vault.photo_details([ids["photo04.jpg"]])[ids["photo04.jpg"]].categories == []
