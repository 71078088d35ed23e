"""The watch list in the app, on a real vault and the fake image host (127.0.0.1 only): the
scheduler re-checks a due place in the background and says "a new copy" without naming it,
stops on lock; the scan dialog's "Watch these places" makes the scan the places' first check;
the Watched places dialog lists and removes them."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from app.ui.sidebar import Scope
from app.ui.watch_notice import NOTICE_TEXT

from .conftest import DATA, fast_fetch_policy

T0 = datetime(2026, 12, 7, 9, 0)


def _crop(path: Path) -> bytes:
    img = Image.open(path).convert("RGB")
    buf = io.BytesIO()
    img.crop((0, 0, int(img.width * 0.6), int(img.height * 0.7))).save(buf, "JPEG", quality=80)
    return buf.getvalue()


@pytest.fixture
def stocked(qtbot, unlocked, photo_dir):
    session, window, _made = unlocked
    window.fetch_policy = fast_fetch_policy()
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(photo_dir / "photo00.jpg"), str(photo_dir / "photo01.jpg")])
    return session, window, {p.filename: p.id for p in window.model.photos}, _made


def test_the_scheduler_checks_due_places_notifies_and_stops_on_lock(qtbot, stocked, photo_dir, image_host):
    session, window, ids, made = stocked
    crop_url, _ = image_host.upload(_crop(photo_dir / "photo01.jpg"))
    cat_url, _ = image_host.upload((DATA / "photos" / "cat.jpg").read_bytes())
    page = image_host.add_page("wall", f'<html><body><img src="{crop_url}"><img src="{cat_url}"></body></html>')
    session.vault.watch_place(page, every_hours=6, now=T0)
    scheduler = session.watch
    scheduler.clock = lambda: T0
    notifier = window.leaks_controller.watch_notice
    assert not window.watch_banner.isVisible()

    # The timer, shortened, starts the first check by itself.
    with qtbot.waitSignal(notifier.notified, timeout=60_000) as shown:
        scheduler.timer.setInterval(50)
    scheduler.timer.setInterval(10 * 60 * 1000)
    assert shown.args[0] == NOTICE_TEXT + "."
    assert window.watch_banner.isVisible() and window.watch_banner.text.text() == NOTICE_TEXT + "."
    assert page not in window.watch_banner.text.text() and crop_url not in window.watch_banner.text.text()
    qtbot.waitUntil(lambda: scheduler.job is None, timeout=10_000)
    qtbot.waitUntil(lambda: any(m.source == crop_url and m.photo_id == ids["photo01.jpg"]
                                for m in window.leaks_model.matches), timeout=20_000)
    assert "1 new copy found" in scheduler.status
    image_hits = image_host.hits[urlsplit(crop_url).path]

    # "Show" opens the Leaks view.
    window.watch_banner.show_button.click()
    assert window.showing_leaks and not window.watch_banner.isVisible()

    # Not due again before six hours: nothing is fetched; then due: the page only, nothing new.
    with qtbot.waitSignal(scheduler.running_changed, timeout=30_000, check_params_cb=lambda running: not running):
        assert scheduler.check_due() is not None
    assert image_host.hits["/page/wall"] == 1
    scheduler.clock = lambda: T0 + timedelta(hours=6)
    with qtbot.waitSignal(scheduler.checked, timeout=30_000) as checked:
        scheduler.check_due()
    assert checked.args[0].new == [] and image_host.hits["/page/wall"] == 2
    assert image_host.hits[urlsplit(crop_url).path] == image_hits
    qtbot.waitUntil(lambda: scheduler.job is None, timeout=10_000)

    # Locking stops the timer and a running check; nothing starts while locked.
    image_host.add_page("wall", "".join(f'<img src="{image_host.base}/slow.jpg?n={n}">' for n in range(6)))
    scheduler.clock = lambda: T0 + timedelta(hours=7)
    assert scheduler.check_all() is not None and scheduler.running
    window.watch_banner.announce(1)
    with qtbot.waitSignal(session.locked, timeout=30_000):
        session.lock()
    assert not scheduler.timer.isActive() and scheduler.job is None
    assert not window.watch_banner.isVisible()
    assert scheduler.check_due() is None
    # The stopped check left the place as the last finished one did: still due next time.
    window.unlock_page.passphrase.setText(made.passphrase)
    with qtbot.waitSignal(window.photos_loaded, timeout=20_000):
        window.unlock_page.unlock_button.click()
    (place,) = session.vault.list_watched()
    assert place.checked_at == T0 + timedelta(hours=6) and scheduler.timer.isActive()


def test_watch_these_places_from_the_scan_dialog_then_the_list(qtbot, stocked, photo_dir, image_host):
    session, window, ids, _ = stocked
    crop_url, _ = image_host.upload(_crop(photo_dir / "photo01.jpg"))
    page = image_host.add_page("profile", f'<html><body><img src="{crop_url}"></body></html>')
    window.scan_action.trigger()
    dialog = window.leaks_controller.scan_slot.dialog
    dialog.urls.setPlainText(page)
    assert not dialog.watch_choice.every.isEnabled()
    dialog.watch_choice.watch.setChecked(True)
    dialog.watch_choice.every.setValue(12)
    with qtbot.waitSignal(dialog.scan_finished, timeout=60_000) as done:
        dialog.start_button.click()
    assert [(m.source, m.photo_id) for m in done.args[0].matches] == [(crop_url, ids["photo01.jpg"])]
    qtbot.waitUntil(lambda: dialog.job is None and dialog.evidence_job is None, timeout=20_000)
    dialog.accept()

    window.sidebar.select_scope(Scope("leaks"))
    window.leaks_page.watched_button.click()
    watch = window.leaks_controller.watch_slot.dialog
    qtbot.waitUntil(lambda: watch.table.rowCount() == 1, timeout=10_000)
    assert watch.table.item(0, 0).text() == page and watch.table.item(0, 2).text() == "12 hours"
    assert watch.table.item(0, 4).text().startswith("1 new copy (1 looked at")
    (place,) = watch.places
    assert place.remembered == 1 and place.checked_at is not None

    # "Check all now": the page again, not the image it already looked at.
    with qtbot.waitSignal(session.watch.running_changed, timeout=30_000, check_params_cb=lambda running: not running):
        watch.check_button.click()
    qtbot.waitUntil(lambda: watch.places and watch.places[0].last_result.skipped == 1, timeout=10_000)
    assert image_host.hits[urlsplit(crop_url).path] == 1 and image_host.hits["/page/profile"] == 2

    # Scanned again by the user, the watched page is looked at in full: the copy is still shown.
    watch.accept()
    window.scan_action.trigger()
    again = window.leaks_controller.scan_slot.dialog
    again.urls.setPlainText(page)
    again.watch_choice.watch.setChecked(True)
    with qtbot.waitSignal(again.scan_finished, timeout=60_000) as done:
        again.start_button.click()
    assert [m.source for m in done.args[0].matches] == [crop_url] and done.args[0].scanned == 1
    qtbot.waitUntil(lambda: again.job is None and again.evidence_job is None, timeout=20_000)
    again.accept()
    window.leaks_page.watched_button.click()
    watch = window.leaks_controller.watch_slot.dialog
    qtbot.waitUntil(lambda: watch.table.rowCount() == 1, timeout=10_000)
    assert watch.table.item(0, 2).text() == "day"  # the interval chosen this time

    watch.table.selectRow(0)
    with qtbot.waitSignal(watch.listed, timeout=10_000):
        watch.remove_button.click()
    assert watch.table.rowCount() == 0 and "No watched places" in watch.status.text()
    watch.accept()


def test_watch_this_page_from_a_found_copy(qtbot, stocked, photo_dir, image_host):
    session, window, _, _ = stocked
    crop_url, _ = image_host.upload(_crop(photo_dir / "photo01.jpg"))
    page = image_host.add_page("thread", f'<html><body><img src="{crop_url}"></body></html>')
    from app.core.leaks.fetch import Fetcher

    with Fetcher(fast_fetch_policy()) as fetcher:
        assert len(session.vault.scan([page], fetcher=fetcher).matches) == 1
    window.sidebar.select_scope(Scope("leaks"))
    with qtbot.waitSignal(window.leaks_page.loaded, timeout=20_000):
        window.leaks_page.reload()
    leaks = window.leaks_page
    assert leaks.select_match(window.leaks_model.match_at(0).id)
    assert leaks.panel.watch_button.isEnabled()
    with qtbot.waitSignal(leaks.checked, timeout=20_000) as said:
        leaks.panel.watch_button.click()
    assert said.args[0].startswith("Watched: Sanctum checks this page again every day")
    (place,) = session.vault.list_watched()
    assert place.source == page and place.every_hours == 24 and place.checked_at is None
