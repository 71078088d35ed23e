""""Verify an image": drop or choose a file and see whether an immunized photo was changed.

A `VerifyImageJob` decodes the file and runs the immunizer's check on a worker (seconds for a
large photo, with progress and Cancel); this dialog only turns the `Verification` into words and
pictures: the suspect copy, the tampered areas marked on it, and the photo as it was before.
Saving the recovered photo or the mask runs a `SavePngJob` (an atomic PNG write).

Imported only when the dialog is opened: the immunizer brings numpy and scipy.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.immunizer import Mode, Verdict
from app.workers.immunize_jobs import SavePngJob, VerifiedImage, VerifyImageJob

from . import dialogs
from .errors import describe
from .inspect_dialog import IMAGE_FILTER
from .resources import repolish
from .session import Session
from .single_file_drop import SingleFileDrop
from .viewer import ImageCanvas

log = logging.getLogger(__name__)

PNG_FILTER = "PNG image (*.png)"

MODE_WORDS = {
    Mode.LOSSLESS: "Immunized for files kept intact (email, cloud links).",
    Mode.ROBUST: "Immunized for social networks (survives re-compression and resizing).",
}

NOT_IMMUNIZED_TEXT = ("This photo carries no immunization data — it was never immunized, or was "
                      "changed too much to tell.")

_STYLE = (
    "QFrame#verifyBanner { background: #f3f5f8; border: 1px solid #dfe3e8; border-radius: 10px; }"
    "QFrame#verifyBanner[verdict=\"authentic\"] { background: #ecf7f0; border-color: #b4dcc2; }"
    "QFrame#verifyBanner[verdict=\"tampered\"] { background: #fdf1ef; border-color: #f1c3bb; }"
    "QFrame#verifyBanner[verdict=\"error\"] { background: #fdf1ef; border-color: #f1c3bb; }"
    "QLabel#verifyHeadline { font-size: 17px; font-weight: 600; color: #1d2733; }"
    "QFrame#verifyBanner[verdict=\"authentic\"] QLabel#verifyHeadline { color: #146c2e; }"
    "QFrame#verifyBanner[verdict=\"tampered\"] QLabel#verifyHeadline { color: #b42318; }"
    "QFrame#verifyBanner[verdict=\"error\"] QLabel#verifyHeadline { color: #b42318; }"
    "QFrame#verifyDrop { background: transparent; border: 2px dashed transparent; border-radius: 12px; }"
    "QFrame#verifyDrop[empty=\"true\"] { border-color: #c3cad4; }"
    "QFrame#verifyDrop[dragging=\"true\"] { border-color: #5b6fd6; background: #eef0fb; }"
    "QFrame#verifyPane { background: #ffffff; border: 1px solid #dfe3e8; border-radius: 10px; }"
    "QFrame#verifyPane QWidget#imageCanvas { background: transparent; }"
    "QLabel#verifyCaption { font-weight: 600; }"
)


def choose_image(parent: QWidget | None) -> str:
    """One image file to verify (tests replace this)."""
    return dialogs.open_file(parent, "Verify an image", IMAGE_FILTER, purpose="check")


def key_fingerprint(public_key: bytes) -> str:
    """A short, readable fingerprint of a public key: the start of its SHA-256, in groups."""
    digest = hashlib.sha256(bytes(public_key)).hexdigest()[:16].upper()
    return " ".join(digest[i:i + 4] for i in range(0, 16, 4))


def _percent(fraction: float) -> str:
    pct = max(0.0, float(fraction)) * 100
    if pct < 0.1:
        return "less than 0.1 %"
    if pct < 10:
        return f"about {pct:.1f} %"
    return f"about {pct:.0f} %"


def with_png_suffix(path: str) -> str:
    p = Path(path)
    return str(p) if p.suffix.lower() == ".png" else str(p.with_name(p.name + ".png"))


class VerifyWords:
    """What a verification means, in words: the banner and the placeholder of each empty pane."""

    def __init__(self, verified: VerifiedImage):
        res = verified.result
        self.kind = res.verdict.value  # "not_immunized" / "authentic" / "tampered"
        lines: list[str] = []
        if res.verdict is Verdict.NOT_IMMUNIZED:
            self.headline = "No immunization data"
            lines.append(NOT_IMMUNIZED_TEXT)
        elif res.verdict is Verdict.AUTHENTIC:
            self.headline = "Untouched since it was immunized"
            if res.mode is not None:
                lines.append(MODE_WORDS.get(res.mode, ""))
            if res.mode is Mode.LOSSLESS and res.bit_exact:
                lines.append("The photo as it was before immunizing was restored bit for bit.")
            elif res.mode is Mode.ROBUST:
                lines.append("Small differences from re-compression or resizing are expected and ignored.")
        else:
            self.headline = f"Changed after it was immunized: {_percent(res.tampered_fraction)} of the photo"
            if res.mode is not None:
                lines.append(MODE_WORDS.get(res.mode, ""))
            if res.recovered is not None:
                lines.append("The changed areas are marked in red. The recovered photo shows what was there before.")
                if res.mode is Mode.LOSSLESS and res.bit_exact:
                    lines.append("Everything outside the changed areas was restored bit for bit.")
            else:
                lines.append("The changed areas are marked in red. Too much was changed to rebuild "
                             "what was there before.")
        self.detail = " ".join(line for line in lines if line)
        self.signer = self._signer_words(verified)
        if res.verdict is Verdict.NOT_IMMUNIZED:
            self.tampered_placeholder = "Nothing to compare: the photo carries no immunization data."
            self.recovered_placeholder = "Nothing to recover: the photo carries no immunization data."
        elif res.verdict is Verdict.AUTHENTIC:
            self.tampered_placeholder = ""
            self.recovered_placeholder = "Nothing to recover: no part of the photo was changed."
        else:
            self.tampered_placeholder = ""
            self.recovered_placeholder = ("Not recoverable: so much of the photo was changed that its "
                                          "recovery data was destroyed with it.")

    @staticmethod
    def _signer_words(verified: VerifiedImage) -> str:
        res = verified.result
        if res.verdict is Verdict.NOT_IMMUNIZED:
            return ""
        if res.signer is None:
            return ("Signature missing: nothing says who immunized this photo, and its immunization "
                    "data could have been made by anyone.")
        if not res.signature_valid:
            return ("Signature invalid: the immunization data does not match its signature. It was "
                    "damaged or forged, so treat this result with caution.")
        if verified.signed_by_this_vault:
            return "Signed by this vault's key: you immunized this photo."
        return (f"Signed by another key (fingerprint {key_fingerprint(res.signer)}). This only shows the "
                "file is consistent with its own immunization data; anyone can sign with a key of their "
                "own, so it proves who made it only if you know this key.")


class ImagePane(QFrame):
    """A caption over a picture scaled to fit (or a sentence when there is none)."""

    def __init__(self, caption: str, placeholder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("verifyPane")
        self.default_caption = caption
        self.default_placeholder = placeholder
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 6)
        layout.setSpacing(4)
        self.caption = QLabel(caption)
        self.caption.setObjectName("verifyCaption")
        self.canvas = ImageCanvas()
        self.canvas.setMinimumSize(220, 220)
        self.canvas.message = placeholder
        layout.addWidget(self.caption)
        layout.addWidget(self.canvas, 1)

    def show_image(self, pixmap: QPixmap | None, placeholder: str = "", caption: str | None = None) -> None:
        self.canvas.message = placeholder or self.default_placeholder
        self.canvas.set_pixmap(pixmap)
        self.caption.setText(caption or self.default_caption)

    def clear(self, placeholder: str | None = None) -> None:
        self.show_image(None, placeholder or self.default_placeholder)

    @property
    def pixmap(self) -> QPixmap | None:
        return self.canvas.pixmap


class VerifyDialog(SingleFileDrop, QDialog):
    drop_verb = "verify"
    verified = Signal(object)  # VerifiedImage (tests wait on it)
    verify_failed = Signal(object)  # the exception
    saved = Signal(str)  # the path of a PNG written
    save_failed = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None, path: str | None = None):
        super().__init__(parent)
        self.setObjectName("verifyDialog")
        self.setWindowTitle("Verify an image")
        self.setStyleSheet(_STYLE)
        self.setAcceptDrops(True)  # anywhere on the dialog
        self.session = session
        self.job: VerifyImageJob | None = None
        self.save_job: SavePngJob | None = None
        self.result: VerifiedImage | None = None
        self.words: VerifyWords | None = None
        self.resize(1120, 680)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)

        self.banner = QFrame()
        self.banner.setObjectName("verifyBanner")
        banner_layout = QVBoxLayout(self.banner)
        banner_layout.setContentsMargins(16, 12, 16, 12)
        banner_layout.setSpacing(4)
        self.headline = QLabel()
        self.headline.setObjectName("verifyHeadline")
        self.headline.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setObjectName("verifyDetail")
        self.detail.setWordWrap(True)
        self.signer = QLabel()
        self.signer.setObjectName("verifySigner")
        self.signer.setWordWrap(True)
        self.signer.setProperty("muted", True)
        self.signer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for label in (self.headline, self.detail, self.signer):
            banner_layout.addWidget(label)
        layout.addWidget(self.banner)

        self.drop = QFrame()
        self.drop.setObjectName("verifyDrop")
        panes = QHBoxLayout(self.drop)
        panes.setContentsMargins(6, 6, 6, 6)
        panes.setSpacing(10)
        self.suspect_pane = ImagePane("Suspect copy", "Drop a photo here\nor choose a file")
        self.tampered_pane = ImagePane("Tampered areas", "The changed areas will be marked here, in red")
        self.recovered_pane = ImagePane("Recovered", "What was there before will show here")
        for pane in (self.suspect_pane, self.tampered_pane, self.recovered_pane):
            panes.addWidget(pane, 1)
        layout.addWidget(self.drop, 1)

        self.progress_box = QWidget()
        progress_row = QHBoxLayout(self.progress_box)
        progress_row.setContentsMargins(0, 0, 0, 0)
        self.progress_label = QLabel("Verifying…")
        self.progress = QProgressBar()
        self.progress.setObjectName("verifyProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("verifyCancel")
        self.cancel_button.clicked.connect(self.cancel)
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box.hide()
        layout.addWidget(self.progress_box)

        self.status = QLabel()
        self.status.setObjectName("verifyStatus")
        self.status.setWordWrap(True)
        self.status.setProperty("muted", True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setObjectName("verifyChoose")
        self.choose_button.clicked.connect(self.choose_and_verify)
        self.save_mask_button = QPushButton("Save mask…")
        self.save_mask_button.setObjectName("verifySaveMask")
        self.save_mask_button.setToolTip("Save the changed areas as a black-and-white PNG (white = changed), "
                                         "the size of the suspect copy")
        self.save_mask_button.clicked.connect(self.choose_and_save_mask)
        self.save_recovered_button = QPushButton("Save recovered photo…")
        self.save_recovered_button.setObjectName("verifySaveRecovered")
        self.save_recovered_button.setToolTip("Save the photo as it was before it was changed, as PNG")
        self.save_recovered_button.clicked.connect(self.choose_and_save_recovered)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons.addWidget(self.choose_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_mask_button)
        buttons.addWidget(self.save_recovered_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        self._clear_results()
        self._set_banner("empty", "Nothing verified yet",
                         "Drop a photo onto this window or choose a file. If it was immunized with "
                         "Sanctum, you will see whether it was changed since, where, and what was there before.")
        if path:
            self.verify(path)

    # --- choosing and dropping ---------------------------------------------------------------

    def choose_and_verify(self) -> None:
        path = choose_image(self)
        if path:
            self.verify(path)

    def take_dropped_file(self, path: str) -> None:
        self.verify(path)

    # --- verifying ---------------------------------------------------------------------------------

    def verify(self, path: str) -> VerifyImageJob | None:
        if not self.session.is_unlocked:
            self._show_problem("Vault locked", "Unlock the vault, then verify the image again.")
            return None
        if Path(path).is_dir():
            self._show_problem("That is a folder", "Drop or choose a single photo file.")
            return None
        if self.job is not None:
            self.job.cancel()
        self._clear_results()
        self._set_banner("working", "Verifying…", Path(path).name)
        self.progress.setValue(0)
        self.progress_label.setText("Verifying…")
        self.cancel_button.setEnabled(True)
        self.progress_box.show()
        job = VerifyImageJob(path, self.session.vault)
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

    def _progress(self, job: VerifyImageJob, done: int, total: int) -> None:
        if job is self.job and total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _done(self, job: VerifyImageJob, result: VerifiedImage) -> None:
        if job is not self.job:
            return  # a newer file was dropped meanwhile
        self.job = None
        self.progress_box.hide()
        self.result = result
        self.words = words = VerifyWords(result)
        res = result.result
        self._set_banner(words.kind, words.headline, words.detail, words.signer)
        self._set_empty(False)
        self.suspect_pane.show_image(QPixmap.fromImage(result.suspect))
        if res.verdict is Verdict.NOT_IMMUNIZED:
            self.tampered_pane.show_image(None, words.tampered_placeholder)
        else:
            caption = "Tampered areas" if res.verdict is Verdict.TAMPERED else "Tampered areas — none found"
            self.tampered_pane.show_image(QPixmap.fromImage(result.overlay), caption=caption)
        recovered = QPixmap.fromImage(result.recovered) if result.recovered is not None else None
        self.recovered_pane.show_image(recovered, words.recovered_placeholder)
        self.status.setText(f"{Path(result.path).name} — {result.width:,} × {result.height:,} pixels")
        self.save_recovered_button.setEnabled(res.recovered is not None)
        self.save_mask_button.setEnabled(res.verdict is not Verdict.NOT_IMMUNIZED)
        self.verified.emit(result)

    def _failed(self, job: VerifyImageJob, exc: BaseException) -> None:
        if job is not self.job:
            return
        self.job = None
        message = describe(exc)
        self._show_problem(message.title, message.text)
        self.status.setText(Path(job.path).name)
        self.verify_failed.emit(exc)

    def _cancelled(self, job: VerifyImageJob) -> None:
        if job is self.job:
            self.job = None
            self.progress_box.hide()
            self._set_banner("empty", "Cancelled", "Nothing was verified. Drop or choose a photo to start again.")

    def _show_problem(self, title: str, text: str) -> None:
        self._clear_results()
        self.progress_box.hide()
        self._set_banner("error", title, text)

    def _set_banner(self, kind: str, headline: str, detail: str, signer: str = "") -> None:
        self.banner.setProperty("verdict", kind)
        repolish(self.banner)
        for label in (self.headline, self.detail, self.signer):
            repolish(label)
        self.headline.setText(headline)
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        self.signer.setText(signer)
        self.signer.setVisible(bool(signer))

    def _set_empty(self, empty: bool) -> None:
        self.drop.setProperty("empty", empty)
        repolish(self.drop)

    def _clear_results(self) -> None:
        self.result = None
        self.words = None
        for pane in (self.suspect_pane, self.tampered_pane, self.recovered_pane):
            pane.clear()
        self._set_empty(True)
        self.status.clear()
        self.save_mask_button.setEnabled(False)
        self.save_recovered_button.setEnabled(False)


    def result_text(self) -> str:
        """Everything the banner says, as plain text (tests, and what a screen reader gets)."""
        return "\n".join(label.text() for label in (self.headline, self.detail, self.signer)
                         if label.text() and not label.isHidden())

    # --- saving --------------------------------------------------------------------------------

    def _suggested(self, tail: str) -> str:
        source = Path(self.result.path) if self.result is not None else Path.home() / "photo"
        return str(source.with_name(f"{source.stem}-{tail}.png"))

    def choose_and_save_recovered(self) -> None:
        if self.result is None or self.result.result.recovered is None:
            return
        path = dialogs.save_file(self, "Save the recovered photo", self._suggested("recovered"), PNG_FILTER,
                                 purpose="check")
        if path:
            self.save(self.result.result.recovered, with_png_suffix(path))

    def choose_and_save_mask(self) -> None:
        if self.result is None or self.result.result.verdict is Verdict.NOT_IMMUNIZED:
            return
        path = dialogs.save_file(self, "Save the mask of changed areas", self._suggested("changed-areas"),
                                 PNG_FILTER, purpose="check")
        if path:
            self.save(self.result.result.mask, with_png_suffix(path))

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
        self.status.setText(f"Saving {Path(path).name}…")
        self.session.jobs.start(job)
        return job

    def _saved(self, path: str) -> None:
        self.status.setText(f"Saved as {path}")
        self.saved.emit(path)

    def _save_failed(self, exc: BaseException) -> None:
        message = describe(exc)
        self.status.setText(f"Not saved — {message.title}: {message.text}")
        self.save_failed.emit(exc)

    def _save_ended(self) -> None:
        self.save_job = None
        res = self.result.result if self.result is not None else None
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
