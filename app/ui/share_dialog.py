"""The Share dialog: make a protected copy of one photo for one person.

It says, before anything is written, what the copy will carry and what is taken out
(`sharing.describe_share`, in the words of `share_words`), asks where to save it (`share_files`:
formats, folder, name), runs a `ShareJob` on the vault-write lane, and ends on a page with the
file's path and its share ID.

Imported only when the dialog is opened: `app.core.sharing` brings the watermark's numeric stack.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core import sharing
from app.core.vault import PhotoInfo, ShareOutcome
from app.workers.share_jobs import ShareJob, ShareRequest

from . import dialogs, settings
from .errors import describe
from .session import Session
from .share_files import FILTERS, FORMATS, default_folder, suggested_name, with_suffix_for
from .share_words import copy_lines, description_html, outcome_html
from .shares_view import share_format

log = logging.getLogger(__name__)

PLATFORMS = ("WhatsApp", "Signal", "Instagram", "Telegram", "Email", "Other")
#: What the immunizer is tuned for, and the `ShareOptions.immunize` value of each.
IMMUNIZE_MODES = (
    ("Files kept intact (email, cloud links) — exact restoration", "lossless"),
    ("Social networks (re-compressed) — approximate restoration", "robust"),
)
IMMUNIZED_FORMAT_LABEL = "PNG — an immunized copy is always saved as PNG"
IMMUNIZE_HELP = ("Lets anyone with Sanctum see later whether this copy was altered, where, and what "
                 "was there. An immunized copy is saved as PNG (a lossless format that keeps the "
                 "immunization data intact).")

_PANEL_STYLE = ("QFrame#shareDescribe { background: #ffffff; border: 1px solid #dfe3e8; border-radius: 8px; }"
                "QFrame#shareDone { background: #ffffff; border: 1px solid #dfe3e8; border-radius: 8px; }")


def show_in_folder(path: str) -> bool:
    """Open the folder holding `path` in the file manager (tests replace this)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))


class ShareDialog(QDialog):
    shared = Signal(object)  # ShareOutcome, once the copy is written and recorded

    def __init__(self, session: Session, photo: PhotoInfo, thumbnail: QPixmap | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("shareDialog")
        self.setWindowTitle("Share a protected copy")
        self.setStyleSheet(_PANEL_STYLE)
        self.session = session
        self.photo = photo
        self.job: ShareJob | None = None
        self.outcome: ShareOutcome | None = None
        self.embedded_lines: tuple[str, ...] = ()
        self.removed_lines: tuple[str, ...] = ()
        self._closing_for_lock = False
        self.setMinimumWidth(600)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        self.pages = QStackedWidget()
        layout.addWidget(self.pages)
        self.pages.addWidget(self._build_form(thumbnail))
        self.pages.addWidget(self._build_done())
        self._update_description()
        self._update_buttons()
        self.recipient.setFocus()

    # --- building ------------------------------------------------------------------------------

    def _build_form(self, thumbnail: QPixmap | None) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)

        head = QHBoxLayout()
        self.thumb = QLabel()
        self.thumb.setFixedSize(72, 72)
        if thumbnail is not None and not thumbnail.isNull():
            self.thumb.setPixmap(thumbnail.scaled(72, 72, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                                  Qt.TransformationMode.SmoothTransformation))
        else:
            self.thumb.hide()
        head.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignTop)
        intro = QVBoxLayout()
        title = QLabel(f"Share “{html.escape(self.photo.filename)}”")
        title.setObjectName("metadataTitle")
        title.setWordWrap(True)
        text = QLabel("Sanctum writes a copy marked for one person. If that copy ever turns up "
                      "somewhere it should not, “Check an image…” tells you whose copy it was.")
        text.setWordWrap(True)
        text.setProperty("muted", True)
        intro.addWidget(title)
        intro.addWidget(text)
        head.addLayout(intro, 1)
        layout.addLayout(head)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.recipient = QLineEdit()
        self.recipient.setObjectName("shareRecipient")
        self.recipient.setPlaceholderText("Who gets this copy, e.g. Alex")
        self.recipient.setMaxLength(120)
        self.recipient.textChanged.connect(self._update_buttons)
        self.recipient.textChanged.connect(self._update_description)
        form.addRow("Recipient", self.recipient)

        self.platform = QComboBox()
        self.platform.setObjectName("sharePlatform")
        self.platform.setEditable(True)
        self.platform.addItems(PLATFORMS)
        self.platform.setCurrentIndex(-1)
        self.platform.lineEdit().setPlaceholderText("Optional: where you send it")
        self.platform.lineEdit().setMaxLength(60)
        form.addRow("Platform", self.platform)

        self.format = QComboBox()
        self.format.setObjectName("shareFormat")
        for fmt, label, _suffix in FORMATS:
            self.format.addItem(label, fmt)
        self.format.currentIndexChanged.connect(self._update_description)
        form.addRow("Format", self.format)

        # What a copy may keep of the original's metadata: only these two, and only when ticked
        # (location follows the vault's setting, off unless changed there).
        self.keep_location = QCheckBox("Keep location (GPS)")
        self.keep_location.setObjectName("shareKeepLocation")
        self.keep_location.setChecked(not settings.read(settings.SHARE_STRIP_LOCATION))
        self.keep_location.setToolTip("Leave the place the photo was taken in the copy. Off unless you "
                                      "change the default in Settings.")
        self.keep_location.toggled.connect(self._update_description)
        form.addRow("", self.keep_location)
        self.keep_date = QCheckBox("Keep the date it was taken")
        self.keep_date.setObjectName("shareKeepDate")
        self.keep_date.setToolTip("Leave the date and time the photo was taken in the copy.")
        self.keep_date.toggled.connect(self._update_description)
        form.addRow("", self.keep_date)

        shrink_row = QHBoxLayout()
        self.shrink = QCheckBox("Shrink to at most")
        self.shrink.setObjectName("shareShrink")
        self.shrink_px = QSpinBox()
        self.shrink_px.setObjectName("shareShrinkPixels")
        self.shrink_px.setRange(256, 16384)
        self.shrink_px.setSingleStep(256)
        self.shrink_px.setValue(2048)
        self.shrink_px.setSuffix(" px")
        self.shrink_px.setEnabled(False)
        self.shrink.toggled.connect(self.shrink_px.setEnabled)
        self.shrink.toggled.connect(self._update_description)
        self.shrink_px.valueChanged.connect(self._update_description)
        shrink_row.addWidget(self.shrink)
        shrink_row.addWidget(self.shrink_px)
        shrink_row.addStretch(1)
        form.addRow("", shrink_row)
        layout.addLayout(form)

        # Its own section under the form: a wrapped label inside QFormLayout gets the wrong
        # height (the form sizes it at its minimum width), here it wraps like the panel below.
        self.immunize = QCheckBox("Immunize")
        self.immunize.setObjectName("shareImmunize")
        self.immunize.setToolTip("Immunize: lets anyone with Sanctum see later whether this copy was altered, "
                                 "where, and what was there")
        self.immunize.toggled.connect(self._immunize_toggled)
        self.immunize_help = QLabel(IMMUNIZE_HELP)
        self.immunize_help.setObjectName("shareImmunizeHelp")
        self.immunize_help.setWordWrap(True)
        self.immunize_help.setProperty("muted", True)
        self.immunize_mode = QComboBox()
        self.immunize_mode.setObjectName("shareImmunizeMode")
        for label, mode in IMMUNIZE_MODES:
            self.immunize_mode.addItem(label, mode)
        self.immunize_mode.setEnabled(False)
        self.immunize_mode.setToolTip("Where the copy is going decides how its immunization data is stored: "
                                      "files sent as they are allow an exact restoration; social networks "
                                      "re-compress photos, so only an approximate one survives, and its "
                                      "data shows as a faint grain in smooth areas such as a blurred background")
        self.immunize_mode.currentIndexChanged.connect(self._update_description)
        mode_label = QLabel("For")
        mode_label.setBuddy(self.immunize_mode)
        mode_row = QHBoxLayout()
        mode_row.addWidget(mode_label)
        mode_row.addWidget(self.immunize_mode, 1)
        details = QVBoxLayout()
        details.setContentsMargins(24, 0, 0, 0)  # under the box's text, not its tick
        details.setSpacing(6)
        details.addWidget(self.immunize_help)
        details.addLayout(mode_row)
        immunize_section = QVBoxLayout()
        immunize_section.setSpacing(2)
        immunize_section.addWidget(self.immunize)
        immunize_section.addLayout(details)
        layout.addLayout(immunize_section)
        self._format_before_immunize: str | None = None

        panel = QFrame()
        panel.setObjectName("shareDescribe")
        panel_layout = QVBoxLayout(panel)
        self.description = QLabel()
        self.description.setObjectName("shareDescription")
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.TextFormat.RichText)
        panel_layout.addWidget(self.description)
        layout.addWidget(panel)

        self.error = QLabel()
        self.error.setObjectName("shareError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

        progress_row = QHBoxLayout()
        self.progress_label = QLabel("Making the protected copy…")
        self.progress = QProgressBar()
        self.progress.setObjectName("shareProgress")
        self.progress.setRange(0, 0)  # one core call: no steps to count
        self.progress.setTextVisible(False)
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        self.progress_box.hide()
        layout.addWidget(self.progress_box)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("shareCancel")
        self.cancel_button.clicked.connect(self._cancel_clicked)
        self.save_button = QPushButton("Save protected copy…")
        self.save_button.setObjectName("shareSave")
        self.save_button.setProperty("primary", True)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.choose_and_share)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        return page

    def _build_done(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.done_title = QLabel("Protected copy saved")
        self.done_title.setObjectName("metadataTitle")
        layout.addWidget(self.done_title)
        box = QFrame()
        box.setObjectName("shareDone")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.done_for = QLabel()
        self.done_path = QLabel()
        self.done_path.setObjectName("sharePath")
        self.done_share_id = QLabel()
        self.done_share_id.setObjectName("shareId")
        for label in (self.done_for, self.done_path, self.done_share_id):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for caption, value in (("For", self.done_for), ("Saved as", self.done_path),
                               ("Share ID", self.done_share_id)):
            muted = QLabel(caption)
            muted.setProperty("muted", True)
            form.addRow(muted, value)
        layout.addWidget(box)
        self.done_details = QLabel()
        self.done_details.setWordWrap(True)
        self.done_details.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.done_details)
        note = QLabel("This copy is not encrypted: anyone who has the file can see the photo. "
                      "The record of who received it stays in your vault, under Shared.")
        note.setWordWrap(True)
        note.setProperty("muted", True)
        layout.addWidget(note)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.folder_button = QPushButton("Show in folder")
        self.folder_button.setObjectName("shareShowInFolder")
        self.folder_button.clicked.connect(lambda: self.outcome and show_in_folder(self.outcome.out))
        self.done_button = QPushButton("Done")
        self.done_button.setProperty("primary", True)
        self.done_button.clicked.connect(self.accept)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.done_button)
        layout.addLayout(buttons)
        return page

    # --- the form --------------------------------------------------------------------------------

    def options(self) -> sharing.ShareOptions:
        platform = self.platform.currentText().strip() or None
        return sharing.ShareOptions(
            recipient=self.recipient.text().strip(),
            platform=platform,
            output_format=self.format.currentData(),
            strip_location=not self.keep_location.isChecked(),
            keep_capture_date=self.keep_date.isChecked(),
            max_long_side=self.shrink_px.value() if self.shrink.isChecked() else None,
            immunize=self.immunize_mode.currentData() if self.immunize.isChecked() else None,
        )

    def _immunize_toggled(self, on: bool) -> None:
        """An immunized copy is a PNG: the format follows, and comes back when unticked.

        Immunization replaces PNG's fragile mark, so the PNG entry says so while it is on."""
        self.immunize_mode.setEnabled(on)
        png = self.format.findData("PNG")
        if on:
            self._format_before_immunize = self.format.currentData()
            self.format.setCurrentIndex(png)
            self.format.setItemText(png, IMMUNIZED_FORMAT_LABEL)
        else:
            self.format.setItemText(png, next(label for fmt, label, _ in FORMATS if fmt == "PNG"))
            if self._format_before_immunize is not None:
                self.format.setCurrentIndex(self.format.findData(self._format_before_immunize))
                self._format_before_immunize = None
        self.format.setEnabled(not on)
        self._update_description()

    def _update_buttons(self) -> None:
        running = self.job is not None
        self.save_button.setEnabled(bool(self.recipient.text().strip()) and not running)
        # While the copy is made Cancel stops it (immunizing can take a minute); once pressed,
        # it stays off until the job has stopped.
        self.cancel_button.setEnabled(not running or not self.job.is_cancelled)

    def _cancel_clicked(self) -> None:
        if self.job is None:
            self.reject()
            return
        self.job.cancel()
        self.progress_label.setText("Stopping…")
        self._update_buttons()

    def _share_progress(self, done: int, total: int) -> None:
        if self.job is not None and self.job.request.options.immunize and not self.job.is_cancelled:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _update_description(self) -> None:
        options = self.options()
        self.embedded_lines, self.removed_lines = copy_lines(options, self.photo)
        self.description.setText(description_html(options, self.embedded_lines, self.removed_lines))
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to show every wrapped line (a window's first size ignores height-for-width)."""
        layout = self.layout()
        if layout is None or not self.isVisible():
            return
        width = max(self.width(), self.minimumWidth())
        # The inner layouts learn of a label's new text through posted events: apply them now,
        # or the height below is the one before this change.
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        needed = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else layout.totalSizeHint().height()
        if needed > self.height():
            self.resize(width, needed)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._fit_height()

    # --- sharing -----------------------------------------------------------------------------------

    def choose_and_share(self) -> None:
        options = self.options()
        if not options.recipient or self.job is not None:
            return
        suggested = default_folder() / suggested_name(self.photo, options.recipient, options.output_format)
        path = dialogs.save_file(self, "Save the protected copy", str(suggested), FILTERS[options.output_format],
                                 purpose="share")
        if path:
            self.start_share(with_suffix_for(path, options.output_format))

    def start_share(self, path: str) -> ShareJob | None:
        if not self.session.is_unlocked:
            self._show_error("The vault was locked. Unlock it and try again.")
            return None
        self.error.hide()
        job = ShareJob(self.session.vault, ShareRequest(self.photo.id, path, self.options()))
        job.signals.finished.connect(self._done)
        job.signals.failed.connect(self._failed)
        job.signals.cancelled.connect(lambda: self._show_error("Cancelled: no copy was written."))
        job.signals.ended.connect(self._ended)
        job.signals.progress.connect(self._share_progress)
        self.job = job
        immunizing = bool(job.request.options.immunize)
        self.progress_label.setText("Immunizing and making the protected copy…" if immunizing
                                    else "Making the protected copy…")
        self.progress.setRange(0, 0)
        for widget in (self.recipient, self.platform, self.format, self.keep_location, self.keep_date, self.shrink,
                       self.shrink_px, self.immunize, self.immunize_mode):
            widget.setEnabled(False)
        self.progress_box.show()
        self._update_buttons()
        self.session.jobs.start(job)
        return job

    def _ended(self) -> None:
        self.job = None
        self.progress_box.hide()
        for widget in (self.recipient, self.platform, self.keep_location, self.keep_date, self.shrink, self.immunize):
            widget.setEnabled(True)
        self.shrink_px.setEnabled(self.shrink.isChecked())
        self.format.setEnabled(not self.immunize.isChecked())
        self.immunize_mode.setEnabled(self.immunize.isChecked())
        self._update_buttons()

    def _done(self, outcome: ShareOutcome) -> None:
        self.outcome = outcome
        share = outcome.share
        where = f" on {share.platform}" if share.platform else ""
        self.done_for.setText(f"{share.recipient}{where} — {share_format(share)}, "
                              f"{share.width:,} × {share.height:,} pixels")
        self.done_path.setText(outcome.out)
        self.done_share_id.setText(share.share_id)
        self.done_details.setText(outcome_html(outcome))
        self.pages.setCurrentIndex(1)
        self.done_button.setFocus()
        self.shared.emit(outcome)

    def _failed(self, exc: BaseException) -> None:
        message = describe(exc)
        self._show_error(f"{message.title}: {message.text} No copy was written.")

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    # --- closing -----------------------------------------------------------------------------------

    def reject(self) -> None:
        # While the copy is written the dialog stays: it is seconds at most, and closing would
        # hide whether the copy (and its record) exists.
        if self.job is not None and not self._closing_for_lock:
            return
        super().reject()

    def close_for_lock(self) -> None:
        """The vault is locking: go now (the job is waited for by the session)."""
        self._closing_for_lock = True
        self.reject()
