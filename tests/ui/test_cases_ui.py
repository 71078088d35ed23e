"""The Cases tab and the notice editor, on a real window and vault: copies found on the image
host at 127.0.0.1 form one case; a notice sent 49 hours ago puts its case first as overdue,
re-checked, with the next step; the editor shows each required element present or missing,
refuses to record an incomplete notice as sent, and lays out a search engine's form fields
with copy buttons."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from app.core.leaks.fetch import Fetcher
from app.core.leaks.notices import Sender
from app.ui import notice_dialog
from app.ui.cases_view import CaseColumn
from app.ui.sidebar import Scope

from .conftest import fast_fetch_policy
from .test_leaks_ui import _jpeg, stocked  # noqa: F401 - fixture


@pytest.fixture
def with_cases(qtbot, stocked, photo_dir, image_host):  # noqa: F811
    session, window, ids = stocked
    vault = session.vault
    photo = Image.open(photo_dir / "photo00.jpg")
    first, _ = image_host.upload(_jpeg(photo, 85))
    second, _ = image_host.upload(_jpeg(photo.resize((photo.width // 2, photo.height // 2)), 80))
    with Fetcher(fast_fetch_policy()) as fetcher:
        assert len(vault.scan([first, second], fetcher=fetcher).matches) == 2
    from app.core import db

    now = datetime.now()
    db.LeakMatch.create(source="https://img.quiet.example/a.jpg", photo=ids["photo01.jpg"], method="pdq",
                        score=1.0, first_seen=now, last_seen=now)
    local = next(c for c in vault.list_cases() if c.host == "127.0.0.1")
    notice = vault.draft_notice(local.id, "take-it-down", Sender("Dana Example", "dana@example.org", "Dana Example"))
    vault.mark_notice_sent(notice.id, sent_at=now - timedelta(hours=49))
    return session, window, (first, second)


def _show_cases(qtbot, window):
    window.sidebar.select_scope(Scope("leaks"))
    page = window.leaks_page.cases
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        window.leaks_page.show_cases()
    return page


def test_overdue_case_comes_first_is_rechecked_and_says_what_next(qtbot, with_cases):
    session, window, (first, second) = with_cases
    page = _show_cases(qtbot, window)
    # its deadline passed: the tab looks at the addresses again (still there on the host)
    with qtbot.waitSignal(page.checked, timeout=30_000) as checked:
        pass
    assert checked.args[0] == "Checked: 0 of 2 addresses removed."
    qtbot.waitUntil(lambda: page.model.rowCount() == 2 and page.model.cases[0].checked_at is not None,
                    timeout=20_000)
    model = page.model
    assert model.index(0, CaseColumn.Site).data() == "127.0.0.1"
    assert model.index(0, CaseColumn.Status).data() == "Overdue"
    assert "hosting" in model.index(0, CaseColumn.Next).data()
    assert model.index(1, CaseColumn.Site).data() == "quiet.example"
    assert model.index(1, CaseColumn.Status).data() == "Nothing sent yet"
    page.select_case(model.cases[0].id)
    panel = page.panel
    assert panel.headline.text().startswith("127.0.0.1: Overdue — due ")
    assert panel.next_step.text().startswith("Next: The site did not remove them in time")
    assert {panel.addresses.item(i).text().split(" — ")[0] for i in range(panel.addresses.count())} == {first, second}
    assert panel.notices.item(0).text().startswith("US TAKE IT DOWN Act, for the site: sent ")
    assert panel.reply_button.isEnabled() and panel.provider_button.isEnabled()


def test_notice_editor_names_missing_elements_refuses_then_sends(qtbot, with_cases, monkeypatch):
    session, window, _ = with_cases
    page = _show_cases(qtbot, window)
    qtbot.waitUntil(lambda: not page._busy, timeout=30_000)  # the due re-check of the other case
    row = page.model.row_of(next(c.id for c in page.model.cases if c.host == "quiet.example"))
    page.table.selectRow(row)
    page.panel.notice_button.click()
    dialog = window.leaks_controller.notice_slot.dialog
    assert isinstance(dialog, notice_dialog.NoticeDialog) and dialog.isVisible()

    def elements() -> dict[str, bool]:
        return {dialog.elements.item(i).text()[3:]: dialog.elements.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(dialog.elements.count())}

    dialog.kind.setCurrentIndex(dialog.kind.findData("take-it-down"))
    dialog.fields["name"].setText("Dana Example")
    dialog.fields["email"].setText("dana@example.org")
    dialog.fields["signature"].setText("")
    assert elements() == {"signature (your typed name)": False, "the exact address of every copy": True,
                          "good-faith statement that it is not consensual": True,
                          "contact information (your name and email)": True}
    assert not dialog.sent_button.isEnabled() and "signature" in dialog.sent_button.toolTip()
    assert "signature" in dialog.status.text()
    assert dialog.mark_sent() is None  # refused while something is missing
    dialog.fields["signature"].setText("Dana Example")
    assert all(elements().values()) and dialog.sent_button.isEnabled()
    assert "https://img.quiet.example/a.jpg" in dialog.text.toPlainText()
    # an edit that drops the address is caught
    dialog.text.setPlainText(dialog.text.toPlainText().replace("https://img.quiet.example/a.jpg", "the image"))
    assert not elements()["the exact address of every copy"] and not dialog.sent_button.isEnabled()
    dialog.rewrite_button.click()
    assert dialog.sent_button.isEnabled()

    # search delisting: the form's fields with copy buttons, and its address
    dialog.kind.setCurrentIndex(dialog.kind.findData("search-delisting"))
    assert dialog.form_box.isVisible() and not dialog.text.isVisible() and dialog.form_button.isVisible()
    assert dialog.to.text().startswith("https://support.google.com/")
    dialog.copy_buttons["URLs of the images"].click()
    assert QGuiApplication.clipboard().text() == "https://img.quiet.example/a.jpg"
    assert not elements()["search result pages or search terms that show them"]
    opened = []
    monkeypatch.setattr(notice_dialog, "open_form", lambda url: opened.append(url) or True)
    dialog.form_button.click()
    assert opened == [dialog.to.text()]

    dialog.kind.setCurrentIndex(dialog.kind.findData("take-it-down"))
    with qtbot.waitSignal(dialog.changed, timeout=20_000) as saved:
        dialog.sent_button.click()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=5000)
    notice = saved.args[0]
    assert notice.status == "sent" and notice.due_at - notice.sent_at == timedelta(hours=48)
    qtbot.waitUntil(lambda: any(c.host == "quiet.example" and c.status == "waiting" for c in page.model.cases),
                    timeout=20_000)
    dialog.reject()
    qtbot.waitUntil(lambda: not page._busy, timeout=30_000)

    # the site refuses: recorded, and the case moves up to the escalation
    quiet = next(c for c in page.model.cases if c.host == "quiet.example")
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        page.save_reply(quiet, "refused", "we do not remove content")
    quiet = next(c for c in page.model.cases if c.host == "quiet.example")
    assert quiet.status == "overdue" and quiet.next_step == "escalate-to-provider"
    page.select_case(quiet.id)
    assert page.panel.replies.item(0).text().endswith("They refused — we do not remove content")
    qtbot.waitUntil(lambda: not page._busy, timeout=30_000)
