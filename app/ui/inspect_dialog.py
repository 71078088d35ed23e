""""Check an image": drop or choose a file and read what a protected copy carries.

An `InspectJob` reads the file on a worker (up to ~1 s for 12 MP) and returns the core's
`InspectReport` with this vault's share record when it is one of its copies; this dialog only
turns the report into words. The main window's own drop target keeps importing photos: only
drops onto this dialog are checked.
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QApplication,
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

from app.workers.jobs import InspectJob, InspectResult

from . import dialogs
from .errors import describe
from .resources import repolish
from .session import Session
from .shares_view import share_format, short_date
from .single_file_drop import SingleFileDrop
from .viewer import ImageCanvas

log = logging.getLogger(__name__)

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.heic *.heif *.gif *.tif *.tiff *.bmp *.avif);;All files (*)"

SIGNATURE_WORDS = {
    "valid": "Signed by your vault, and the pixels are exactly as shared",
    "pixels-changed": "Signed by your vault, but the picture was changed or re-compressed since",
    "other-image": "Signed by your vault, but not for this picture: the hidden IDs were copied onto "
                   "another image (or the copy was changed beyond recognition), so they prove nothing "
                   "about it",
    "invalid": "The signature does not match: the IDs were edited (or another vault signed them)",
    "absent": "No Sanctum signature",
    "no-key": "Signed, but the signature cannot be checked without the vault's key",
}

FRAGILE_WORDS = {
    "intact": "Intact: this is exactly the file that was shared, not one pixel changed",
    "altered": "Broken: the file was edited, re-compressed or resized since it was shared",
    "absent": "None (only PNG copies carry one)",
    "not-checked": "Not checked",
}

SOURCE_NAMES = {"exif": "EXIF", "xmp": "XMP", "png": "PNG text", "itxt": "PNG text", "png-text": "PNG text"}

_STYLE = (
    "QFrame#inspectDrop { background: #ffffff; border: 2px dashed #c3cad4; border-radius: 12px; }"
    "QFrame#inspectDrop[dragging=\"true\"] { border-color: #5b6fd6; background: #eef0fb; }"
    "QFrame#inspectDrop QWidget#imageCanvas { background: transparent; }"
    "QLabel#inspectVerdict { font-size: 17px; font-weight: 600; }"
    "QLabel#inspectVerdict[verdict=\"mine\"] { color: #23306e; }"
    "QLabel#inspectVerdict[verdict=\"unknown\"] { color: #8a4b0f; }"
    "QLabel#inspectVerdict[verdict=\"none\"] { color: #1d2733; }"
    "QLabel#inspectVerdict[verdict=\"error\"] { color: #b42318; }"
    "QFrame#inspectResults { background: #ffffff; border: 1px solid #dfe3e8; border-radius: 10px; }"
)


def choose_image(parent: QWidget | None) -> str:
    """One image file to check (tests replace this)."""
    return dialogs.open_file(parent, "Check an image", IMAGE_FILTER, purpose="check")


def _percent(confidence: float | None) -> str:
    return "" if confidence is None else f" (confidence {confidence * 100:.0f} %)"


def _sources(sources) -> str:
    names = []
    for source in sources or ():
        name = SOURCE_NAMES.get(str(source).lower(), str(source).upper())
        if name not in names:
            names.append(name)
    return " and ".join(names) if names else "the file's metadata"


class Verdict:
    """What a report means, in words: a headline, a sentence, and one line per mark."""

    def __init__(self, result: InspectResult):
        report, share = result.report, result.share
        meta_ids = report.metadata.ids if report.metadata else None
        # Another vault's IDs fail this vault's MAC; ours on other pixels read "other-image" and
        # name no share (metadata alone never does).
        foreign_id = meta_ids.share_id if meta_ids is not None and report.mac == "invalid" else None
        borrowed = meta_ids is not None and report.mac == "other-image" and not report.share_id
        other_vault_id = report.share_id or foreign_id
        self.kind = "mine" if share is not None else ("unknown" if other_vault_id else "none")
        if share is not None:
            self.headline = f"One of your shares: the copy for {share.recipient}"
            where = f" on {share.platform}" if share.platform else ""
            self.summary = (f"You shared it with {share.recipient}{where} on {short_date(share.created_at)} "
                            f"at {share.created_at:%H:%M}.")
        elif other_vault_id:
            self.headline = "A Sanctum copy, but not one of your shares"
            self.summary = (f"It carries share ID {other_vault_id}, which this vault has no record of: "
                            "another Sanctum vault made it.")
        elif borrowed:
            self.headline = "Not one of your shares"
            self.summary = ("Its metadata carries the hidden IDs of one of your copies, but the picture is "
                            "not that copy: they were copied onto another image. Sanctum names no share "
                            "from metadata the picture does not agree with.")
        else:
            self.headline = "Not one of your shares"
            self.summary = ("No Sanctum share ID was found, neither in the metadata nor in a watermark. "
                            "Heavy resizing, cropping or re-compression can wipe a watermark, so this "
                            "is not proof that the picture is not one of your photos.")
        self.rows: list[tuple[str, str]] = []
        if share is not None:
            where = share.platform or "not recorded"
            self.rows.append(("Shared with", share.recipient))
            self.rows.append(("Where", where))
            self.rows.append(("When", f"{short_date(share.created_at)}, {share.created_at:%H:%M}"))
            if share.photo_id is None:
                photo = "deleted from the vault since (the record of the share is kept)"
            elif result.photo is not None:
                photo = result.photo.filename
            else:
                photo = f"photo {share.photo_id}"
            self.rows.append(("Photo", photo))
            self.rows.append(("Copy as shared", f"{share_format(share)}, {share.width:,} × {share.height:,} pixels"))
        if meta_ids is not None:
            signed = ""
            if meta_ids.signed_at:
                signed = f", dated {meta_ids.signed_at[:10]}"
            self.rows.append(("Metadata", f"Share ID {meta_ids.share_id} found in "
                                          f"{_sources(report.metadata.sources)}{signed}"))
        else:
            self.rows.append(("Metadata", "No Sanctum IDs (platforms usually remove metadata)"))
        if report.watermark_share_id and report.watermark_against_original:
            self.rows.append(("Watermark", f"Share ID {report.watermark_share_id} recognised: the mark is too "
                                           "damaged to read on its own, but Sanctum found this photo in your "
                                           "vault and read the mark against the original"))
        elif report.watermark_share_id and report.watermark_matched:
            self.rows.append(("Watermark", f"Share ID {report.watermark_share_id} recognised: the mark is too "
                                           "damaged to read on its own, but it matches this share"))
        elif report.watermark_share_id:
            self.rows.append(("Watermark", f"Share ID {report.watermark_share_id} found"
                                           f"{_percent(report.watermark_confidence)}"))
        else:
            self.rows.append(("Watermark", "None found"))
        self.rows.append(("Signature", SIGNATURE_WORDS.get(report.signature, report.signature)))
        self.rows.append(("Fragile mark", FRAGILE_WORDS.get(report.fragile, report.fragile)))
        self.rows.append(("This file", f"{Path(result.path).name}, {report.width:,} × {report.height:,} pixels"))
        self.warning = ""
        if meta_ids is not None and report.watermark_share_id and meta_ids.share_id != report.watermark_share_id:
            self.warning = ("The metadata and the watermark name different shares: the metadata was "
                            "edited. The watermark is the one to trust.")


class InspectDialog(SingleFileDrop, QDialog):
    drop_verb = "check"
    inspected = Signal(object)  # InspectResult (tests wait on it)
    inspect_failed = Signal(object)  # the exception

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inspectDialog")
        self.setWindowTitle("Check an image")
        self.setStyleSheet(_STYLE)
        self.setAcceptDrops(True)  # anywhere on the dialog; the dashed frame shows where
        self.session = session
        self.job: InspectJob | None = None
        self.result: InspectResult | None = None
        self.verdict: Verdict | None = None
        self.resize(940, 600)

        layout = QHBoxLayout(self)
        layout.setSpacing(14)
        left = QVBoxLayout()
        self.drop = QFrame()
        self.drop.setObjectName("inspectDrop")
        self.drop.setMinimumSize(360, 360)
        drop_layout = QVBoxLayout(self.drop)
        self.canvas = ImageCanvas()
        self.canvas.message = ("Drop a photo here\nor choose a file\n\n"
                               "Sanctum reads the marks of its protected copies: whose copy it is, "
                               "and whether it was changed.")
        drop_layout.addWidget(self.canvas)
        left.addWidget(self.drop, 1)
        choose_row = QHBoxLayout()
        self.choose_button = QPushButton("Choose a file…")
        self.choose_button.setObjectName("inspectChoose")
        self.choose_button.clicked.connect(self.choose_and_inspect)
        choose_row.addWidget(self.choose_button)
        choose_row.addStretch(1)
        left.addLayout(choose_row)
        layout.addLayout(left, 5)

        right = QVBoxLayout()
        self.verdict_label = QLabel("Nothing checked yet")
        self.verdict_label.setObjectName("inspectVerdict")
        self.verdict_label.setWordWrap(True)
        self.summary = QLabel("Choose or drop a photo you found, for example one that was posted "
                              "somewhere or sent around, to see whether it is one of your copies.")
        self.summary.setObjectName("inspectSummary")
        self.summary.setWordWrap(True)
        self.summary.setProperty("muted", True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.results = QFrame()
        self.results.setObjectName("inspectResults")
        self.form = QFormLayout(self.results)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.form.setVerticalSpacing(8)
        self.results.hide()
        self.warning = QLabel()
        self.warning.setProperty("role", "error")
        self.warning.setWordWrap(True)
        self.warning.hide()
        right.addWidget(self.verdict_label)
        right.addWidget(self.summary)
        right.addWidget(self.progress)
        right.addWidget(self.results)
        right.addWidget(self.warning)
        right.addStretch(1)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton("Copy details")
        self.copy_button.setToolTip("Copy what was found as text (JSON), e.g. for a report to a platform")
        self.copy_button.clicked.connect(self.copy_details)
        self.copy_button.setEnabled(False)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        right.addLayout(buttons)
        layout.addLayout(right, 4)

    # --- choosing and dropping ---------------------------------------------------------------

    def choose_and_inspect(self) -> None:
        path = choose_image(self)
        if path:
            self.inspect(path)

    def take_dropped_file(self, path: str) -> None:
        self.inspect(path)

    # --- checking ----------------------------------------------------------------------------------

    def inspect(self, path: str) -> InspectJob | None:
        if not self.session.is_unlocked:
            self._show_problem("Vault locked", "Unlock the vault, then check the image again.")
            return None
        if Path(path).is_dir():
            self._show_problem("That is a folder", "Drop or choose a single photo file.")
            return None
        if self.job is not None:
            self.job.cancel()
        self._clear_results()
        self.verdict_label.setText("Checking…")
        self.verdict_label.setProperty("verdict", "")
        repolish(self.verdict_label)
        self.summary.setText(Path(path).name)
        self.progress.show()
        job = InspectJob(self.session.vault, path)
        job.signals.finished.connect(lambda result, job=job: self._done(job, result))
        job.signals.failed.connect(lambda exc, job=job: self._failed(job, exc))
        job.signals.cancelled.connect(lambda job=job: self._cancelled(job))
        self.job = job
        self.session.jobs.start(job, priority=1)
        return job

    def _done(self, job: InspectJob, result: InspectResult) -> None:
        if job is not self.job:
            return  # a newer file was dropped meanwhile
        self.job = None
        self.progress.hide()
        self.result = result
        self.verdict = verdict = Verdict(result)
        self.canvas.set_pixmap(QPixmap.fromImage(result.preview))
        self.verdict_label.setText(verdict.headline)
        self.verdict_label.setProperty("verdict", verdict.kind)
        repolish(self.verdict_label)
        self.summary.setText(verdict.summary)
        for caption, text in verdict.rows:
            label = QLabel(caption)
            label.setProperty("muted", True)
            value = QLabel(html.escape(text))
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.form.addRow(label, value)
        self.results.show()
        self.warning.setText(verdict.warning)
        self.warning.setVisible(bool(verdict.warning))
        self.copy_button.setEnabled(True)
        self.inspected.emit(result)

    def _failed(self, job: InspectJob, exc: BaseException) -> None:
        if job is not self.job:
            return
        self.job = None
        message = describe(exc)
        self._show_problem(message.title, message.text)
        self.inspect_failed.emit(exc)

    def _cancelled(self, job: InspectJob) -> None:
        if job is self.job:
            self.job = None
            self.progress.hide()

    def _show_problem(self, title: str, text: str) -> None:
        self._clear_results()
        self.progress.hide()
        self.verdict_label.setText(title)
        self.verdict_label.setProperty("verdict", "error")
        repolish(self.verdict_label)
        self.summary.setText(text)

    def _clear_results(self) -> None:
        self.result = None
        self.verdict = None
        self.canvas.set_pixmap(None)
        self.warning.hide()
        self.copy_button.setEnabled(False)
        while self.form.rowCount():
            self.form.removeRow(0)
        self.results.hide()


    def result_text(self) -> str:
        """Everything shown, as plain text (tests, and what a screen reader gets)."""
        parts = [self.verdict_label.text(), self.summary.text()]
        if self.verdict is not None:
            parts += [f"{caption}: {text}" for caption, text in self.verdict.rows]
            if self.verdict.warning:
                parts.append(self.verdict.warning)
        return "\n".join(parts)

    def copy_details(self) -> None:
        if self.result is None:
            return
        details = {"file": self.result.path, **self.result.report.to_json()}
        if self.result.share is not None:
            details["your_share"] = self.result.share.to_json()
        QApplication.clipboard().setText(json.dumps(details, indent=2))

    # --- closing -----------------------------------------------------------------------------------

    def done(self, code: int) -> None:  # noqa: D401 - Qt override: every way out of the dialog
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self._clear_results()  # the preview may be a private photo: do not keep it around
        super().done(code)

    def close_for_lock(self) -> None:
        self.reject()
