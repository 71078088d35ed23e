"""The "Request deletion…" dialog: ask a host to remove a found copy.

What the user knows about the host decides the way (`takedown.choose_kind`): a deletion link
handed out at upload, an Imgur-style delete-hash with the app's client id, or else a notice
(non-consensual intimate imagery / privacy, and copyright) to the host's abuse address. The
vault drafts the request (`Vault.draft_takedown`, in a job); a direct request is then sent by Sanctum
(`SendTakedownJob`), a notice by the user's own mail program (the `mailto:` draft), after which
"I sent it" records it as sent. "Check again" looks at the address (`RecheckTakedownJob`).

Sanctum never attaches the photo: the notice describes the copy by its address and hashes.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.leaks import takedown
from app.core.leaks.enums import TakedownStatus
from app.core.urls import is_url
from app.core.vault import LeakMatchInfo, ShareInfo, TakedownInfo
from app.workers.base import CallJob, Job
from app.workers.leak_jobs import RecheckTakedownJob, SendTakedownJob

from . import settings
from .errors import describe, reason_words
from .leak_words import STATUS_COLORS, TAKEDOWN_KINDS, method_words, place_of
from .mail_draft import looks_like_email, mail_program_available, open_url
from .session import Session

log = logging.getLogger(__name__)

_STYLE = ("QFrame#takedownBox { background: #ffffff; border: 1px solid #dfe3e8; border-radius: 8px; }"
          "QLabel#takedownSection { font-weight: 600; margin-top: 4px; }")

KIND_HINTS = {
    "deletion_link": "Sanctum will open the deletion link for you: the host removes the image at once.",
    "imgur_api": "Sanctum will ask the host's API to delete the image with its delete-hash.",
    "notice": "Sanctum will write a removal notice for the host's abuse team. You send it from your "
              "own email program; Sanctum never sends email and never attaches the photo.",
}

STATUS_TEXT = {
    TakedownStatus.DRAFTED: "Drafted — nothing was sent yet.",
    TakedownStatus.SENT: "Sent. Hosts can take a while: use “Check again” later to see whether it is gone.",
    TakedownStatus.REMOVED: "Removed — the address no longer shows your photo.",
    TakedownStatus.FAILED: "Failed",
}


class TakedownDialog(QDialog):
    changed = Signal(object)  # TakedownInfo: drafted, sent, checked (or the match id after a failure)
    busy_changed = Signal(bool)

    def __init__(self, session: Session, match: LeakMatchInfo, share: ShareInfo | None = None,
                 request: TakedownInfo | None = None, policy=None, parent: QWidget | None = None,
                 sensitive: bool = False):
        super().__init__(parent)
        self.setObjectName("takedownDialog")
        self.setWindowTitle("Request deletion")
        self.setStyleSheet(_STYLE)
        self.session = session
        self.match = match
        self.share = share
        self.sensitive = sensitive  # the photo's flag: picks the kind of notice offered first
        self.policy = policy  # FetchPolicy for sending and checking (tests shorten timeouts)
        self.request: TakedownInfo | None = None
        self.job: Job | None = None
        self.last_error = ""
        self._closing_for_lock = False
        self.setMinimumWidth(640)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        title = QLabel(f"Ask for the copy at {place_of(match)} to be removed")
        title.setObjectName("metadataTitle")
        title.setWordWrap(True)
        about = QLabel(method_words(match, share))
        about.setWordWrap(True)
        about.setProperty("muted", True)
        layout.addWidget(title)
        layout.addWidget(about)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_form())
        self.pages.addWidget(self._build_request())
        layout.addWidget(self.pages, 1)

        self.error = QLabel()
        self.error.setObjectName("takedownError")
        self.error.setProperty("role", "error")
        self.error.setStyleSheet("color: #b42318;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        progress_row = QHBoxLayout()
        self.progress_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        self.progress_box.hide()
        layout.addWidget(self.progress_box)

        buttons = QHBoxLayout()
        self.back_button = QPushButton("Edit details")
        self.back_button.setObjectName("takedownBack")
        self.back_button.clicked.connect(self._back_to_form)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("takedownClose")
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        if request is not None:
            self._show_request(request)
        else:
            self.pages.setCurrentIndex(0)
        self._update()

    # --- building ------------------------------------------------------------------------------

    def _build_form(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        box = QFrame()
        box.setObjectName("takedownBox")
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.form = form
        what = QLabel("What you ask for")
        what.setObjectName("takedownSection")
        form.addRow(what)
        self.notice_kind = QComboBox()
        self.notice_kind.setObjectName("takedownNoticeKind")
        for key, kind in takedown.NOTICE_KINDS.items():
            self.notice_kind.addItem(kind.label, key)
        self.notice_kind.setCurrentIndex(self.notice_kind.findData(takedown.default_notice_kind(self.sensitive)))
        self.notice_kind.setToolTip("What the notice says about the photo: pick what is true for it")
        form.addRow("Kind of notice", self.notice_kind)
        self.notice_kind_note = QLabel("The notice states this in your name: pick what is true for this photo.")
        self.notice_kind_note.setObjectName("takedownNoticeKindNote")
        self.notice_kind_note.setWordWrap(True)
        self.notice_kind_note.setProperty("muted", True)
        form.addRow("", self.notice_kind_note)
        where = QLabel("Where it is hosted — fill in what you have")
        where.setObjectName("takedownSection")
        form.addRow(where)
        self.host_name = QLineEdit()
        self.host_name.setObjectName("takedownHostName")
        self.host_name.setPlaceholderText(f"Optional — how the notice names the site (else {self._default_host()})")
        form.addRow("Site's name", self.host_name)
        self.abuse_email = QLineEdit()
        self.abuse_email.setObjectName("takedownAbuseEmail")
        self.abuse_email.setPlaceholderText("abuse@… — see the site's Contact, Legal or Report page")
        form.addRow("Host's abuse email", self.abuse_email)
        self.deletion_link = QLineEdit()
        self.deletion_link.setObjectName("takedownDeletionLink")
        self.deletion_link.setPlaceholderText("The delete link the site gave when the image was uploaded")
        form.addRow("Deletion link", self.deletion_link)
        self.delete_hash = QLineEdit()
        self.delete_hash.setObjectName("takedownDeleteHash")
        self.delete_hash.setPlaceholderText("Imgur and similar hosts: the image's delete-hash")
        self.client_id = QLineEdit()
        self.client_id.setObjectName("takedownClientId")
        self.client_id.setPlaceholderText("…and the app's client ID")
        # Few people have a delete-hash: the two fields stay out of the way until asked for.
        self.use_imgur = QCheckBox("I have the image's delete-hash (Imgur and similar hosts)")
        self.use_imgur.setObjectName("takedownUseImgur")
        self.use_imgur.toggled.connect(self._show_imgur_fields)
        form.addRow("", self.use_imgur)
        form.addRow("Imgur delete-hash", self.delete_hash)
        form.addRow("Imgur client ID", self.client_id)
        you = QLabel("You — signed at the end of a notice, kept in your vault")
        you.setObjectName("takedownSection")
        form.addRow(you)
        self.name = QLineEdit(str(settings.read(settings.REQUESTER_NAME)))
        self.name.setObjectName("takedownName")
        self.name.setPlaceholderText("Your name")
        self.email = QLineEdit(str(settings.read(settings.REQUESTER_EMAIL)))
        self.email.setObjectName("takedownEmail")
        self.email.setPlaceholderText("Where the host can answer you")
        form.addRow("Your name", self.name)
        form.addRow("Your email", self.email)
        layout.addWidget(box)
        for field in (self.host_name, self.abuse_email, self.deletion_link, self.delete_hash, self.client_id, self.name, self.email):
            field.textChanged.connect(self._update)
        self.notice_kind.currentIndexChanged.connect(self._update)
        self._show_imgur_fields(False)
        self.kind_hint = QLabel()
        self.kind_hint.setObjectName("takedownKindHint")
        self.kind_hint.setWordWrap(True)
        self.kind_hint.setProperty("muted", True)
        layout.addWidget(self.kind_hint)
        row = QHBoxLayout()
        row.addStretch(1)
        self.draft_button = QPushButton("Draft request")
        self.draft_button.setObjectName("takedownDraft")
        self.draft_button.setProperty("primary", True)
        self.draft_button.setDefault(True)
        self.draft_button.clicked.connect(self.draft)
        row.addWidget(self.draft_button)
        layout.addLayout(row)
        layout.addStretch(1)
        return page

    def _build_request(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.kind_label = QLabel()
        self.kind_label.setObjectName("takedownSection")
        self.status_label = QLabel()
        self.status_label.setObjectName("takedownStatus")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.kind_label)
        layout.addWidget(self.status_label)
        self.subject = QLineEdit()
        self.subject.setObjectName("takedownSubject")
        self.subject.setReadOnly(True)
        layout.addWidget(self.subject)
        self.text = QPlainTextEdit()
        self.text.setObjectName("takedownText")
        self.text.setReadOnly(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont))
        self.text.setMinimumHeight(220)
        layout.addWidget(self.text, 1)
        row = QHBoxLayout()
        self.copy_button = QPushButton("Copy text")
        self.copy_button.setObjectName("takedownCopy")
        self.copy_button.clicked.connect(self.copy_text)
        self.mail_button = QPushButton("Open email draft")
        self.mail_button.setObjectName("takedownOpenMail")
        self.mail_button.clicked.connect(self.open_mail)
        self.sent_button = QPushButton("I sent it")
        self.sent_button.setObjectName("takedownMarkSent")
        self.sent_button.setToolTip("Record that you sent the notice from your email program")
        self.sent_button.clicked.connect(self.send)
        self.send_button = QPushButton("Send deletion request")
        self.send_button.setObjectName("takedownSend")
        self.send_button.setProperty("primary", True)
        self.send_button.clicked.connect(self.send)
        self.recheck_button = QPushButton("Check again")
        self.recheck_button.setObjectName("takedownRecheck")
        self.recheck_button.setToolTip("Look at the address again: gone, or no longer your photo, means removed")
        self.recheck_button.clicked.connect(self.recheck)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        for button in (self.mail_button, self.sent_button, self.send_button, self.recheck_button):
            row.addWidget(button)
        layout.addLayout(row)
        # Why "Open email draft" is greyed out, where it can be read (not only in a tooltip).
        self.mail_hint = QLabel()
        self.mail_hint.setObjectName("takedownMailHint")
        self.mail_hint.setWordWrap(True)
        self.mail_hint.setProperty("muted", True)
        self.mail_hint.hide()
        layout.addWidget(self.mail_hint)
        return page

    # --- the form --------------------------------------------------------------------------------

    def _show_imgur_fields(self, on: bool) -> None:
        for field in (self.delete_hash, self.client_id):
            self.form.setRowVisible(field, on)
        self._update()

    def contact(self) -> takedown.TakedownContact:
        def value(field: QLineEdit) -> str | None:
            return field.text().strip() or None

        imgur = self.use_imgur.isChecked()  # hidden fields do not count
        return takedown.TakedownContact(abuse_email=value(self.abuse_email), deletion_link=value(self.deletion_link),
                                        imgur_delete_hash=value(self.delete_hash) if imgur else None,
                                        imgur_client_id=value(self.client_id) if imgur else None,
                                        host_name=value(self.host_name))

    def chosen_notice_kind(self) -> str:
        return str(self.notice_kind.currentData())

    def _default_host(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.match.source).hostname or "“your service”"

    def requester(self) -> takedown.Requester:
        return takedown.Requester(self.name.text().strip(), self.email.text().strip())

    def _form_problem(self) -> str:
        contact = self.contact()
        kind = takedown.choose_kind(contact)
        if contact.deletion_link and not is_url(contact.deletion_link):
            return "The deletion link should start with https://"
        if bool(contact.imgur_delete_hash) != bool(contact.imgur_client_id):
            return "An Imgur request needs both the delete-hash and the client ID."
        if contact.abuse_email and not looks_like_email(contact.abuse_email):
            return "The abuse address does not look like an email address."
        if kind == "notice":
            requester = self.requester()
            if not requester.name or not requester.email:
                return "A notice needs your name and email, so the host can answer you."
            if not looks_like_email(requester.email):
                return "Your email does not look like an email address."
        return ""

    def _update(self) -> None:
        if not hasattr(self, "kind_hint"):
            return  # still building the form
        running = self.job is not None
        kind = takedown.choose_kind(self.contact())
        problem = self._form_problem()
        self.kind_hint.setText(problem or KIND_HINTS[kind])
        # The kind of notice matters only for a notice: a deletion link or an API call says nothing.
        self.form.setRowVisible(self.notice_kind, kind == "notice")
        self.form.setRowVisible(self.notice_kind_note, kind == "notice")
        self.draft_button.setEnabled(not running and not problem)
        self.close_button.setEnabled(not running)
        on_request = self.pages.currentIndex() == 1
        self.back_button.setVisible(on_request)
        self.back_button.setEnabled(not running)
        request = self.request
        if request is not None:
            notice = request.kind == "notice"
            self.mail_button.setVisible(notice)
            self.mail_button.setEnabled(not running and bool(request.mailto))
            no_draft = ("No email draft: there is no abuse address. Use “Edit details” to add the host's "
                        "abuse email, or copy the text into the site's report form.")
            self.mail_button.setToolTip("" if request.mailto else no_draft)
            self.mail_hint.setText(no_draft if notice and not request.mailto else "")
            self.mail_hint.setVisible(notice and not request.mailto)
            self.sent_button.setVisible(notice and request.status in (TakedownStatus.DRAFTED, TakedownStatus.FAILED))
            self.sent_button.setEnabled(not running)
            self.send_button.setVisible(not notice and request.status in (TakedownStatus.DRAFTED, TakedownStatus.FAILED))
            self.send_button.setEnabled(not running)
            self.recheck_button.setVisible(request.status in (TakedownStatus.SENT, TakedownStatus.REMOVED))
            self.recheck_button.setEnabled(not running)
            self.copy_button.setEnabled(True)

    def _back_to_form(self) -> None:
        self.pages.setCurrentIndex(0)
        self.error.hide()
        self._update()

    # --- actions ---------------------------------------------------------------------------------

    def draft(self) -> CallJob | None:
        if self._form_problem() or self.job is not None:
            return None
        requester = self.requester()
        if requester.name or requester.email:  # remembered for next time, in the vault
            settings.write(settings.REQUESTER_NAME, requester.name)
            settings.write(settings.REQUESTER_EMAIL, requester.email)
        vault = self.session.vault
        job = CallJob(vault, vault.draft_takedown, self.match.id, self.contact(), requester,
                      self.chosen_notice_kind(), lane="vault-write")
        return self._run(job, "Drafting the request…")

    def send(self) -> SendTakedownJob | None:
        if self.request is None or self.job is not None:
            return None
        words = "Recording that you sent it…" if self.request.kind == "notice" else "Sending the deletion request…"
        return self._run(SendTakedownJob(self.session.vault, self.request.id, self.policy), words)

    def recheck(self) -> RecheckTakedownJob | None:
        if self.request is None or self.job is not None:
            return None
        return self._run(RecheckTakedownJob(self.session.vault, self.request.id, self.policy),
                         f"Looking at {place_of(self.match)} again…")

    def open_mail(self) -> bool:
        if self.request is None or not self.request.mailto:
            return False
        opened = mail_program_available() and open_url(self.request.mailto)
        if not opened:
            # The notice is ready to paste: copying it is the next best thing to a draft.
            self.copy_text()
            self._show_error("No email program was found. The notice was copied: paste it into an email "
                             "to the host's abuse address (or into the site's report form), then click "
                             "“I sent it”.")
        return opened

    def copy_text(self) -> None:
        if self.request is not None:
            # Through the session's guard: the notice (name, email, the address) leaves on lock.
            self.session.clipboard.copy(f"Subject: {self.request.subject}\n\n{self.request.text}", secret=False)
            self.copy_button.setText("Copied")

    def _run(self, job: Job, words: str) -> Job | None:
        if not self.session.is_unlocked:
            self._show_error("The vault was locked. Unlock it and try again.")
            return None
        self.error.hide()
        self.job = job
        job.signals.finished.connect(self._request_changed)
        job.signals.failed.connect(self._failed)
        job.signals.ended.connect(self._ended)
        self.progress_label.setText(words)
        self.progress_box.show()
        self._update()
        self.busy_changed.emit(True)
        self.session.jobs.start(job)
        return job

    def _ended(self) -> None:
        self.job = None
        self.progress_box.hide()
        self._update()
        self.busy_changed.emit(False)

    def _request_changed(self, request: TakedownInfo) -> None:
        self._show_request(request)
        self.changed.emit(request)

    def _failed(self, exc: BaseException) -> None:
        message = describe(exc)
        self.last_error = f"{message.title}: {message.text}"
        self._show_error(self.last_error)
        if self.request is not None and isinstance(exc, takedown.TakedownError):
            # The vault recorded the failure with its reason; mirror it until the next listing.
            import dataclasses

            self._show_request(dataclasses.replace(self.request, status=TakedownStatus.FAILED, detail=message.text))
            self.changed.emit(self.request)

    def _show_request(self, request: TakedownInfo) -> None:
        self.request = request
        self.kind_label.setText(TAKEDOWN_KINDS.get(request.kind, request.kind))
        words = STATUS_TEXT.get(request.status, request.status)
        detail = reason_words(request.detail) if request.detail else ""
        if request.status == TakedownStatus.FAILED:
            words = f"Failed: {detail}" if detail else "Failed"
        elif detail and request.status != TakedownStatus.DRAFTED:
            words = f"{words} ({detail})"
        self.status_label.setText(words)
        self.status_label.setStyleSheet(f"color: {STATUS_COLORS.get(request.status, '#1d2733')};")
        self.subject.setText(request.subject)
        if self.text.toPlainText() != request.text:
            self.text.setPlainText(request.text)
        self.copy_button.setText("Copy text")
        self.pages.setCurrentIndex(1)
        self._update()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    # --- closing -----------------------------------------------------------------------------------

    def reject(self) -> None:
        # A request being sent stays visible until the host answered (seconds at most).
        if self.job is not None and not self._closing_for_lock:
            return
        super().reject()

    def close_for_lock(self) -> None:
        self._closing_for_lock = True
        self.reject()
