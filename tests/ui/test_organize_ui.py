"""Organising in the GUI, on a real vault with the real models: the background organise job,
tags and people in the sidebar, the People view, face corrections, sensitive photos blurred until
revealed, search, and cancelling the job."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from app.core import organize
from app.core.vision.errors import VisionUnavailable
from app.ui.gallery import Roles
from app.ui.organize_ui import OrganiseController
from app.ui.people_view import PeopleModel, PeopleRoles
from app.ui.sidebar import COUNT_ROLE, Scope
from tests.ui.conftest import DATA

ORGANISE = True  # this module wants the organise job after imports (conftest)
PHOTOS = DATA / "photos"


def import_and_organise(qtbot, window, paths, timeout=90_000):
    # (the unlock's own run, over an empty vault, may end meanwhile: wait for the one that worked)
    with qtbot.waitSignal(window.organiser.finished, timeout=timeout,
                          check_params_cb=lambda r: r.report.analyzed > 0) as organised:
        with qtbot.waitSignal(window.import_finished, timeout=60_000):
            window.start_import([str(p) for p in paths])
    return organised.args[0]


def shown_names(window) -> set[str]:
    return {window.proxy.index(r, 0).data(Roles.Info).filename for r in range(window.proxy.rowCount())}


def photo_id(window, filename: str) -> int:
    return next(p.id for p in window.model.photos if p.filename == filename)


def variance(pixmap) -> float:
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    ptr = image.constBits()
    data = np.frombuffer(ptr, dtype=np.uint8, count=image.sizeInBytes()).reshape(image.height(),
                                                                                  image.bytesPerLine())
    return float(data[:, : image.width()].astype(np.float32).var())


def test_import_organises_then_tags_people_search_and_fixes(qtbot, unlocked, qtmodeltester):
    session, window, _ = unlocked
    result = import_and_organise(qtbot, window, [PHOTOS])
    assert result.report.analyzed == 7 and not result.report.cancelled
    qtbot.waitUntil(lambda: not window.organise_status.isVisible(), timeout=5_000)
    qtbot.waitUntil(lambda: bool(window.sidebar_model.category_items["animals"].data(COUNT_ROLE)), timeout=10_000)
    items = window.sidebar_model.category_items
    assert items["animals"].data(COUNT_ROLE) >= 2  # the cat (and the dog, the parrot…)
    assert items["food & drink"].data(COUNT_ROLE) >= 2  # pizza and coffee
    assert window.sidebar_model.people_item.data(COUNT_ROLE) == 1  # the portrait
    assert window.sidebar_model.more_tags_item.rowCount() > 0

    # a category in the sidebar filters the gallery
    window.sidebar.select_scope(Scope("tag", tag="food & drink"))
    qtbot.waitUntil(lambda: "pizza.jpg" in shown_names(window), timeout=10_000)
    assert "cat.jpg" not in shown_names(window)
    window.sidebar.select_scope(Scope("tag", tag="animals"))
    qtbot.waitUntil(lambda: "cat.jpg" in shown_names(window), timeout=10_000)
    assert "pizza.jpg" not in shown_names(window)

    # search: a fine label that is no file name, suggestions include it
    window.sidebar.select_scope(Scope("all"))
    window.search.setText("tabby")
    qtbot.waitUntil(lambda: shown_names(window) == {"cat.jpg"}, timeout=10_000)
    assert "tabby" in window.search_words.stringList()
    window.search.setText("pizza")
    qtbot.waitUntil(lambda: shown_names(window) == {"pizza.jpg"}, timeout=10_000)
    window.search.clear()

    # People view: the portrait's person, with a face picture; rename
    window.sidebar.select_scope(Scope("people"))
    assert window.library.middle.currentWidget() is window.people_page
    qtbot.waitUntil(lambda: window.people_model.rowCount() == 1, timeout=10_000)
    qtmodeltester.check(window.people_model)
    index = window.people_model.index(0, 0)
    assert index.data().startswith("Unnamed")
    assert index.data(0x1) is not None  # DecorationRole: the face
    person_id = index.data(PeopleRoles.PersonId)
    with qtbot.waitSignal(window.people_model.modelReset, timeout=10_000):
        window.people_model.setData(index, "Dana")  # inline rename
    assert window.people_model.index(0, 0).data().startswith("Dana")

    # open the person: their photo in the gallery
    window.people_page.open_person.emit(window.people_model.index(0, 0).data(PeopleRoles.Info))
    qtbot.waitUntil(lambda: shown_names(window) == {"kodim04.png"}, timeout=10_000)
    assert window.library.scope_title.text() == "Dana"

    # search by the person's name
    window.sidebar.select_scope(Scope("all"))
    window.search.setText("dana")
    qtbot.waitUntil(lambda: shown_names(window) == {"kodim04.png"}, timeout=10_000)
    window.search.clear()

    # the viewer shows the tags and the named person; "Not a face" removes the face
    window.open_viewer(photo_id(window, "kodim04.png"))
    panel = window.viewer.panel.organise
    qtbot.waitUntil(lambda: panel.data is not None and len(panel.rows) == 1, timeout=10_000)
    assert panel.rows[0].name.text() == "Dana"
    assert "people" in panel.tags.text()
    qtbot.waitUntil(lambda: window.viewer.canvas.faces != [], timeout=5_000)
    panel.show_faces.setChecked(True)
    assert window.viewer.canvas.show_faces
    reject = next(a for a in panel.rows[0].menu.actions() if a.text() == "Not a face")
    reject.trigger()
    qtbot.waitUntil(lambda: panel.data is not None and not panel.rows, timeout=10_000)
    assert organize.list_people() == []
    assert session.vault.photo_details([photo_id(window, "kodim04.png")])[photo_id(window, "kodim04.png")].faces == 0
    window.close_viewer()
    assert person_id


def test_marking_sensitive_blurs_thumbnail_until_revealed(qtbot, unlocked, monkeypatch):
    session, window, _ = unlocked
    qtbot.waitUntil(lambda: not window.organiser.running, timeout=10_000)  # the unlock's own run
    qtbot.waitUntil(lambda: not window.organiser.running, timeout=10_000)  # the unlock's own run
    monkeypatch.setattr(window.organiser, "auto_start", False)  # the flag by hand only
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(PHOTOS / "kodim23.png"), str(PHOTOS / "cat.jpg")])
    pid = photo_id(window, "kodim23.png")
    window.loader.request(pid)
    qtbot.waitUntil(lambda: window.loader.pixmap(pid) is not None, timeout=10_000)
    sharp = variance(window.loader.pixmap(pid))
    assert not window.loader.is_blurred(pid)

    job = window.set_sensitive([pid], True)
    qtbot.waitSignal(job.signals.finished, timeout=10_000).wait()  # queued: cannot be missed
    assert window.loader.pixmap(pid) is None  # the sharp one is gone at once
    window.gallery.viewport().repaint()  # the delegate asks for the thumbnail again
    qtbot.waitUntil(lambda: window.loader.pixmap(pid) is not None, timeout=10_000)
    assert window.loader.is_blurred(pid)
    blurred = variance(window.loader.pixmap(pid))
    assert blurred < sharp * 0.5, (blurred, sharp)

    # the Sensitive view lists it; the sidebar counts it
    window.sidebar.select_scope(Scope("sensitive"))
    qtbot.waitUntil(lambda: shown_names(window) == {"kodim23.png"}, timeout=10_000)
    qtbot.waitUntil(lambda: window.sidebar_model.sensitive_item.data(COUNT_ROLE) == 1, timeout=10_000)
    window.sidebar.select_scope(Scope("all"))

    # the viewer shows it blurred with "Reveal"; revealing shows it sharp, thumbnail too
    window.open_viewer(pid)
    qtbot.waitUntil(lambda: window.viewer.canvas.pixmap is not None, timeout=10_000)
    assert window.viewer.blurred and window.viewer.reveal_bar.isVisible()
    assert window.viewer.sensitive_button.text() == "Not sensitive"
    window.viewer.reveal_button.click()
    qtbot.waitUntil(lambda: window.viewer.canvas.pixmap is not None and not window.viewer.blurred, timeout=10_000)
    assert not window.viewer.reveal_bar.isVisible()
    window.close_viewer()
    window.gallery.viewport().repaint()
    qtbot.waitUntil(lambda: window.loader.pixmap(pid) is not None and not window.loader.is_blurred(pid),
                    timeout=10_000)
    assert variance(window.loader.pixmap(pid)) > sharp * 0.8

    # unmark from the gallery's context menu
    window.gallery.setCurrentIndex(window.proxy.mapFromSource(window.model.index(window.model.row_of(pid), 0)))
    menu = window.library_controller.gallery_menu(window.gallery.visualRect(window.gallery.currentIndex()).center())
    unmark = next(a for a in menu.actions() if a.text() == "Not sensitive")
    unmark.trigger()
    menu.close()
    qtbot.waitUntil(lambda: not window.sensitive.is_flagged(pid), timeout=10_000)
    assert session.vault.list_photos(sensitive=True) == []


def test_cancelled_organise_stops_cleanly_and_resumes(qtbot, unlocked, photo_dir, monkeypatch):
    session, window, _ = unlocked
    qtbot.waitUntil(lambda: not window.organiser.running, timeout=10_000)  # the unlock's own run
    monkeypatch.setattr(window.organiser, "auto_start", False)
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(PHOTOS), str(photo_dir)])  # 15 photos: two chunks
    assert len(organize.pending_photo_ids()) == 15

    vault_type = type(session.vault)
    analyze = vault_type.analyze

    def stop_after_first_chunk(self, progress, cancel):
        # Set the job's cancel event in the worker, right after the first commit (the status
        # bar's Cancel sets the same event, but its click would arrive a chunk late or early).
        def progress_then_cancel(done, total):
            progress(done, total)
            if done:
                cancel.set()
        return analyze(self, progress_then_cancel, cancel)

    monkeypatch.setattr(vault_type, "analyze", stop_after_first_chunk)
    with qtbot.waitSignal(window.organiser.finished, timeout=90_000) as stopped:
        window.organiser.request(force=True)
        qtbot.waitUntil(window.organise_status.isVisible, timeout=10_000)
    result = stopped.args[0]
    assert result.report.cancelled
    # The lane is free once the job's work is over, a moment before its `ended` reaches the
    # organiser (queued from the worker): wait for both, not just the first.
    qtbot.waitUntil(lambda: not session.jobs.busy("vault-write") and not window.organiser.running,
                    timeout=10_000)
    # The status hides on the job's `ended`, queued like the organiser's own slot: wait for it too.
    qtbot.waitUntil(lambda: not window.organise_status.isVisible(), timeout=10_000)
    left = organize.pending_photo_ids()
    assert 0 < len(left) < 15 and result.pending == len(left)
    assert session.vault.check_consistency() == []

    monkeypatch.setattr(vault_type, "analyze", analyze)
    with qtbot.waitSignal(window.organiser.finished, timeout=90_000) as resumed:
        window.organiser.request(force=True)
    assert resumed.args[0].report.analyzed == len(left)
    assert organize.pending_photo_ids() == []


def test_missing_models_are_said_once(qtbot, unlocked, monkeypatch):
    session, window, _ = unlocked
    monkeypatch.setattr(type(session.vault), "analyze",
                        lambda self, *a, **k: (_ for _ in ()).throw(VisionUnavailable()))
    messages = []
    window.organiser.unavailable.connect(messages.append)
    with qtbot.waitSignal(window.organiser.unavailable, timeout=60_000):
        with qtbot.waitSignal(window.import_finished, timeout=60_000):
            window.start_import([str(PHOTOS / "cat.jpg")])
    # Said in the status bar (an import finishing at the same moment may replace it there).
    assert len(messages) == 1 and messages[0].startswith("Organising unavailable")
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(PHOTOS / "pizza.jpg")])
    qtbot.wait(200)
    assert len(messages) == 1 and not window.organiser.running


def test_people_model_passes_qtmodeltester(qtmodeltester):
    from app.core.organize import PersonInfo
    from app.workers.people_jobs import PersonFace

    model = PeopleModel()
    model.set_people([PersonFace(PersonInfo(n, f"P{n}" if n % 2 else None, 2, 1, n, (0, 0, 5, 5)), QImage())
                      for n in range(1, 6)])
    qtmodeltester.check(model)
    assert model.index(1, 0).data().startswith("Unnamed")
    assert OrganiseController.AUTO_START
