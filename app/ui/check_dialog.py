""""Check an image": drop or choose a found file and read everything it carries, in one verdict.

One `CheckJob` (a worker: about a second for the marks, then seconds for the immunizer) reads
the share ID from the metadata and the watermark, checks the signature and the fragile mark,
finds this vault's record of the share, and runs the immunizer's check: whether the copy was
altered after it was immunized, where (a mask), and what was there before. This dialog shows
that `CheckResult` as words (`check_words.CheckWords`: what the copy is, who it was shared
with, whether and where it was altered) and pictures. Saving the recovered photo or the mask
runs a `SavePngJob`.

The main window's own drop target keeps importing photos: only drops onto this dialog are
checked. Imported only when the dialog opens: the immunizer brings numpy and scipy.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.immunizer import Verdict
from app.workers.immunize_jobs import CheckJob, CheckResult, SavePngJob

from . import dialogs
from .check_words import CheckWords
from .errors import describe
from .resources import repolish
from .session import Session
from .single_file_drop import SingleFileDrop
from .viewer import ImageCanvas

log = logging.getLogger(__name__)

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.heic *.heif *.gif *.tif *.tiff *.bmp *.avif);;All files (*)"
PNG_FILTER = "PNG image (*.png)"

# The three pictures the one canvas can show.
VIEW_FOUND, VIEW_CHANGED, VIEW_BEFORE = 0, 1, 2

_STYLE = (
    "QFrame#checkBanner { background: #f3f5f8; border: 1px solid #dfe3e8; border-radius: 10px; }"
    "QFrame#checkBanner[verdict=\"mine\"] { background: #eef0fb; border-color: #c9cff2; }"
    "QFrame#checkBanner[verdict=\"intact\"] { background: #ecf7f0; border-color: #b4dcc2; }"
    "QFrame#checkBanner[verdict=\"altered\"] { background: #fdf1ef; border-color: #f1c3bb; }"
    "QFrame#checkBanner[verdict=\"unknown\"] { background: #fdf6ea; border-color: #eed5ad; }"
    "QFrame#checkBanner[verdict=\"error\"] { background: #fdf1ef; border-color: #f1c3bb; }"
    "QLabel#checkHeadline { font-size: 17px; font-weight: 600; color: #1d2733; }"
    "QFrame#checkBanner[verdict=\"mine\"] QLabel#checkHeadline { color: #23306e; }"
    "QFrame#checkBanner[verdict=\"intact\"] QLabel#checkHeadline { color: #146c2e; }"
    "QFrame#checkBanner[verdict=\"altered\"] QLabel#checkHeadline { color: #b42318; }"
    "QFrame#checkBanner[verdict=\"unknown\"] QLabel#checkHeadline { color: #8a4b0f; }"
    "QFrame#checkBanner[verdict=\"error\"] QLabel#checkHeadline { color: #b42318; }"
    "QFrame#checkDrop { background: #ffffff; border: 2px dashed #c3cad4; border-radius: 12px; }"
    "QFrame#checkDrop[filled=\"true\"] { border: 1px solid #dfe3e8; }"
    "QFrame#checkDrop[dragging=\"true\"] { border: 2px dashed #5b6fd6; background: #eef0fb; }"
    "QFrame#checkDrop QWidget#imageCanvas { background: transparent; }"
    "QFrame#checkResults { background: #ffffff; border: 1px solid #dfe3e8; border-radius: 10px; }"
    "QPushButton[segment=\"true\"] { padding: 4px 12px; }"
    "QPushButton[segment=\"true\"]:checked { background: #23306e; color: white; border-color: #23306e; }"
)


def choose_image(parent: QWidget | None) -> str:
    """One image file to check (tests replace this)."""
    return dialogs.open_file(parent, "Check an image", IMAGE_FILTER, purpose="check")


def with_png_suffix(path: str) -> str:
    p = Path(path)
    return str(p) if p.suffix.lower() == ".png" else str(p.with_name(p.name + ".png"))


class CheckDialog(SingleFileDrop, QDialog):
    drop_verb = "check"
    checked = Signal(object)  # CheckResult (tests wait on it)
    check_failed = Signal(object)  # the exception
    saved = Signal(str)  # the path of a PNG written
    save_failed = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("checkDialog")
        self.setWindowTitle("Check an image")
        self.setStyleSheet(_STYLE)
        self.setAcceptDrops(True)  # anywhere on the dialog; the dashed frame shows where
        self.session = session
        self.job: CheckJob | None = None
        self.save_job: SavePngJob | None = None
        self.result: CheckResult | None = None
        self.words: CheckWords | None = None
        self.resize(1120, 700)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)

        self.banner = QFrame()
        self.banner.setObjectName("checkBanner")
        banner_layout = QVBoxLayout(self.banner)
        banner_layout.setContentsMargins(16, 12, 16, 12)
        banner_layout.setSpacing(4)
        self.headline = QLabel()
        self.headline.setObjectName("checkHeadline")
        self.headline.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setObjectName("checkSummary")
        self.summary.setWordWrap(True)
        self.warning = QLabel()
        self.warning.setProperty("role", "error")
        self.warning.setWordWrap(True)
        for label in (self.headline, self.summary, self.warning):
            label.setTextFormat(Qt.TextFormat.PlainText)  # recipients and file names are not markup
            banner_layout.addWidget(label)
        layout.addWidget(self.banner)

        body = QHBoxLayout()
        body.setSpacing(14)
        left = QVBoxLayout()
        views = QHBoxLayout()
        views.setSpacing(0)
        self.view_group = QButtonGroup(self)
        self.view_group.setExclusive(True)
        self.view_buttons: dict[int, QPushButton] = {}
        for view, text, tip in (
            (VIEW_FOUND, "As found", "The file as you chose it"),
            (VIEW_CHANGED, "Changed areas", "The areas changed after immunizing, marked in red"),
            (VIEW_BEFORE, "Before the change", "What was there before it was changed, rebuilt from the "
                                               "copy's immunization data"),
        ):
            button = QPushButton(text)
            button.setCheckable(True)
            button.setProperty("segment", True)
            button.setToolTip(tip)
            self.view_group.addButton(button, view)
            self.view_buttons[view] = button
            views.addWidget(button)
        views.addStretch(1)
        self.view_group.idToggled.connect(lambda view, on: on and self._show_view(view))
        left.addLayout(views)
        self.drop = QFrame()
        self.drop.setObjectName("checkDrop")
        self.drop.setMinimumSize(420, 380)
        drop_layout = QVBoxLayout(self.drop)
        self.canvas = ImageCanvas()
        self.canvas.message = ("Drop a photo here\nor choose a file\n\n"
                               "Sanctum reads everything its protected copies carry: whose copy it is, "
                               "and whether and where it was changed.")
        drop_layout.addWidget(self.canvas)
        left.addWidget(self.drop, 1)
        self.view_note = QLabel()
        self.view_note.setObjectName("checkViewNote")
        self.view_note.setProperty("muted", True)
        self.view_note.setWordWrap(True)
        left.addWidget(self.view_note)
        body.addLayout(left, 5)

        right = QVBoxLayout()
        self.results = QFrame()
        self.results.setObjectName("checkResults")
        self.form = QFormLayout(self.results)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.form.setVerticalSpacing(8)
        right.addWidget(self.results)
        right.addStretch(1)
        body.addLayout(right, 4)
        layout.addLayout(body, 1)

        self.progress_box = QWidget()
        progress_row = QHBoxLayout(self.progress_box)
        progress_row.setContentsMargins(0, 0, 0, 0)
        self.progress_label = QLabel("Checking…")
        self.progress = QProgressBar()
        self.progress.setObjectName("checkProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("checkCancel")
        self.cancel_button.clicked.connect(self.cancel)
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box.hide()
        layout.addWidget(self.progress_box)

        self.status = QLabel()
        self.status.setObjectName("checkStatus")
        self.status.setWordWrap(True)
        self.status.setProperty("muted", True)
        self.status.hide()
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        self.choose_button = QPushButton("Choose a file…")
        self.choose_button.setObjectName("checkChoose")
        self.choose_button.clicked.connect(self.choose_and_check)
        self.copy_button = QPushButton("Copy details")
        self.copy_button.setToolTip("Copy what was found as text (JSON), e.g. for a report to a platform")
        self.copy_button.clicked.connect(self.copy_details)
        self.save_mask_button = QPushButton("Save mask…")
        self.save_mask_button.setObjectName("checkSaveMask")
        self.save_mask_button.setToolTip("Save the changed areas as a black-and-white PNG (white = changed), "
                                         "the size of the file checked")
        self.save_mask_button.clicked.connect(self.choose_and_save_mask)
        self.save_recovered_button = QPushButton("Save recovered photo…")
        self.save_recovered_button.setObjectName("checkSaveRecovered")
        self.save_recovered_button.setToolTip("Save the photo as it was before it was changed, as PNG")
        self.save_recovered_button.clicked.connect(self.choose_and_save_recovered)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_mask_button)
        buttons.addWidget(self.save_recovered_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        self._clear_results()
        self._set_banner("empty", "Nothing checked yet",
                         "Choose or drop a photo you found, for example one that was posted somewhere or "
                         "sent around: Sanctum tells whether it is one of your copies, who it was shared "
                         "with, and whether and where it was altered.")

    # --- choosing and dropping ---------------------------------------------------------------

    def choose_and_check(self) -> None:
        path = choose_image(self)
        if path:
            self.check(path)

    def take_dropped_file(self, path: str) -> None:
        self.check(path)

    # --- checking ----------------------------------------------------------------------------------

    def check(self, path: str) -> CheckJob | None:
        if not self.session.is_unlocked:
            self._show_problem("Vault locked", "Unlock the vault, then check the image again.")
            return None
        if Path(path).is_dir():
            self._show_problem("That is a folder", "Drop or choose a single photo file.")
            return None
        if self.job is not None:
            self.job.cancel()
        self._clear_results()
        self._set_banner("working", "Checking…", Path(path).name)
        self.progress.setValue(0)
        self.progress_label.setText("Reading the marks and looking for changes…")
        self.cancel_button.setEnabled(True)
        self.progress_box.show()
        job = CheckJob(self.session.vault, path)
        job.signals.progress.connect(lambda done, total, job=job: self._progress(job, done, total))
        job.signals.finished.connect(lambda result, job=job: self._done(job, result))
        job.signals.failed.connect(lambda exc, job=job: self._failed(job, exc))
        job.signals.cancelled.connect(lambda job=job: self._cancelled(job))
        self.job = job
        self.session.jobs.start(job, priority=1)
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Stopping…")

    def _progress(self, job: CheckJob, done: int, total: int) -> None:
        if job is self.job and total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _done(self, job: CheckJob, result: CheckResult) -> None:
        if job is not self.job:
            return  # a newer file was dropped meanwhile
        self.job = None
        self.progress_box.hide()
        self.result = result
        self.words = words = CheckWords(result)
        self._set_banner(words.kind, words.headline, words.summary, words.warning)
        for caption, text in words.rows:
            label = QLabel(caption)
            label.setProperty("muted", True)
            value = QLabel(text)
            value.setTextFormat(Qt.TextFormat.PlainText)  # file names and recipients are not markup
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.form.addRow(label, value)
        self.results.show()
        res = result.verified.result
        immunized = res.verdict is not Verdict.NOT_IMMUNIZED
        self.view_buttons[VIEW_CHANGED].setEnabled(immunized)
        self.view_buttons[VIEW_BEFORE].setEnabled(result.verified.recovered is not None)
        for button in self.view_buttons.values():
            button.setVisible(immunized)  # one picture only: no choice to offer
        self.drop.setProperty("filled", True)
        repolish(self.drop)
        # A tampered copy opens on the changed areas: that is the news.
        view = VIEW_CHANGED if res.verdict is Verdict.TAMPERED else VIEW_FOUND
        self.view_buttons[view].setChecked(True)
        self._show_view(view)
        self.copy_button.setEnabled(True)
        # Only what there is to save is offered: greyed-out buttons would need a reason.
        self.save_mask_button.setEnabled(immunized)
        self.save_mask_button.setVisible(immunized)
        self.save_recovered_button.setEnabled(res.recovered is not None)
        self.save_recovered_button.setVisible(res.recovered is not None)
        self.checked.emit(result)

    def _show_view(self, view: int) -> None:
        if self.result is None:
            return
        verified = self.result.verified
        if view == VIEW_CHANGED:
            image, note = verified.overlay, ("Changed areas marked in red." if verified.result.verdict
                                             is Verdict.TAMPERED else "No changed areas found.")
        elif view == VIEW_BEFORE and verified.recovered is not None:
            image, note = verified.recovered, "What was there before, rebuilt from the copy's immunization data."
        else:
            image, note = verified.suspect, ""
        self.canvas.set_pixmap(QPixmap.fromImage(image))
        size = f"{Path(self.result.path).name} — {verified.width:,} × {verified.height:,} pixels"
        self.view_note.setText(f"{note} {size}".strip())

    def current_view(self) -> int:
        return self.view_group.checkedId()

    def _failed(self, job: CheckJob, exc: BaseException) -> None:
        if job is not self.job:
            return
        self.job = None
        message = describe(exc)
        self._show_problem(message.title, message.text)
        self.check_failed.emit(exc)

    def _cancelled(self, job: CheckJob) -> None:
        if job is self.job:
            self.job = None
            self.progress_box.hide()
            self._set_banner("empty", "Cancelled", "Nothing was checked. Drop or choose a photo to start again.")

    def _show_problem(self, title: str, text: str) -> None:
        self._clear_results()
        self.progress_box.hide()
        self._set_banner("error", title, text)

    def _set_banner(self, kind: str, headline: str, summary: str, warning: str = "") -> None:
        self.banner.setProperty("verdict", kind)
        repolish(self.banner)
        repolish(self.headline)
        self.headline.setText(headline)
        self.summary.setText(summary)
        self.summary.setVisible(bool(summary))
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))

    def _clear_results(self) -> None:
        self.result = None
        self.words = None
        self.canvas.set_pixmap(None)
        self.view_note.clear()
        for button in self.view_buttons.values():
            button.hide()
        self.drop.setProperty("filled", False)
        repolish(self.drop)
        self.copy_button.setEnabled(False)
        for button in (self.save_mask_button, self.save_recovered_button):
            button.setEnabled(False)
            button.hide()
        self.status.hide()
        while self.form.rowCount():
            self.form.removeRow(0)
        self.results.hide()

    def result_text(self) -> str:
        """Everything shown, as plain text (tests, and what a screen reader gets)."""
        parts = [label.text() for label in (self.headline, self.summary) if label.text()]
        if self.words is not None:
            parts += [f"{caption}: {text}" for caption, text in self.words.rows]
            if self.words.warning:
                parts.append(self.words.warning)
        return "\n".join(parts)

    def copy_details(self) -> None:
        if self.result is None:
            return
        details = {"file": self.result.path, **self.result.report.to_json(),
                   "immunization": self.result.verified.result.to_json()}
        if self.result.share is not None:
            details["your_share"] = self.result.share.to_json()
        # Through the session's guard: the file's path and its report leave on lock and panic.
        self.session.clipboard.copy(json.dumps(details, indent=2), secret=False)

    # --- saving --------------------------------------------------------------------------------

    def _suggested(self, tail: str) -> str:
        source = Path(self.result.path) if self.result is not None else Path.home() / "photo"
        return str(source.with_name(f"{source.stem}-{tail}.png"))

    def choose_and_save_recovered(self) -> None:
        if self.result is None or self.result.verified.result.recovered is None:
            return
        path = dialogs.save_file(self, "Save the recovered photo", self._suggested("recovered"), PNG_FILTER,
                                 purpose="check")
        if path:
            self.save(self.result.verified.result.recovered, with_png_suffix(path))

    def choose_and_save_mask(self) -> None:
        if self.result is None or self.result.verified.result.verdict is Verdict.NOT_IMMUNIZED:
            return
        path = dialogs.save_file(self, "Save the mask of changed areas", self._suggested("changed-areas"),
                                 PNG_FILTER, purpose="check")
        if path:
            self.save(self.result.verified.result.mask, with_png_suffix(path))

    def save(self, pixels, path: str) -> SavePngJob | None:
        if self.save_job is not None:
            return None
        job = SavePngJob(pixels, path)
        job.signals.finished.connect(self._saved)
        job.signals.failed.connect(self._save_failed)
        job.signals.ended.connect(self._save_ended)
        self.save_job = job
        self.save_mask_button.setEnabled(False)
        self.save_recovered_button.setEnabled(False)
        self._set_status(f"Saving {Path(path).name}…")
        self.session.jobs.start(job)
        return job

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _saved(self, path: str) -> None:
        self._set_status(f"Saved as {path}")
        self.saved.emit(path)

    def _save_failed(self, exc: BaseException) -> None:
        message = describe(exc)
        self._set_status(f"Not saved — {message.title}: {message.text}")
        self.save_failed.emit(exc)

    def _save_ended(self) -> None:
        self.save_job = None
        res = self.result.verified.result if self.result is not None else None
        self.save_recovered_button.setEnabled(res is not None and res.recovered is not None)
        self.save_mask_button.setEnabled(res is not None and res.verdict is not Verdict.NOT_IMMUNIZED)

    # --- closing -----------------------------------------------------------------------------------

    def done(self, code: int) -> None:  # noqa: D401 - Qt override: every way out of the dialog
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self._clear_results()  # the pictures may be a private photo: do not keep them around
        super().done(code)

    def close_for_lock(self) -> None:
        self.reject()
