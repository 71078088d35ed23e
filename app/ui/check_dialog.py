""""Check an image": drop or choose a found file and read everything it carries, in one verdict.

One `CheckJob` (a worker: about a second for the marks, then seconds for the immunizer) reads
the share ID from the metadata and the watermark, checks the signature and the fragile mark,
finds this vault's record of the share, and runs the immunizer's check: whether the copy was
altered after it was immunized, where (a mask), and what was there before. This dialog only
turns that `CheckResult` into words and pictures: what the copy is, who it was shared with, and
whether and where it was altered. Saving the recovered photo or the mask runs a `SavePngJob`.

The main window's own drop target keeps importing photos: only drops onto this dialog are
checked. Imported only when the dialog opens: the immunizer brings numpy and scipy.
"""

from __future__ import annotations

import hashlib
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

from app.core.immunizer import Mode, Verdict
from app.workers.immunize_jobs import CheckJob, CheckResult, SavePngJob, VerifiedImage

from . import dialogs
from .errors import describe
from .resources import repolish
from .session import Session
from .shares_view import share_format, short_date
from .single_file_drop import SingleFileDrop
from .viewer import ImageCanvas

log = logging.getLogger(__name__)

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.heic *.heif *.gif *.tif *.tiff *.bmp *.avif);;All files (*)"
PNG_FILTER = "PNG image (*.png)"

SIGNATURE_WORDS = {
    "valid": "Signed by your vault, and the pixels are exactly as shared",
    "pixels-changed": "Signed by your vault, but the picture was changed or re-compressed since",
    "other-image": "Signed by your vault, but not for this picture: the hidden IDs were copied onto "
                   "another image (or the copy was changed beyond recognition), so they prove nothing "
                   "about it",
    "invalid": "The signature does not match: the IDs were edited (or another vault signed them)",
    "absent": "No Sanctum signature (platforms usually remove it with the metadata)",
    "no-key": "Signed, but the signature cannot be checked without the vault's key",
}

FRAGILE_WORDS = {
    "intact": "Intact: this is exactly the file that was shared, not one pixel changed",
    "altered": "Broken: the file was edited, re-compressed or resized since it was shared",
}

MODE_WORDS = {
    Mode.LOSSLESS: "Immunized for files kept intact (email, cloud links)",
    Mode.ROBUST: "Immunized for social networks (survives re-compression and resizing)",
}

NOT_IMMUNIZED_TEXT = ("This photo carries no immunization data — it was never immunized, or was "
                      "changed too much to tell.")

SOURCE_NAMES = {"exif": "EXIF", "xmp": "XMP", "png": "PNG text", "itxt": "PNG text", "png-text": "PNG text"}

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


def key_fingerprint(public_key: bytes) -> str:
    """A short, readable fingerprint of a public key: the start of its SHA-256, in groups."""
    digest = hashlib.sha256(bytes(public_key)).hexdigest()[:16].upper()
    return " ".join(digest[i:i + 4] for i in range(0, 16, 4))


def with_png_suffix(path: str) -> str:
    p = Path(path)
    return str(p) if p.suffix.lower() == ".png" else str(p.with_name(p.name + ".png"))


def _confidence(confidence: float | None) -> str:
    return "" if confidence is None else f" (confidence {confidence * 100:.0f} %)"


def _fraction(fraction: float) -> str:
    pct = max(0.0, float(fraction)) * 100
    if pct < 0.1:
        return "less than 0.1 %"
    if pct < 10:
        return f"about {pct:.1f} %"
    return f"about {pct:.0f} %"


def _sources(sources) -> str:
    names = []
    for source in sources or ():
        name = SOURCE_NAMES.get(str(source).lower(), str(source).upper())
        if name not in names:
            names.append(name)
    return " and ".join(names) if names else "the file's metadata"


def signer_words(verified: VerifiedImage) -> str:
    """Who signed the immunization data, and what that proves."""
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


class CheckWords:
    """What a check means, in words: a headline, a summary, one line per thing the copy carries.

    The headline answers "whose copy is this?", and says "altered" when the immunizer found
    changed areas; the "Altered" row always answers "was it changed, and where?" as far as
    the copy lets anyone tell."""

    def __init__(self, result: CheckResult):
        report, share, verified = result.report, result.share, result.verified
        res = verified.result
        immunized = res.verdict is not Verdict.NOT_IMMUNIZED
        tampered = res.verdict is Verdict.TAMPERED
        meta_ids = report.metadata.ids if report.metadata else None
        # Another vault's IDs fail this vault's MAC; ours on other pixels read "other-image" and
        # name no share (metadata alone never does).
        foreign_id = meta_ids.share_id if meta_ids is not None and report.mac == "invalid" else None
        borrowed = meta_ids is not None and report.mac == "other-image" and not report.share_id
        other_vault_id = report.share_id or foreign_id
        self.altered, altered_sentence = self._altered_words(result)

        if share is not None:
            where = f" on {share.platform}" if share.platform else ""
            shared = (f"You shared it with {share.recipient}{where} on {short_date(share.created_at)} "
                      f"at {share.created_at:%H:%M}.")
            if tampered:
                self.kind = "altered"
                self.headline = f"Your copy for {share.recipient}, altered after it was shared"
            else:
                self.kind = "intact" if res.verdict is Verdict.AUTHENTIC else "mine"
                self.headline = f"Your copy for {share.recipient}"
            self.summary = f"{shared} {altered_sentence}".strip()
        elif other_vault_id:
            self.kind = "altered" if tampered else "unknown"
            self.headline = "A Sanctum copy, but not one of your shares"
            if tampered:
                self.headline += ", altered since it was made"
            self.summary = (f"It carries share ID {other_vault_id}, which this vault has no record of: "
                            f"another Sanctum vault made it. {altered_sentence}")
        elif borrowed:
            self.kind = "none"
            self.headline = "Not one of your shares"
            self.summary = ("Its metadata carries the hidden IDs of one of your copies, but the picture is "
                            "not that copy: they were copied onto another image. Sanctum names no share "
                            "from metadata the picture does not agree with.")
        elif immunized:
            self.kind = "altered" if tampered else "intact"
            self.headline = ("An immunized photo, altered after it was immunized" if tampered
                             else "An immunized photo, untouched since it was immunized")
            self.summary = ("No Sanctum share ID was found in it, so whose copy it is cannot be told. "
                            f"{altered_sentence}")
        else:
            self.kind = "none"
            self.headline = "Not one of your shares"
            self.summary = ("No Sanctum share ID was found, neither in the metadata nor in a watermark. "
                            "Heavy resizing, cropping or re-compression can wipe a watermark, so this "
                            "is not proof that the picture is not one of your photos.")

        self.rows: list[tuple[str, str]] = []
        if share is not None:
            self.rows.append(("Shared with", share.recipient))
            self.rows.append(("Where", share.platform or "not recorded"))
            self.rows.append(("When", f"{short_date(share.created_at)}, {share.created_at:%H:%M}"))
            if share.photo_id is None:
                photo = "deleted from the vault since (the record of the share is kept)"
            elif result.photo is not None:
                photo = result.photo.filename
            else:
                photo = f"photo {share.photo_id}"
            self.rows.append(("Photo", photo))
            self.rows.append(("Copy as shared", f"{share_format(share)}, {share.width:,} × {share.height:,} pixels"))
        self.rows.append(("Altered", self.altered))
        if immunized:
            self.rows.append(("Immunization", f"{MODE_WORDS.get(res.mode, 'Immunized')}. {signer_words(verified)}"))
        elif share is not None and share.options.get("immunize"):
            self.rows.append(("Immunization", "The copy was immunized when shared, but its immunization "
                                              "data is gone: re-compressed by a platform, or changed too "
                                              "much to tell"))
        else:
            self.rows.append(("Immunization", "None"))
        if meta_ids is not None:
            signed = f", dated {meta_ids.signed_at[:10]}" if meta_ids.signed_at else ""
            self.rows.append(("Metadata", f"Share ID {meta_ids.share_id} found in "
                                          f"{_sources(report.metadata.sources)}{signed}"))
        else:
            self.rows.append(("Metadata", "No Sanctum IDs (platforms usually remove metadata)"))
        self.rows.append(("Watermark", self._watermark_words(report)))
        self.rows.append(("Signature", SIGNATURE_WORDS.get(report.signature, report.signature)))
        fragile = self._fragile_words(result)
        if fragile:
            self.rows.append(("Fragile mark", fragile))
        self.rows.append(("This file", f"{Path(result.path).name}, {result.file_format or 'image'}, "
                                       f"{report.width:,} × {report.height:,} pixels"))
        self.warning = ""
        if meta_ids is not None and report.watermark_share_id and meta_ids.share_id != report.watermark_share_id:
            self.warning = ("The metadata and the watermark name different shares: the metadata was "
                            "edited. The watermark is the one to trust.")

    @staticmethod
    def _altered_words(result: CheckResult) -> tuple[str, str]:
        """Was it changed, and where? (a short answer for the details, a sentence for the banner)"""
        report, share, res = result.report, result.share, result.verified.result
        if res.verdict is Verdict.TAMPERED:
            amount = f"{_fraction(res.tampered_fraction)} of the picture"
            sentence = f"{amount[0].upper()}{amount[1:]} was changed after it was immunized: marked in red."
            if res.recovered is not None:
                sentence += " “Before the change” shows what was there."
            else:
                sentence += " Too much was changed to rebuild what was there before."
            return f"Yes: {amount}, after it was immunized", sentence
        if res.verdict is Verdict.AUTHENTIC:
            if res.mode is Mode.ROBUST:
                return ("No: untouched since it was immunized",
                        "It is untouched since it was immunized (re-compression and resizing by a "
                        "platform are not changes).")
            return "No: untouched since it was immunized", "Not one pixel was changed since it was immunized."
        # Not immunized: the fragile mark, the signature or the size can tell that it changed,
        # never where.
        if report.fragile == "intact" or report.signature == "valid":
            return "No: this is exactly the copy as shared", "This is exactly the copy as shared."
        if share is not None and (share.width, share.height) != (report.width, report.height):
            return ("Resized or cropped since it was shared",
                    f"It was resized or cropped since ({share.width:,} × {share.height:,} pixels as shared, "
                    f"{report.width:,} × {report.height:,} now). Whether more was changed cannot be told: "
                    "only immunized copies show that.")
        if report.fragile == "altered" or report.signature == "pixels-changed":
            return ("Changed or re-compressed since it was shared",
                    "It was changed or re-compressed since it was shared. Where cannot be told: only "
                    "immunized copies show that.")
        if share is None and not report.share_id:
            return "Cannot tell (not immunized)", ""
        return ("Cannot tell (not immunized)",
                "Whether it was changed cannot be told: the copy was not immunized, and nothing in it "
                "records its pixels as shared.")

    @staticmethod
    def _watermark_words(report) -> str:
        if report.watermark_share_id and report.watermark_against_original:
            return (f"Share ID {report.watermark_share_id} recognised: the mark is too damaged to read "
                    "on its own, but Sanctum found this photo in your vault and read the mark against "
                    "the original")
        if report.watermark_share_id and report.watermark_matched:
            return (f"Share ID {report.watermark_share_id} recognised: the mark is too damaged to read "
                    "on its own, but it matches this share")
        if report.watermark_share_id:
            return f"Share ID {report.watermark_share_id} found{_confidence(report.watermark_confidence)}"
        return "None found"

    @staticmethod
    def _fragile_words(result: CheckResult) -> str:
        """The fragile mark, only where it means something: Sanctum writes one into PNG copies
        that are not immunized (immunization supersedes it, and says where)."""
        fragile = result.report.fragile
        if fragile in FRAGILE_WORDS:
            return FRAGILE_WORDS[fragile]
        if fragile != "absent" or result.verified.result.verdict is not Verdict.NOT_IMMUNIZED:
            return ""
        if result.file_format == "PNG":
            return "None in this PNG: it is not a PNG copy made by Sanctum, or it was re-saved"
        return "None (only PNG copies carry one)"


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
