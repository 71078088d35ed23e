"""Leak scans in the app: the scan dialog end to end on a folder and on a page of the fake image
host (tests/leakhost.py, 127.0.0.1 only), cancel mid-scan, the Leaks view, removal requests
(a notice by email, a deletion link, re-check) and the hash export — on a real vault in
tmp_path with real photos."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage

from app.core.vault import LeakMatchInfo
from app.ui import dialogs, settings
from app.ui.gallery import Roles
from app.ui.leaks_view import (
    EvidenceView,
    LeakColumn,
    LeakRoles,
    LeaksFilterProxy,
    LeaksTableModel,
    method_words,
    region_in_evidence,
    rescan_places,
)
from app.ui.scan_dialog import PAGE_RESULTS, parse_addresses, read_addresses
from app.ui.sidebar import Scope

from .conftest import DATA, fast_fetch_policy


def _jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _crop(path: Path, fx: float = 0.6, fy: float = 0.7) -> Image.Image:
    """The top-left part of a photo, as someone re-posting a cropped copy would."""
    img = Image.open(path).convert("RGB")
    return img.crop((0, 0, int(img.width * fx), int(img.height * fy)))


@pytest.fixture
def stocked(qtbot, unlocked, photo_dir):
    """Unlocked window with two real photos (photo00 = Kodak 04, photo01 = Kodak 23)."""
    session, window, _made = unlocked
    window.fetch_policy = fast_fetch_policy()
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(photo_dir / "photo00.jpg"), str(photo_dir / "photo01.jpg")])
    ids = {p.filename: p.id for p in window.model.photos}
    return session, window, ids


def _open_scan(window):
    assert window.scan_action.isEnabled()
    window.scan_action.trigger()
    dialog = window.leaks_controller.scan_slot.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def _scan(qtbot, dialog):
    with qtbot.waitSignal(dialog.scan_finished, timeout=60_000) as blocker:
        dialog.start_button.click()
    outcome = blocker.args[0]
    qtbot.waitUntil(lambda: dialog.job is None and dialog.evidence_job is None, timeout=20_000)
    return outcome


def _request(qtbot, request_dialog, button):
    """Click a button of the takedown dialog; returns the request once its job has ended."""
    with qtbot.waitSignal(request_dialog.changed, timeout=20_000) as blocker:
        button.click()
    qtbot.waitUntil(lambda: request_dialog.job is None, timeout=5000)
    return blocker.args[0]


def test_scan_dialog_on_a_folder(qtbot, stocked, photo_dir, tmp_path, monkeypatch):
    session, window, ids = stocked
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "crop.jpg").write_bytes(_jpeg(_crop(photo_dir / "photo01.jpg")))
    (folder / "cat.jpg").write_bytes((DATA / "photos" / "cat.jpg").read_bytes())
    (folder / "notes.txt").write_text("not a photo")

    dialog = _open_scan(window)
    assert not dialog.start_button.isEnabled()  # nothing to scan yet
    assert not dialog.rescan.isEnabled()  # no place recorded yet
    monkeypatch.setattr(dialogs, "choose_folder", lambda *a, **k: str(folder))
    dialog.add_folder_button.click()
    assert dialog.sources() == [str(folder)]
    outcome = _scan(qtbot, dialog)

    # the crop is found, the cat is not; the text file is listed with its reason
    assert [(Path(m.source).name, m.photo_id) for m in outcome.matches] == [("crop.jpg", ids["photo01.jpg"])]
    assert dialog.pages.currentIndex() == PAGE_RESULTS
    assert "Found 1 copy of your photos" in dialog.summary.text()
    problems = [dialog.problems.item(r).text() for r in range(dialog.problems.count())]
    assert len(problems) == 1 and "notes.txt" in problems[0] and "not a supported image" in problems[0]
    assert dialog.problems.isVisible()

    # the result row: both pictures, the words, the outline on both sides
    (row,) = dialog.rows
    assert row.evidence.photo is not None and row.evidence.found is not None
    assert "photo01.jpg" in row.title.text() and "crop.jpg" in row.title.text()
    match = outcome.matches[0]
    if match.method == "features":
        assert "local features (a crop, rotation or screenshot)" in row.words.text()
    row.evidence.grab()  # paints: the outlines are computed while painting
    assert row.evidence.found_outline is not None and row.evidence.found_outline.count() >= 4
    if match.region:
        shown = row.evidence.photo_outline.boundingRect()
        photo_rect = _painted_photo_rect(row.evidence)
        # the crop shows the top-left 60 % × 70 % of the photo
        assert abs(shown.width() / photo_rect.width() - 0.6) < 0.1
        assert abs(shown.height() / photo_rect.height() - 0.7) < 0.1
        assert abs(shown.left() - photo_rect.left()) < 0.05 * photo_rect.width()
    assert not row.request_button.isEnabled()  # a file on this computer: no site to ask
    assert "no site to ask" in row.request_button.toolTip()
    assert row.request_note.isVisible() and "no site to ask" in row.request_note.text()  # said, not only hovered
    dialog.accept()
    assert window.leaks_controller.scan_slot.dialog is None

    # the Leaks view lists it; the sidebar counts it
    qtbot.waitUntil(lambda: window.leaks_model.rowCount() == 1, timeout=10_000)
    assert "(1)" in window.sidebar_model.leaks_item.text()
    assert window.sidebar_model.leaks_item.flags() & Qt.ItemFlag.ItemIsEnabled
    window.sidebar.select_scope(Scope("leaks"))
    assert window.library.middle.currentWidget() is window.leaks_page
    assert "1 found copy" in window.library.scope_count.text()
    table = window.leaks_page.table
    cells = {c: table.model().index(0, c).data() for c in LeakColumn}
    assert cells[LeakColumn.Status] == "Found" and cells[LeakColumn.Source] == "crop.jpg"
    assert cells[LeakColumn.Photo] == "photo01.jpg"
    table.selectRow(0)
    panel = window.leaks_page.panel
    assert panel.match.id == match.id and not panel.request_button.isEnabled()
    assert panel.check_button.isEnabled() and panel.hashes_button.isEnabled()
    qtbot.waitUntil(lambda: panel.evidence.found is not None, timeout=10_000)
    assert window.detail.meta.isVisible()  # the detail pane shows the photo

    # the next scan offers to look at the recorded place again
    dialog = _open_scan(window)
    assert dialog.rescan.isEnabled() and "1 place" in dialog.rescan.text()
    dialog.rescan.setChecked(True)
    assert dialog.sources() == [match.source]
    dialog.reject()


def _painted_photo_rect(view: EvidenceView, side: int = 0) -> QRectF:
    """Where EvidenceView painted the vault photo (side 0) or the found copy (side 1): a column
    each, the picture fitted below the caption."""
    from app.ui.leaks_view import _fit

    rect = QRectF(view.rect())
    half = (rect.width() - 16) / 2
    area = QRectF(rect.x() + side * (half + 16), rect.y(), half, rect.height()).adjusted(0, view.CAPTION + 4, 0, 0)
    return _fit((view.photo if side == 0 else view.found).size(), area)


def test_page_on_a_host_notice_deletion_link_and_recheck(qtbot, stocked, photo_dir, image_host, tmp_path,
                                                         monkeypatch):
    from app.ui import takedown_dialog

    session, window, ids = stocked
    host = image_host
    crop_url, delete_link = host.upload(_jpeg(_crop(photo_dir / "photo01.jpg"), 80))
    cat_url, _ = host.upload((DATA / "photos" / "cat.jpg").read_bytes())
    dead_url = f"{host.base}/i/gone.jpg"
    page = host.add_page("profile", f'<html><body><img src="{crop_url}"><img src="{cat_url}">'
                                    f'<img src="{dead_url}"></body></html>')

    dialog = _open_scan(window)
    dialog.urls.setPlainText(f"{page}\n\n{dead_url}?direct\n")
    assert dialog.sources() == [page, f"{dead_url}?direct"]
    outcome = _scan(qtbot, dialog)
    assert [(m.source, m.found_on, m.photo_id) for m in outcome.matches] == [(crop_url, page, ids["photo01.jpg"])]
    reasons = {p.path: p.reason for p in outcome.errors}
    assert "not found" in reasons[dead_url] and "not found" in reasons[f"{dead_url}?direct"]
    problems = " / ".join(dialog.problems.item(r).text() for r in range(dialog.problems.count()))
    assert dead_url in problems and "2 places could not be checked" in dialog.problems_title.text()

    # "Request deletion…" from the result: a notice to the host's abuse address
    (row,) = dialog.rows
    row.request_button.click()
    request_dialog = window.leaks_controller.takedown_slot.dialog
    assert request_dialog is not None and request_dialog.parent() is dialog
    assert not request_dialog.draft_button.isEnabled()  # a notice needs the requester's name and email
    request_dialog.abuse_email.setText("abuse@host.example")
    request_dialog.name.setText("Dana Example")
    request_dialog.email.setText("dana@example.org")
    assert request_dialog.draft_button.isEnabled()
    assert "your own email program" in request_dialog.kind_hint.text()
    notice = _request(qtbot, request_dialog, request_dialog.draft_button)
    assert notice.kind == "notice" and notice.status == "drafted"
    assert crop_url in request_dialog.text.toPlainText() and page in request_dialog.text.toPlainText()
    assert request_dialog.text.isReadOnly() and "Dana Example" in request_dialog.text.toPlainText()
    assert settings.read(settings.REQUESTER_NAME) == "Dana Example"  # remembered in the vault
    assert settings.read(settings.REQUESTER_EMAIL) == "dana@example.org"
    assert not request_dialog.send_button.isVisibleTo(request_dialog)
    opened = []
    monkeypatch.setattr(takedown_dialog, "mail_program_available", lambda: True)
    monkeypatch.setattr(takedown_dialog, "open_url", lambda url: opened.append(url) or True)
    request_dialog.mail_button.click()
    assert opened == [notice.mailto] and opened[0].startswith("mailto:abuse@host.example?")
    request_dialog.copy_button.click()
    from PySide6.QtGui import QGuiApplication

    assert notice.text in QGuiApplication.clipboard().text()
    assert _request(qtbot, request_dialog, request_dialog.sent_button).status == "sent" and "Sent" in request_dialog.status_label.text()
    request_dialog.reject()
    assert window.leaks_controller.takedown_slot.dialog is None
    dialog.accept()

    # the Leaks view: status, the request listed; then a deletion link, and "Check again"
    qtbot.waitUntil(lambda: window.leaks_model.rowCount() == 1
                    and window.leaks_model.match_at(0).status == "sent", timeout=10_000)
    window.sidebar.select_scope(Scope("leaks"))
    window.leaks_page.table.selectRow(0)
    panel = window.leaks_page.panel
    assert panel.request_list.count() == 1 and "Removal notice by email: sent" in panel.request_list.item(0).text()
    panel.request_button.click()
    request_dialog = window.leaks_controller.takedown_slot.dialog
    assert request_dialog.name.text() == "Dana Example"  # from the settings
    request_dialog.deletion_link.setText(delete_link)
    assert "Sanctum will open the deletion link for you" in request_dialog.kind_hint.text()
    assert _request(qtbot, request_dialog, request_dialog.draft_button).kind == "deletion_link"
    assert request_dialog.send_button.isVisibleTo(request_dialog)
    assert not request_dialog.mail_button.isVisibleTo(request_dialog)
    assert _request(qtbot, request_dialog, request_dialog.send_button).status == "sent"
    assert host.hits[delete_link.split(host.base)[1]] == 1
    request_dialog.reject()
    qtbot.waitUntil(lambda: panel.request_list.count() == 2, timeout=10_000)
    # the host deleted it: "Check again" marks the copy removed
    with qtbot.waitSignal(window.leaks_page.checked, timeout=20_000) as blocker:
        panel.check_button.click()
    assert blocker.args[0].startswith("Removed")
    qtbot.waitUntil(lambda: window.leaks_model.match_at(0).status == "removed", timeout=10_000)
    assert window.leaks_page.table.model().index(0, LeakColumn.Status).data() == "Removed"
    assert panel.status.text().startswith("Removed")
    assert session.vault.list_matches()[0].status == "removed"

    # the photo's hashes, for hash-sharing programmes
    target = tmp_path / "hashes.json"
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(target))
    with qtbot.waitSignal(window.leaks_page.hashes_saved, timeout=20_000):
        panel.hashes_button.click()
    exported = json.loads(target.read_text())
    assert {h["type"] for h in exported["hashes"]} == {"pdq", "md5"}
    assert "Hashes saved" in panel.status.text()


def test_removal_notice_fits_the_photo_and_no_mail_program_leaks_nothing(qtbot, stocked, photo_dir, image_host,
                                                                          capfd, caplog, qtlog):
    import logging

    from PySide6.QtGui import QGuiApplication

    session, window, ids = stocked
    parrots = ids["photo01.jpg"]
    window.sensitive.update_flags([parrots], [])  # not marked sensitive: a parrot photo
    crop_url, _ = image_host.upload(_jpeg(_crop(photo_dir / "photo01.jpg"), 80))
    dialog = _open_scan(window)
    dialog.urls.setPlainText(crop_url)
    outcome = _scan(qtbot, dialog)
    assert [m.photo_id for m in outcome.matches] == [parrots]
    dialog.rows[0].request_button.click()
    request_dialog = window.leaks_controller.takedown_slot.dialog

    # the kind of notice: picked by the user, the neutral one first for a photo not marked sensitive
    kinds = request_dialog.notice_kind
    assert [kinds.itemData(i) for i in range(kinds.count())][:3] == ["intimate", "privacy", "copyright"]
    assert kinds.currentData() == "privacy" and kinds.isVisibleTo(request_dialog)
    # the Imgur fields only when asked for
    assert not request_dialog.delete_hash.isVisibleTo(request_dialog)
    assert not request_dialog.client_id.isVisibleTo(request_dialog)
    request_dialog.use_imgur.setChecked(True)
    assert request_dialog.delete_hash.isVisibleTo(request_dialog)
    request_dialog.delete_hash.setText("abc")
    assert "both the delete-hash and the client ID" in request_dialog.kind_hint.text()
    request_dialog.use_imgur.setChecked(False)
    assert not request_dialog.delete_hash.isVisibleTo(request_dialog) and request_dialog.contact().imgur_delete_hash is None
    # a deletion link makes the kind of notice moot: it is hidden
    request_dialog.deletion_link.setText(f"{image_host.base}/delete/x")
    assert not kinds.isVisibleTo(request_dialog)
    request_dialog.deletion_link.clear()
    assert kinds.isVisibleTo(request_dialog)

    request_dialog.abuse_email.setText("abuse@host.example")
    request_dialog.name.setText("Dana Example")
    request_dialog.email.setText("dana@example.org")
    notice = _request(qtbot, request_dialog, request_dialog.draft_button)
    assert "personal photo posted without permission" in notice.subject
    assert "intimate" not in notice.text.lower() and "I am the person in" not in notice.text

    # no mail program (the offscreen platform has none): nothing personal printed or logged,
    # the notice is copied instead, and the dialog says so
    capfd.readouterr()
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        assert request_dialog.mail_button.isEnabled()
        request_dialog.mail_button.click()
    printed = capfd.readouterr()
    qt_said = "\n".join(record.message for record in qtlog.records)  # Qt's own warnings
    for secret in ("Dana Example", "dana@example.org", crop_url, "published without my permission"):
        assert secret not in printed.err and secret not in printed.out and secret not in caplog.text
        assert secret not in qt_said and secret.replace(" ", "%20") not in qt_said
    assert "No email program was found. The notice was copied" in request_dialog.error.text()
    assert notice.text in QGuiApplication.clipboard().text()

    # without an abuse address there is no email draft: why, in words under the buttons
    request_dialog.back_button.click()
    request_dialog.abuse_email.clear()
    kinds.setCurrentIndex(kinds.findData("copyright"))
    notice = _request(qtbot, request_dialog, request_dialog.draft_button)
    assert "copyright infringement" in notice.subject and notice.mailto is None
    assert not request_dialog.mail_button.isEnabled()
    assert request_dialog.mail_hint.isVisibleTo(request_dialog)
    assert "there is no abuse address" in request_dialog.mail_hint.text()
    request_dialog.reject()
    dialog.accept()

    # marked sensitive: the intimate-image notice is offered first
    window.sensitive.update_flags([parrots], [parrots])
    window.sidebar.select_scope(Scope("leaks"))
    qtbot.waitUntil(lambda: window.leaks_model.rowCount() == 1, timeout=10_000)
    window.leaks_page.table.selectRow(0)
    window.leaks_page.panel.request_button.click()
    assert window.leaks_controller.takedown_slot.dialog.notice_kind.currentData() == "intimate"
    window.leaks_controller.takedown_slot.dialog.reject()


def test_a_failed_mail_draft_is_logged_in_one_line_without_the_notice(qtbot, caplog, qtlog):
    """Qt prints the whole mailto: address (the notice, the name, the email) when it cannot open
    it; `open_url` keeps that out of every log."""
    import logging

    from app.ui import takedown_dialog

    with caplog.at_level(logging.DEBUG):
        opened = takedown_dialog.open_url("mailto:abuse@host.example?subject=S&body=Dana%20Example%20dana%40example.org")
    assert opened is False  # the offscreen platform opens nothing
    assert "Dana" not in caplog.text and not any("Dana" in r.message for r in qtlog.records)
    assert [r.getMessage() for r in caplog.records] == ["the mail program could not be opened"]


def test_match_panel_shows_every_request_and_why_a_button_is_greyed_out(qtbot):
    from app.core.vault import TakedownInfo
    from app.ui.leaks_view import MatchPanel

    panel = MatchPanel()
    qtbot.addWidget(panel)
    panel.resize(760, 560)
    panel.show()
    qtbot.waitExposed(panel)
    long_reason = "The host could not be reached: could not reach img.example: check the address and the internet connection"
    requests = [TakedownInfo(n, 1, kind, "s", "t", "", None, status, detail, datetime(2026, 2, n, 12, 0))
                for n, (kind, status, detail) in enumerate([("deletion_link", "failed", long_reason),
                                                            ("notice", "sent", "notice sent by email"),
                                                            ("deletion_link", "sent", "the host answered HTTP 200")],
                                                           start=1)]
    panel.show_match(_match(1), requests=requests)
    assert panel.request_button.property("primary") and panel.request_button.isEnabled()
    assert not panel.request_note.isVisible()
    listing = panel.request_list

    def all_rows_visible() -> bool:
        view = listing.viewport().rect()
        return all(view.contains(listing.visualItemRect(listing.item(r))) for r in range(listing.count()))

    qtbot.waitUntil(all_rows_visible, timeout=3000)  # none cut off after a line and a half
    assert listing.visualItemRect(listing.item(0)).height() > listing.visualItemRect(listing.item(1)).height()

    # a copy marked removed: asking again is no longer the main action
    panel.show_match(_match(1, status="removed"), requests=requests)
    assert not panel.request_button.property("primary") and panel.request_button.isEnabled()

    # a file on this computer: the reason the button is greyed out is written, not only a tooltip
    local = dataclasses.replace(_match(2), source=str(Path.home() / "Downloads" / "copy.jpg"))
    panel.show_match(local)
    assert not panel.request_button.isEnabled()
    assert panel.request_note.isVisible() and "there is no site to ask" in panel.request_note.text()
    panel.show_match(_match(3, photo_id=None))  # the photo was deleted since
    assert not panel.hashes_button.isEnabled() and "deleted from your vault" in panel.request_note.text()


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connecting to it is refused at once."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_scan_refuses_bad_addresses_and_says_when_nothing_was_checked(qtbot, stocked, photo_dir, image_host):
    session, window, ids = stocked
    dialog = _open_scan(window)
    # nothing yet: the reason Start is greyed out is written beside it
    assert not dialog.start_button.isEnabled()
    assert dialog.start_hint.text() == "Add a web address, a file or a folder to start."
    dialog.urls.setPlainText("not a url")
    assert dialog.sources() == [] and not dialog.start_button.isEnabled()
    assert dialog.address_problem.isVisible()
    assert "“not a url” is not a web address: it has spaces in it." in dialog.address_problem.text()
    assert dialog.start_hint.text() == "Correct the addresses above to start."
    assert dialog.start() is None

    # two addresses nobody answers at: nothing was checked, and the dialog says so
    port = _closed_port()
    dialog.urls.setPlainText(f"http://127.0.0.1:{port}/a.jpg\nhttp://127.0.0.1:{port}/b.jpg")
    assert not dialog.address_problem.isVisible() and dialog.start_button.isEnabled()
    assert dialog.start_hint.text() == ""
    outcome = _scan(qtbot, dialog)
    assert outcome.scanned == 0 and len(outcome.errors) == 2 and not outcome.matches
    assert dialog.summary.text() == "Nothing could be checked"
    assert "cannot tell whether your photos are there" in dialog.summary_detail.text()
    assert "None of your photos" not in dialog.summary.text()
    assert window.statusBar().currentMessage() == (
        "Scan finished: nothing could be checked (2 places could not be read).")
    problems = [dialog.problems.item(r).text() for r in range(dialog.problems.count())]
    assert all("could not reach 127.0.0.1: check the address and the internet connection" in p for p in problems)
    assert not any("ConnectError" in p for p in problems)

    # a copy found: the next scan from this dialog offers to look at its page again
    assert not dialog.rescan.isEnabled() and "(none yet)" in dialog.rescan.text()
    crop_url, _ = image_host.upload(_jpeg(_crop(photo_dir / "photo01.jpg"), 80))
    page = image_host.add_page("thread", f'<img src="{crop_url}">')
    dialog.again_button.click()
    dialog.urls.setPlainText(page)
    outcome = _scan(qtbot, dialog)
    assert len(outcome.matches) == 1 and "Found 1 copy" in dialog.summary.text()
    dialog.again_button.click()
    assert dialog.rescan.isEnabled() and dialog.rescan.text() == (
        "Also look again at the 1 place where copies were found before")
    assert "none yet" not in dialog.rescan.text()
    dialog.accept()


def test_cancel_mid_scan_stops_and_keeps_the_vault_consistent(qtbot, stocked, image_host):
    session, window, ids = stocked
    host = image_host
    dialog = _open_scan(window)
    # each of these answers after 3 s, past the 1 s read timeout: ten of them take ~10 s
    dialog.urls.setPlainText("\n".join(f"{host.base}/slow.jpg?n={n}" for n in range(10)))
    with qtbot.waitSignal(dialog.scan_finished, timeout=20_000) as blocker:
        dialog.start_button.click()
        assert dialog.cancel_button.isVisible() and dialog.progress.isVisible()
        qtbot.waitUntil(lambda: host.hits["/slow.jpg"] >= 1, timeout=10_000)
        dialog.cancel_button.click()
        assert not dialog.cancel_button.isEnabled()
    outcome = blocker.args[0]
    assert outcome.cancelled and outcome.matches == []
    qtbot.waitUntil(lambda: dialog.job is None, timeout=5000)
    assert dialog.pages.currentIndex() == PAGE_RESULTS and "Scan stopped" in dialog.summary.text()
    assert host.hits["/slow.jpg"] < 10  # it stopped between places, not after all ten
    assert session.vault.check_consistency() == []
    assert session.vault.list_matches() == []

    # closing the dialog during a scan stops it, then closes
    dialog.pages.setCurrentIndex(0)
    dialog.start_button.click()
    assert dialog.job is not None
    dialog.reject()
    assert dialog.isVisible()  # until the scan has stopped
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert window.leaks_controller.scan_slot.dialog is None and not session.jobs.busy("vault-write")


# --- pieces -------------------------------------------------------------------------------------


def _match(n: int, *, method: str = "features", status: str = "found", photo_id: int | None = 1,
           region=None, found_size=(480, 240), found_on: str | None = None) -> LeakMatchInfo:
    return LeakMatchInfo(
        id=n, source=f"https://img.example/{n}.jpg", found_on=found_on, photo_id=photo_id,
        share_id="00aa11bb22cc33" if method in ("watermark", "metadata") else None, method=method,
        score=0.9, pdq_distance=None, inliers=40 if method == "features" else None, region=region,
        found_size=found_size, detail="detail", first_seen=datetime(2026, 1, n, 12, 0),
        last_seen=datetime(2026, 2, n, 12, 0), status=status)


def test_leaks_model_passes_qtmodeltester(qtmodeltester):
    model = LeaksTableModel()
    statuses = ["found", "drafted", "sent", "removed", "failed"]
    model.set_matches([_match(n, status=statuses[n % 5], photo_id=n % 3 or None,
                              method=("features", "pdq", "watermark", "metadata")[n % 4]) for n in range(1, 9)])
    qtmodeltester.check(model)
    assert [model.match_at(r).id for r in range(8)] == list(range(8, 0, -1))  # last seen, newest first
    assert model.index(0, LeakColumn.Photo).data() == "Photo 2"
    assert model.index(model.row_of(3), LeakColumn.Photo).data() == "(deleted photo)"
    model.set_status(8, "removed")
    assert model.index(0, LeakColumn.Status).data() == "Removed"
    assert model.index(0, LeakColumn.Source).data() == "img.example/8.jpg"
    assert model.index(0, 0).data(LeakRoles.Match).id == 8
    qtmodeltester.check(model)
    proxy = LeaksFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    proxy.set_text("removed")
    assert {proxy.index(r, 0).data(LeakRoles.MatchId) for r in range(proxy.rowCount())} == {3, 8}
    proxy.set_text("")
    proxy.sort(LeakColumn.FirstSeen, Qt.SortOrder.AscendingOrder)
    assert proxy.index(0, 0).data(LeakRoles.MatchId) == 1
    qtmodeltester.check(proxy)
    model.clear()
    qtmodeltester.check(model)


def test_words_places_and_addresses():
    from app.core.vault import ShareInfo

    share = ShareInfo("00aa11bb22cc33", 1, "Max", "WhatsApp", datetime(2026, 3, 4, 10, 0), 640, 480, {})
    assert method_words(_match(1, method="watermark"), share) == (
        "Found by its invisible watermark — this is the copy you shared with Max on WhatsApp on 4 Mar 2026.")
    assert method_words(_match(1)) == "Found by its local features (a crop, rotation or screenshot)."
    inside = [(100, 50), (300, 50), (300, 150), (100, 150)]
    assert "inside a larger picture" in method_words(_match(1, region=inside))
    assert "fingerprint" in method_words(_match(1, method="pdq"))
    assert "no record" in method_words(_match(1, method="metadata"))
    places = rescan_places([_match(1, found_on="https://forum.example/t/1"), _match(2, found_on="https://forum.example/t/1"),
                            _match(3)])
    assert places == ["https://forum.example/t/1", "https://img.example/3.jpg"]
    downloads = str(Path.home() / "Downloads")
    assert parse_addresses(f" https://a.example/x \n\nb.example/page\n# note\nhttps://a.example/x\n{downloads}") == [
        "https://a.example/x", "https://b.example/page", downloads]
    # what is no address is refused at entry, with the reason, not sent off as https://not a url
    sources, refused = read_addresses("not a url\nexample\nhttps://ok.example/a.jpg\nhttp://x.example:port/\nlocalhost:8080/p")
    assert sources == ["https://ok.example/a.jpg", "https://localhost:8080/p"]
    assert refused == [("not a url", "it has spaces in it"), ("example", "the site name has no dot (like example.com)"),
                       ("http://x.example:port/", "it is not a valid web address")]


def test_network_problems_in_plain_words():
    """The fetcher's and httpx's network errors become sentences naming the site; no class names."""
    import httpx

    from app.core.leaks.fetch import FetchError
    from app.ui.errors import describe, place_problem

    url = "https://host.example/a.jpg"
    assert place_problem(url, "could not connect (ConnectError)") == (
        "could not reach host.example: check the address and the internet connection")
    assert place_problem(url, "could not connect: [Errno -2] Name or service not known").startswith(
        "host.example was not found: check the spelling")
    assert place_problem(url, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed").startswith(
        "the secure connection to host.example failed")
    assert place_problem(url, "the server did not answer in time") == "host.example did not answer in time: try again later"
    assert place_problem(url, "not found (HTTP 404): it may have been removed") == "not found (HTTP 404): it may have been removed"
    notes = str(Path.home() / "notes.txt")
    assert place_problem(notes, "the file is not a supported image") == "the file is not a supported image"
    assert place_problem("https://tls.example/ssl.jpg", "refused by the server (HTTP 403)") == "refused by the server (HTTP 403)"
    request = httpx.Request("GET", url)
    message = describe(httpx.ConnectError("[Errno 111] Connection refused", request=request))
    assert message.title == "Could not reach the address"
    assert message.text == "Host.example refused the connection: the site may be down; try again later."
    message = describe(httpx.ReadTimeout("timed out", request=request))
    assert message.text == "Host.example did not answer in time: try again later."
    assert "ConnectError" not in describe(FetchError("could not reach the host (ConnectError)")).text
    # a removal request that could not reach its host: the same words, in the dialog and the list
    from app.core.leaks.takedown import TakedownError
    from app.core.vault import TakedownInfo
    from app.ui.leaks_view import takedown_line

    failed = "The host could not be reached: could not reach the host (ConnectError)"
    message = describe(TakedownError(failed))
    assert message.title == "Removal request not sent"
    assert message.text == "Could not reach the site: check the address and the internet connection."
    request = TakedownInfo(1, 1, "deletion_link", "s", "t", "", None, "failed", failed, datetime(2026, 2, 1, 12, 0))
    assert "ConnectError" not in takedown_line(request) and "could not reach the site" in takedown_line(request)


def test_evidence_view_scales_the_region_and_outlines_both_sides(qtbot):
    # the found image was 480 × 240; the evidence kept is half that; the photo sits in its middle
    region = [(100, 50), (300, 50), (300, 150), (100, 150)]
    match = _match(1, region=region, found_size=(480, 240))
    assert region_in_evidence(match, 240) == [(50, 25), (150, 25), (150, 75), (50, 75)]
    assert region_in_evidence(_match(1, region=region, found_size=None), 240) is None
    assert region_in_evidence(match, 120, 240) is None  # a frame turned sideways: no outline
    photo, found = QImage(200, 100, QImage.Format.Format_RGB32), QImage(240, 120, QImage.Format.Format_RGB32)
    photo.fill(QColor("#336699"))
    found.fill(QColor("#dddddd"))
    view = EvidenceView()
    qtbot.addWidget(view)
    view.resize(600, 240)
    view.set_evidence(match, photo, found, "photo.jpg")
    image = view.grab().toImage()
    outline = view.found_outline.boundingRect()
    found_rect = _painted_photo_rect(view, 1)
    k = found_rect.width() / 240  # evidence pixels -> screen
    assert found_rect.width() > 200
    assert abs(outline.left() - (found_rect.left() + 50 * k)) < 1.5 and abs(outline.width() - 100 * k) < 1.5
    assert abs(outline.top() - (found_rect.top() + 25 * k)) < 1.5 and abs(outline.height() - 50 * k) < 1.5
    # the outline colour is painted on the found copy
    edge = image.pixelColor(int(outline.left() + outline.width() / 2), int(outline.top()))
    assert edge.red() > 200 and edge.blue() < 100
    # the whole photo is inside the found image: its outline is the photo's frame
    shown = view.photo_outline.boundingRect()
    photo_rect = _painted_photo_rect(view)
    assert abs(shown.width() - photo_rect.width()) < 2 and abs(shown.height() - photo_rect.height()) < 2
    # a whole-picture match outlines the whole found copy; no region and no method: nothing
    view.set_evidence(_match(2, method="pdq"), photo, found)
    view.grab()
    assert abs(view.found_outline.boundingRect().width() - found_rect.width()) < 1.5
    view.clear("Nothing")
    view.grab()
    assert view.found_outline is None


def test_deleting_a_photo_with_found_copies_asks_about_their_record(qtbot, stocked, photo_dir, tmp_path,
                                                                     monkeypatch):
    """The delete confirmation says the found copies' pictures go, and offers to forget their
    record; the default keeps it (address and dates), without the picture."""
    session, window, ids = stocked
    copy = tmp_path / "reposted.jpg"
    copy.write_bytes(_jpeg(Image.open(photo_dir / "photo00.jpg"), 70))
    found = session.vault.scan([str(copy)]).matches
    assert [m.photo_id for m in found] == [ids["photo00.jpg"]] and session.vault.match_evidence(found[0].id)
    with qtbot.waitSignal(window.leaks_page.loaded, timeout=10_000):
        window.leaks_page.reload()
    window.gallery.clearSelection()
    row = next(r for r in range(window.proxy.rowCount())
               if window.proxy.index(r, 0).data(Roles.PhotoId) == ids["photo00.jpg"])
    window.gallery.selectionModel().select(window.proxy.index(row, 0),
                                           window.gallery.selectionModel().SelectionFlag.Select)
    asked = []
    monkeypatch.setattr(dialogs, "confirm_with_option",
                        lambda *a, **k: asked.append((a[4], k.get("informative", ""))) or (True, False))
    with qtbot.waitSignal(window.leaks_page.loaded, timeout=20_000):
        window.delete_action.trigger()
    option, informative = asked[0]
    assert "1 found copy" in option and "pictures" in informative and "kept" in informative
    qtbot.waitUntil(lambda: not session.jobs.busy(), timeout=10_000)
    kept = session.vault.list_matches()
    assert [(m.id, m.source, m.photo_id) for m in kept] == [(found[0].id, str(copy), None)]
    assert session.vault.match_evidence(found[0].id) is None
    model = window.leaks_model
    assert model.rowCount() == 1 and model.index(0, LeakColumn.Photo).data() == "(deleted photo)"
