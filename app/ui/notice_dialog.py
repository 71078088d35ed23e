"""The notice editor of a case: pick the law that fits, fill in what it needs, see which of its
required elements are present or missing, edit the text, and record it as sent — refused while
anything is missing.

The text is written from the fields as they change (`notices.compose`, pure and quick) until the
user edits it; from then on it is theirs, and the check reads their text ("Rewrite" starts over). A search engine's form cannot be sent by Sanctum: for delisting the
editor lists the form's fields in its order, each with a Copy button, and the form's address.
Saving and sending run in jobs (`Vault.draft_notice`, `Vault.mark_notice_sent`).
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.leaks import notices, platforms
from app.core.leaks.cases import CaseInfo, CaseNoticeInfo, escalation_preface
from app.core.leaks.enums import MatchStatus, NoticeAudience, NoticeStatus
from app.workers.base import CallJob

from . import mail_draft, settings
from .errors import describe
from .session import Session

PRESENT, MISSING = "✓", "✗"


def open_form(url: str) -> bool:
    """Open a search engine's form in the browser (tests replace this)."""
    return QDesktopServices.openUrl(QUrl(url))


def _sent_notice(vault, case_id: int, kind: str, sender, audience: str, to: str, text: str) -> CaseNoticeInfo:
    """Save the notice as the user left it, then record it sent (refused while incomplete)."""
    notice = vault.draft_notice(case_id, kind, sender, audience=audience, to=to, text=text)
    return vault.mark_notice_sent(notice.id)


class NoticeDialog(QDialog):
    changed = Signal(object)  # CaseNoticeInfo: saved or sent

    def __init__(self, session: Session, case: CaseInfo, pdq: dict[int, str] | None = None,
                 notice: CaseNoticeInfo | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("noticeDialog")
        self.setWindowTitle(f"Notice to {case.host}")
        self.setMinimumSize(900, 640)
        self.session, self.case, self.notice = session, case, notice
        self.pdq = pdq or {}
        self.job: CallJob | None = None
        self.edited = False  # the user changed the text: it is no longer rewritten from the fields
        self.directory = platforms.find(case.host)
        live = [a for a in case.addresses if a.status != MatchStatus.REMOVED]
        self.addresses = tuple(notices.NoticeAddress(a.url, a.found_on, a.first_seen) for a in live)
        self.pdq_hexes = tuple(dict.fromkeys(self.pdq[a.photo_id] for a in live if a.photo_id in self.pdq))

        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        form = QFormLayout()
        self.kind = QComboBox()
        self.kind.setObjectName("noticeKind")
        for key, law in notices.LAWS.items():
            self.kind.addItem(law.label, key)
        self.kind_hint = self._muted("noticeKindHint")
        self.audience = QComboBox()
        self.audience.setObjectName("noticeAudience")
        self.audience.addItem(f"The site ({case.host})", str(NoticeAudience.SITE))
        if case.provider:
            self.audience.addItem("Its hosting provider (escalation)", str(NoticeAudience.PROVIDER))
        self.to = QLineEdit()
        self.to.setObjectName("noticeTo")
        self.to_hint = self._muted("noticeToHint")
        form.addRow("Law", self.kind)
        form.addRow("", self.kind_hint)
        form.addRow("For", self.audience)
        form.addRow("To", self.to)
        form.addRow("", self.to_hint)
        self.fields: dict[str, QLineEdit | QPlainTextEdit] = {}
        for key, label, default in (
                ("name", "Your name", settings.read(settings.REQUESTER_NAME)),
                ("email", "Your email", settings.read(settings.REQUESTER_EMAIL)),
                ("signature", "Signature (type your name)", ""), ("postal_address", "Postal address", ""),
                ("phone", "Phone", ""), ("country", "Country of residence", ""),
                ("explanation", "Why it is illegal", ""), ("work", "Your original photo", ""),
                ("search_results", "Search results (one a line)", "")):
            field = QPlainTextEdit() if key in ("explanation", "search_results", "work") else QLineEdit(str(default))
            field.setObjectName(f"notice_{key}")
            if isinstance(field, QPlainTextEdit):
                field.setMaximumHeight(64)
            field.textChanged.connect(self._fields_changed)
            self.fields[key] = field
            form.addRow(label, field)
        self.form = form
        left.addLayout(form)
        title = QLabel("What this law requires")
        title.setObjectName("takedownSection")
        left.addWidget(title)
        self.elements = QListWidget()
        self.elements.setObjectName("noticeElements")
        left.addWidget(self.elements, 1)
        self.hashes = self._muted("noticeHashProgrammes")
        self.hashes.setOpenExternalLinks(True)
        # When to use a hash-sharing programme instead of (or beside) a notice, and what it asks.
        self.hashes.setText("<b>Also: hash-sharing programmes</b> (the photo never leaves your device; "
                            "participating platforms block copies) — " + " ".join(
                                f'<a href="{url}">{name}</a>: {words}' for name, url, words in notices.HASH_PROGRAMMES))
        left.addWidget(self.hashes)
        layout.addLayout(left, 5)

        right = QVBoxLayout()
        self.subject = QLineEdit()
        self.subject.setObjectName("noticeSubject")
        right.addWidget(self.subject)
        self.text = QPlainTextEdit()
        self.text.setObjectName("noticeText")
        self.text.textChanged.connect(self._text_edited)
        right.addWidget(self.text, 1)
        self.form_box = QWidget()
        self.form_box.setObjectName("noticeFormFields")
        self.form_grid = QGridLayout(self.form_box)
        right.addWidget(self.form_box, 1)
        self.rewrite_button = self._button("Rewrite", "noticeRewrite", self.rewrite)
        self.rewrite_button.setToolTip("Write the text again from the fields (your edits to it are replaced)")
        self.copy_button = self._button("Copy text", "noticeCopy", self.copy_text)
        self.mail_button = self._button("Open email draft", "noticeOpenMail", self.open_mail)
        self.form_button = self._button("Open the form", "noticeOpenForm", self.open_form)
        self.save_button = self._button("Save draft", "noticeSave", self.save)
        self.sent_button = self._button("I sent it", "noticeMarkSent", self.mark_sent)
        self.sent_button.setProperty("primary", True)
        row = QHBoxLayout()
        for button in (self.rewrite_button, self.copy_button):
            row.addWidget(button)
        row.addStretch(1)
        for button in (self.mail_button, self.form_button, self.save_button, self.sent_button):
            row.addWidget(button)
        right.addLayout(row)
        self.status = QLabel()
        self.status.setObjectName("noticeStatus")
        self.status.setWordWrap(True)
        right.addWidget(self.status)
        layout.addLayout(right, 6)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.audience.currentIndexChanged.connect(self._kind_changed)
        if notice is not None:
            self._load(notice)
        else:
            self._kind_changed()

    # --- building ------------------------------------------------------------------------------

    def _muted(self, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setProperty("muted", True)
        return label

    def _button(self, text: str, name: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(slot)
        # The stylesheet's padding is not in the size hint yet: room for the whole label.
        button.setMinimumWidth(button.fontMetrics().horizontalAdvance(text) + 36)
        return button

    def _load(self, notice: CaseNoticeInfo) -> None:
        """An existing notice: its kind, recipient and text as saved (a sent one is read-only)."""
        if notice.kind in notices.LAWS:
            self.kind.blockSignals(True)
            self.kind.setCurrentIndex(self.kind.findData(notice.kind))
            self.kind.blockSignals(False)
        self._kind_changed()
        self.to.setText(notice.to)
        self.subject.setText(notice.subject)
        self.text.blockSignals(True)
        self.text.setPlainText(notice.text)
        self.text.blockSignals(False)
        self.edited = True
        if notice.status != NoticeStatus.DRAFTED:
            for widget in (self.text, self.to, self.subject, *self.fields.values()):
                widget.setReadOnly(True)
            self.kind.setEnabled(False)
            self.audience.setEnabled(False)
        self._update()

    # --- the fields and the text ---------------------------------------------------------------------

    def chosen_kind(self) -> str:
        return str(self.kind.currentData())

    def chosen_audience(self) -> str:
        if self.chosen_kind() == "search-delisting":
            return str(NoticeAudience.SEARCH)
        return str(self.audience.currentData())

    def _value(self, key: str) -> str:
        field = self.fields[key]
        return (field.toPlainText() if isinstance(field, QPlainTextEdit) else field.text()).strip()

    def sender(self) -> notices.Sender:
        results = tuple(line.strip() for line in self._value("search_results").splitlines() if line.strip())
        return notices.Sender(**{key: self._value(key) for key in self.fields if key != "search_results"},
                              search_results=results)

    def facts(self) -> notices.NoticeFacts:
        sender = self.sender()
        return notices.NoticeFacts(host=self.case.host, addresses=self.addresses, pdq_hexes=self.pdq_hexes,
                                   **dataclasses.asdict(sender))

    def default_to(self) -> str:
        kind = self.chosen_kind()
        if kind == "search-delisting":
            return notices.LAWS[kind].form_url or ""
        if self.chosen_audience() == NoticeAudience.PROVIDER:
            return ((self.case.provider or {}).get("abuse_emails") or [""])[0]
        return self.directory.contact_for(kind) if self.directory else ""

    def _kind_changed(self) -> None:
        kind = self.chosen_kind()
        law = notices.LAWS[kind]
        deadline = ("" if law.deadline_hours  # its "when" names the deadline already
                    else f" The law names no deadline: Sanctum follows up after {law.follow_up_days} days.")
        self.kind_hint.setText(law.when + deadline)
        needed = {e.key for e in law.elements} | {"name", "email", "postal_address", "phone"}
        for key, field in self.fields.items():
            visible = key in needed or (key == "signature" and kind != "dsa") or (
                key == "explanation" and kind == "dsa") or (key == "work" and kind == "copyright") or (
                key in ("country", "search_results") and kind == "search-delisting")
            self.form.setRowVisible(field, visible)
        self.audience.setEnabled(kind != "search-delisting" and self.audience.count() > 1)
        self.to.setText(self.default_to())
        if self.directory is not None and self.chosen_audience() == NoticeAudience.SITE:
            self.to_hint.setText(f"From Sanctum's directory: {self.directory.name}, checked "
                                 f"{self.directory.checked_on} ({self.directory.source}). {self.directory.note}")
        elif not self.to.text():
            self.to_hint.setText("No contact known for this site: look for “Contact”, “Legal”, “DMCA” or “Report” "
                                 "on the site, or find its hosting provider from the case.")
        else:
            self.to_hint.setText("")
        self.edited = False
        self.rewrite()

    def _fields_changed(self) -> None:
        if not self.edited:
            self.rewrite()
        else:
            self._update()

    def rewrite(self) -> None:
        """The law's text from the fields, replacing any edits."""
        draft = notices.compose(self.chosen_kind(), self.facts(), self.to.text())
        if self.chosen_audience() == NoticeAudience.PROVIDER:
            draft = dataclasses.replace(draft, subject=f"Abuse report: {draft.subject}",
                                        text=escalation_preface(self.case) + draft.text)
        self.subject.setText(draft.subject)
        self.text.blockSignals(True)
        self.text.setPlainText(draft.text)
        self.text.blockSignals(False)
        self.edited = False
        self._show_form_fields(draft.fields)
        self._update()

    def _text_edited(self) -> None:
        self.edited = True
        self._update()

    def _show_form_fields(self, fields: tuple[tuple[str, str], ...]) -> None:
        while self.form_grid.count():
            item = self.form_grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.copy_buttons: dict[str, QPushButton] = {}
        for row, (label, value) in enumerate(fields):
            name = QLabel(label)
            name.setWordWrap(True)
            name.setMaximumWidth(190)
            shown = QLabel(value or "—")
            shown.setWordWrap(True)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            button = QPushButton("Copy")
            button.setObjectName(f"copyField{row}")
            button.setEnabled(bool(value))
            button.clicked.connect(lambda _=False, v=value, b=button: self._copy_field(v, b))
            self.copy_buttons[label] = button
            for column, widget in enumerate((name, shown, button)):
                self.form_grid.addWidget(widget, row, column)
        self.form_grid.setColumnStretch(1, 1)

    def _copy_field(self, value: str, button: QPushButton) -> None:
        QGuiApplication.clipboard().setText(value)
        button.setText("Copied")

    def missing(self) -> tuple[str, ...]:
        return notices.check(self.chosen_kind(), self.facts(), self.text.toPlainText())

    def _update(self) -> None:
        kind = self.chosen_kind()
        text = self.text.toPlainText()
        facts = self.facts()
        self.elements.clear()
        for element in notices.LAWS[kind].elements:
            ok = element.filled(facts) and element.present(facts, text)
            item = QListWidgetItem(f"{PRESENT if ok else MISSING}  {element.label}")
            item.setForeground(Qt.GlobalColor.darkGreen if ok else Qt.GlobalColor.red)
            item.setData(Qt.ItemDataRole.UserRole, ok)
            self.elements.addItem(item)
        delisting = kind == "search-delisting"
        self.form_box.setVisible(delisting)
        self.text.setVisible(not delisting)
        self.rewrite_button.setVisible(not delisting)
        self.form_button.setVisible(delisting)
        self.mail_button.setVisible(not delisting)
        missing = self.missing()
        sent = self.notice is not None and self.notice.status == NoticeStatus.SENT
        running = self.job is not None
        self.sent_button.setEnabled(not missing and not sent and not running)
        self.save_button.setEnabled(not sent and not running)
        self.mail_button.setEnabled("@" in self.to.text() and not running)
        self.sent_button.setToolTip("Missing: " + "; ".join(missing) if missing else
                                    "Record that you sent it: its deadline starts now")
        if sent:
            self.status.setText(f"Sent {self.notice.sent_at:%d %B %Y %H:%M}; due {self.notice.due_at:%d %B %Y %H:%M}.")
        elif missing:
            self.status.setText("Before it can be sent, fill in: " + "; ".join(missing) + ".")
        else:
            self.status.setText("Every element the law requires is there.")

    # --- actions -------------------------------------------------------------------------------------

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(f"Subject: {self.subject.text()}\n\n{self.text.toPlainText()}")
        self.copy_button.setText("Copied")

    def open_mail(self) -> bool:
        to = self.to.text().strip()
        url = f"mailto:{quote(to, safe='@')}?subject={quote(self.subject.text())}&body={quote(self.text.toPlainText())}"
        opened = mail_draft.mail_program_available() and mail_draft.open_url(url)
        if not opened:
            self.copy_text()
            self.status.setText("No email program was found. The notice was copied: paste it into an email to "
                                f"{to}, then click “I sent it”.")
        return opened

    def open_form(self) -> bool:
        return open_form(notices.LAWS["search-delisting"].form_url or "")

    def _remember_sender(self) -> None:
        sender = self.sender()
        if sender.name or sender.email:  # remembered for next time, in the vault
            settings.write(settings.REQUESTER_NAME, sender.name)
            settings.write(settings.REQUESTER_EMAIL, sender.email)

    def save(self) -> CallJob | None:
        vault = self.session.vault
        return self._run(CallJob(vault, vault.draft_notice, self.case.id, self.chosen_kind(), self.sender(),
                                 audience=self.chosen_audience(), to=self.to.text().strip(),
                                 text=self.text.toPlainText(), lane="vault-write"), "Saving the draft…")

    def mark_sent(self) -> CallJob | None:
        if self.missing():
            return None  # the button is disabled too; the core would refuse anyway
        vault = self.session.vault
        return self._run(CallJob(vault, _sent_notice, vault, self.case.id, self.chosen_kind(), self.sender(),
                                 self.chosen_audience(), self.to.text().strip(), self.text.toPlainText(),
                                 lane="vault-write"), "Recording that you sent it…")

    def _run(self, job: CallJob, words: str) -> CallJob | None:
        if self.job is not None or not self.session.is_unlocked:
            return None
        self._remember_sender()
        self.job = job
        job.signals.finished.connect(self._saved)
        job.signals.failed.connect(lambda exc: self.status.setText(f"{describe(exc).title}: {describe(exc).text}"))
        job.signals.ended.connect(self._ended)
        self.status.setText(words)
        self.session.jobs.start(job)
        self._update()
        return job

    def _saved(self, notice: CaseNoticeInfo) -> None:
        self.notice = notice
        self.changed.emit(notice)

    def _ended(self) -> None:
        self.job = None
        words = self.status.text()
        self._update()
        if words.startswith(("Notice not complete", "Something went wrong", "Vault locked")):
            self.status.setText(words)

    def close_for_lock(self) -> None:
        self.reject()
