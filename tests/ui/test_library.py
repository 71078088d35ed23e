"""Drag-and-drop import with real photos, cancel, per-file problems, auto-lock, export, delete,
viewer — on a real vault in tmp_path."""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.ui import dialogs
from app.ui.gallery import Roles
from app.ui.main_window import PAGE_LIBRARY, PAGE_UNLOCK, PAGE_VIEWER
from app.ui.sidebar import Scope


def drag_enter_event(pos: QPoint, mime: QMimeData) -> QDragEnterEvent:
    try:  # PySide6 <= 6.11 takes a QPoint here, 6.12 a QPointF
        return QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                               Qt.KeyboardModifier.NoModifier)
    except TypeError:
        return QDragEnterEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                               Qt.KeyboardModifier.NoModifier)


def drop_files(window, paths) -> None:
    """A real drag-enter + drop, carrying file URLs, as the window system would deliver them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPoint(window.width() // 2, window.height() // 2)
    enter = drag_enter_event(pos, mime)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    assert window.overlay.isVisible()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()


def test_drop_imports_real_photos_and_fills_gallery(qtbot, unlocked, photo_dir, tmp_path):
    session, window, _ = unlocked
    bad = tmp_path / "not-a-photo.txt"
    bad.write_text("hello")
    files = sorted(photo_dir.glob("*.jpg"))
    with qtbot.waitSignal(window.import_finished, timeout=60_000) as blocker:
        drop_files(window, [files[0], photo_dir, bad])  # a file, a folder, and a bad file
        # The drop returned without importing: the import runs in a worker, and its end can only
        # be heard once the event loop runs again. (How smoothly the loop runs meanwhile is
        # measured by bench/ui_responsiveness.py, not asserted here.)
        assert window.job_progress.isVisible() and not blocker.signal_triggered
    report = blocker.args[0]
    assert len(report.imported) == len(files)
    assert window.model.rowCount() == len(files) == session.vault.count()
    assert window.problems.isVisible() and window.problems.list.count() == 1
    assert "not-a-photo.txt" in window.problems.list.item(0).text()
    assert not window.overlay.isVisible()
    # thumbnails decrypt in workers and land in the cache
    qtbot.waitUntil(lambda: len(window.loader.cache) == len(files), timeout=20_000)
    assert session.vault.check_consistency() == []
    # the same drop again: duplicates recognised, nothing added
    with qtbot.waitSignal(window.import_finished, timeout=60_000) as blocker:
        drop_files(window, [photo_dir])
    assert len(blocker.args[0].duplicates) == len(files)
    assert window.model.rowCount() == len(files)


def test_drop_is_refused_while_locked(qtbot, plain_vault, make_window, photo_dir):
    session, window = make_window(plain_vault.path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo_dir))])
    enter = drag_enter_event(QPoint(10, 10), mime)
    enter.setAccepted(False)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_cancel_running_import_leaves_consistent_vault(qtbot, unlocked, big_photo_dir):
    session, window, _ = unlocked
    job = window.start_import([str(big_photo_dir)])
    qtbot.waitUntil(lambda: window.model.rowCount() >= 1, timeout=60_000)
    with qtbot.waitSignal(job.signals.ended, timeout=60_000):
        window.job_progress.cancel_button.click()
    assert job.outcome in ("finished", "cancelled")
    total = len(list(big_photo_dir.glob("*.jpg")))
    count = session.vault.count()
    assert 1 <= count < total, "the cancel came too late to test anything"
    assert session.vault.check_consistency() == []
    qtbot.waitUntil(lambda: window.model.rowCount() == count, timeout=5000)
    assert not window.job_progress.isVisible()


def _import(qtbot, window, photo_dir):
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(photo_dir)])


def test_auto_lock_drops_keys_and_clears_pixmaps(qtbot, unlocked, photo_dir):
    session, window, _ = unlocked
    _import(qtbot, window, photo_dir)
    qtbot.waitUntil(lambda: len(window.loader.cache) > 0, timeout=20_000)
    window.gallery.setCurrentIndex(window.proxy.index(0, 0))
    window.open_viewer(window.proxy.index(0, 0).data(Roles.PhotoId))
    qtbot.waitUntil(lambda: window.viewer.canvas.pixmap is not None, timeout=20_000)
    vault = session.vault
    session.set_auto_lock_seconds(0.3)
    qtbot.waitUntil(lambda: session.state == "locked", timeout=10_000)
    assert not vault.is_open and session.vault is None  # keys dropped, DB closed
    assert len(window.loader.cache) == 0 and window.loader.cache.bytes_used == 0
    assert window.model.rowCount() == 0
    assert window.viewer.canvas.pixmap is None
    assert window.stack.currentIndex() == PAGE_UNLOCK
    assert not window.toolbar.isVisible()
    # the lock screen says why it is showing
    assert window.unlock_page.message.text().startswith("Locked after 1 second without use.")
    assert window.unlock_page.message.isVisible()


class HandClock:
    """A clock that moves only when told: idle time no longer depends on how loaded the machine is."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_timer_restarts_on_input(qtbot, unlocked):
    session, window, _ = unlocked
    clock = HandClock()
    session.idle.clock = clock
    session.set_auto_lock_seconds(0.6)
    for _ in range(6):  # 2.4 s in all, never 0.6 s without a key press
        qtbot.keyClick(window.gallery, Qt.Key.Key_Right)
        clock.now += 0.4
        qtbot.wait(300)  # the idle checks (every 150 ms here) run and see 0.4 s since the key press
        assert session.is_unlocked
    clock.now += 0.2  # 0.6 s since the last key press
    qtbot.waitUntil(lambda: session.state == "locked", timeout=10_000)


def test_lock_during_import_cancels_and_waits(qtbot, unlocked, big_photo_dir):
    session, window, _ = unlocked
    window.start_import([str(big_photo_dir)])
    qtbot.waitUntil(lambda: window.model.rowCount() >= 1, timeout=60_000)
    vault = session.vault
    window.lock_action.trigger()
    assert window.stack.currentIndex() == PAGE_UNLOCK  # at once, before the job has ended
    assert window.model.rowCount() == 0
    qtbot.waitUntil(lambda: session.state == "locked", timeout=60_000)
    assert not vault.is_open
    # reopen: what was imported is complete
    from app.core.vault import Vault

    reopened = Vault.unlock(vault.path, "quiet harbour lamps at dusk")
    try:
        assert reopened.check_consistency() == []
    finally:
        reopened.lock()


def test_export_and_delete_selection(qtbot, unlocked, photo_dir, tmp_path, monkeypatch):
    session, window, _ = unlocked
    _import(qtbot, window, photo_dir)
    window.gallery.selectAll()
    ids = window.selected_ids()
    assert len(ids) == 8 and window.export_action.isEnabled()
    out = tmp_path / "exported"
    monkeypatch.setattr(dialogs, "choose_folder", lambda *a, **k: str(out))
    window.export_action.trigger()
    qtbot.waitUntil(lambda: out.exists() and len(list(out.iterdir())) == 8 and not session.jobs.busy(),
                    timeout=30_000)
    originals = {hashlib.sha256(p.read_bytes()).hexdigest() for p in photo_dir.glob("*.jpg")}
    exported = {hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir()}
    assert exported == originals
    # delete two, after a confirmation
    window.gallery.clearSelection()
    for row in (0, 1):
        window.gallery.selectionModel().select(window.proxy.index(row, 0),
                                               window.gallery.selectionModel().SelectionFlag.Select)
    doomed = window.selected_ids()
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: False)
    window.delete_action.trigger()
    assert session.vault.count() == 8  # declined
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    window.delete_action.trigger()
    qtbot.waitUntil(lambda: window.model.rowCount() == 6, timeout=20_000)
    assert session.vault.count() == 6
    assert not set(doomed) & {p.id for p in session.vault.list_photos()}
    assert session.vault.check_consistency() == []


def test_viewer_shows_full_photo_and_metadata(qtbot, unlocked, photo_dir):
    session, window, _ = unlocked
    _import(qtbot, window, photo_dir)
    first_id = window.proxy.index(0, 0).data(Roles.PhotoId)
    window.open_viewer(first_id)
    assert window.stack.currentIndex() == PAGE_VIEWER
    qtbot.waitUntil(lambda: window.viewer.canvas.pixmap is not None, timeout=20_000)
    info = session.vault.photo(first_id)
    assert window.viewer.canvas.pixmap.width() == info.width
    assert window.viewer.panel.title.text() == info.filename
    assert "pixels" in window.viewer.panel.fields["size"].text()
    window.viewer.navigate.emit(1)
    qtbot.waitUntil(lambda: window.viewer.photo_id != first_id and window.viewer.canvas.pixmap is not None,
                    timeout=20_000)
    window.viewer.closed.emit()
    assert window.stack.currentIndex() == PAGE_LIBRARY
    assert window.viewer.canvas.pixmap is None


def test_search_and_sidebar_scopes(qtbot, unlocked, photo_dir):
    session, window, _ = unlocked
    _import(qtbot, window, photo_dir)
    window.search.setText("photo03")
    assert window.proxy.rowCount() == 1
    window.search.setText("")
    assert window.proxy.rowCount() == 8
    qtbot.waitUntil(lambda: window.sidebar_model.index_of_scope(Scope("year", 2021)).isValid(), timeout=3000)
    window.sidebar.select_scope(Scope("year", 2021))
    assert window.proxy.rowCount() == 2 and all(
        window.proxy.index(r, 0).data(Roles.TakenAt).year == 2021 for r in range(2))
    window.sidebar.select_scope(Scope("recent"))
    assert window.proxy.rowCount() == 8


def test_settings_are_stored_in_the_vault(qtbot, unlocked):
    from app.ui import settings
    from app.ui.settings_dialog import SettingsDialog

    session, window, _ = unlocked
    dialog = SettingsDialog(session, window)
    dialog.auto_lock.setValue(1)
    assert dialog.auto_lock.text() == "1 minute"  # not "1 minutes"
    dialog.auto_lock.setValue(12)
    assert dialog.auto_lock.text() == "12 minutes"
    dialog.thumb.setCurrentIndex(dialog.thumb.findData(240))
    dialog.accept()
    assert settings.read(settings.AUTO_LOCK_MINUTES) == 12
    assert session.auto_lock_minutes == 12 and session.thumbnail_edge == 240
    assert window.loader.edge == 240
    assert window.gallery.gridSize().width() == 240 + 2 * window.delegate.PADDING


def test_delete_prompt_names_and_shows_the_photo(qtbot, unlocked, photo_dir, monkeypatch):
    session, window, _ = unlocked
    _import(qtbot, window, photo_dir)
    qtbot.waitUntil(lambda: len(window.loader.cache) == 8, timeout=20_000)
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: asked.append((a, k)) and False)
    window.gallery.setCurrentIndex(window.proxy.index(0, 0))
    name = window.proxy.index(0, 0).data(Roles.Info).filename
    window.delete_action.trigger()
    (_, title, text, ok), options = asked[-1]
    assert text == f"Delete “{name}” from the vault?" and ok == "Delete"
    assert options["informative"].startswith("It is destroyed")
    assert options["pixmap"] is not None and not options["pixmap"].isNull()
    # the real box shows that picture instead of a generic warning icon
    box, _ok = dialogs.confirm_box(window, title, text, ok, **options)
    assert box.iconPixmap().cacheKey() == options["pixmap"].cacheKey()
    box.deleteLater()

    window.gallery.selectAll()
    window.delete_action.trigger()
    (_, title, text, _), options = asked[-1]
    assert text == "Delete 8 photos from the vault?"
    assert "and 5 more" in options["informative"] and options["informative"].count(".jpg") == 3
    assert session.vault.count() == 8  # declined each time


def test_menu_buttons_do_not_stay_highlighted_after_their_menu_closes(qtbot, unlocked, monkeypatch):
    from PySide6.QtCore import QPointF, QTimer
    from PySide6.QtGui import QCursor, QEnterEvent

    session, window, _ = unlocked
    monkeypatch.setattr(window, "open_check", lambda *a, **k: None)  # the dialog itself is not the point
    for button in (window.check_button, window.import_button):
        # the pointer comes over the button (Qt marks it "under mouse": the hover look)...
        QApplication.sendEvent(button, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
        assert button.testAttribute(Qt.WidgetAttribute.WA_UnderMouse)
        # ...opens its menu (or its dialog), and leaves while that holds the mouse: no Leave event
        QCursor.setPos(window.mapToGlobal(QPoint(window.width() // 2, window.height() - 5)))
        if button.menu() is not None:
            QTimer.singleShot(50, button.menu().close)
            button.showMenu()
        else:
            button.defaultAction().trigger()
        qtbot.waitUntil(lambda b=button: not b.testAttribute(Qt.WidgetAttribute.WA_UnderMouse), timeout=2000)
        assert not button.isDown()
