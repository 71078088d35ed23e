"""What a scan found, as the Scan dialog's results page shows it: a row per found copy (both
pictures side by side, the words, "Request deletion…") and the headline over them."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.vault import LeakMatchInfo, ScanOutcome, ShareInfo
from app.workers.leak_jobs import MatchEvidence

from .leaks_view import LOCAL_COPY_WORDS, EvidenceView, is_local, method_words, place_of, strength_words


class ScanResultRow(QFrame):
    """One found copy: both pictures side by side, the words, and "Request deletion…"."""

    request_deletion = Signal(object, object)  # LeakMatchInfo, ShareInfo | None

    def __init__(self, match: LeakMatchInfo, photo_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("scanResult")
        self.match = match
        self.share: ShareInfo | None = None
        self.photo_name = photo_name
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(14)
        self.evidence = EvidenceView()
        self.evidence.setFixedHeight(210)
        self.evidence.setMinimumWidth(420)
        self.evidence.clear("Loading…")
        layout.addWidget(self.evidence, 3)
        side = QVBoxLayout()
        self.title = QLabel(f"{photo_name} at {place_of(match)}")
        self.title.setObjectName("scanResultTitle")
        self.title.setWordWrap(True)
        self.title.setToolTip(match.source)
        self.words = QLabel(method_words(match))
        self.words.setObjectName("scanResultWords")
        self.words.setWordWrap(True)
        where = [f"Address: {match.source}"]
        if match.found_on and match.found_on != match.source:
            where.append(f"On the page: {match.found_on}")
        where.append(strength_words(match).capitalize())
        self.where = QLabel("\n".join(where))
        self.where.setWordWrap(True)
        self.where.setProperty("muted", True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.request_button = QPushButton("Request deletion…")
        self.request_button.setObjectName("scanRequestDeletion")
        self.request_button.clicked.connect(lambda: self.request_deletion.emit(self.match, self.share))
        side.addWidget(self.title)
        side.addWidget(self.words)
        side.addWidget(self.where)
        if is_local(match):
            self.request_button.setEnabled(False)
            self.request_button.setToolTip(LOCAL_COPY_WORDS)
            self.request_note = QLabel(LOCAL_COPY_WORDS)  # why the button is greyed out, in view
            self.request_note.setObjectName("scanRequestNote")
            self.request_note.setWordWrap(True)
            self.request_note.setProperty("muted", True)
            side.addWidget(self.request_note)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.request_button)
        row.addStretch(1)
        side.addLayout(row)
        layout.addLayout(side, 2)

    def set_evidence(self, item: MatchEvidence) -> None:
        self.share = item.share
        self.words.setText(method_words(item.match, item.share))
        self.evidence.set_evidence(item.match, item.photo, item.found, self.photo_name)


def outcome_words(outcome: ScanOutcome) -> tuple[str, str]:
    """The results page's headline and the sentence under it, for what a scan found."""
    n, found, k = outcome.scanned, len(outcome.matches), len(outcome.errors)
    checked = f"{n:,} image{'s' if n != 1 else ''} checked"
    if outcome.cancelled:
        return (f"Scan stopped — {found:,} cop{'ies' if found != 1 else 'y'} of your photos found so far",
                f"{checked} before you stopped it. What was found is kept under Leaks.")
    if found:
        return (f"Found {found:,} cop{'ies' if found != 1 else 'y'} of your photos",
                f"{checked}. Each copy is kept under Leaks with what you do about it. The outline shows "
                "where your photo is in the copy, and which part of your photo it shows.")
    if n == 0 and k:
        # Nothing was looked at: saying "none of your photos were found" would reassure wrongly.
        return ("Nothing could be checked",
                f"{'Neither place' if k == 2 else 'No place' if k > 2 else 'The place'} could be read (see why "
                "below), so this scan cannot tell whether your photos are there. Check the addresses and "
                "the internet connection, then try again.")
    if n == 0:
        return ("Nothing could be checked",
                "No images were found in these places. Add other addresses, files or folders and try again.")
    missed = f" {k:,} place{'s' if k != 1 else ''} could not be checked (below)." if k else ""
    return ("None of your photos were found",
            f"{checked}.{missed} A copy changed beyond recognition cannot be found; scan again later, "
            "or other places.")
