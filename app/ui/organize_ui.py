"""Organising in the UI: the background organise job and its status-bar widget, what is revealed
of sensitive photos, and the tags / people / faces section of the details panels.

The organise job runs after every import and at unlock (for photos left pending), on the
vault-write lane so SQLite keeps one writer. Any other vault-write job (an import, a delete…)
takes priority: the organise job is cancelled at its next chunk and started again once the lane
is free; the core's analysis is resumable, so nothing is lost but the chunk in progress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core import organize
from app.core.organize import FaceInfo, OrganiseSummary, PersonEdit, PersonEditAction
from app.core.vision.errors import VisionUnavailable
from app.workers.base import CallJob, Job
from app.workers.people_jobs import OrganiseChunk, OrganiseJob, OrganiseResult, PhotoOrganise
from app.workers.pictures import RevealState

from .errors import describe

log = logging.getLogger(__name__)


class SensitiveState(QObject):
    """Which photos are flagged sensitive, and which the user chose to see sharp.

    The flags here only decide what the UI offers (badges, "Reveal"); whether a picture is
    blurred is decided again in each worker from the DB, so nothing sharp is ever decoded on the
    strength of stale UI state.
    """

    changed = Signal(object)  # the photo ids concerned (a set), or None for all of them

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.flagged: set[int] = set()
        self.revealed: set[int] = set()
        self.reveal_all = False

    def snapshot(self) -> RevealState:
        return RevealState(self.reveal_all, frozenset(self.revealed))

    def is_flagged(self, photo_id: int | None) -> bool:
        return photo_id in self.flagged

    def is_hidden(self, photo_id: int | None) -> bool:
        return photo_id in self.flagged and not (self.reveal_all or photo_id in self.revealed)

    def update_flags(self, photo_ids: Iterable[int], flagged: Iterable[int]) -> set[int]:
        """Record the flags of these photos; returns the ids whose flag changed."""
        flagged = set(flagged)
        changed = set()
        for photo_id in photo_ids:
            was = photo_id in self.flagged
            if (photo_id in flagged) != was:
                changed.add(photo_id)
                (self.flagged.add if photo_id in flagged else self.flagged.discard)(photo_id)
                self.revealed.discard(photo_id)  # a new flag hides the photo again
        if changed:
            self.changed.emit(changed)
        return changed

    def reveal(self, photo_id: int) -> None:
        if photo_id not in self.revealed:
            self.revealed.add(photo_id)
            self.changed.emit({photo_id})

    def hide(self, photo_id: int) -> None:
        if photo_id in self.revealed:
            self.revealed.discard(photo_id)
            self.changed.emit({photo_id})

    def set_reveal_all(self, on: bool) -> None:
        if on != self.reveal_all:
            self.reveal_all = on
            if not on:
                self.revealed.clear()
            self.changed.emit(None)

    def clear(self) -> None:
        """Lock: forget everything (the next unlock starts with everything hidden again)."""
        self.flagged.clear()
        self.revealed.clear()


class OrganiseController(QObject):
    """Starts, yields, resumes and reports the background organise job."""

    #: Tests of other features turn this off so their imports do not load the models.
    AUTO_START = True

    chunk_done = Signal(object)  # OrganiseChunk
    finished = Signal(object)  # OrganiseResult
    summary_ready = Signal(object)  # OrganiseSummary
    unavailable = Signal(str)  # why organising cannot run (said once)
    job_started = Signal(object)  # the OrganiseJob (the status widget tracks it)

    def __init__(self, session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.job: OrganiseJob | None = None
        self.auto_start = self.AUTO_START
        self.unavailable_reason: str | None = None
        self._wanted = False  # run (again) once the vault-write lane is free
        self._summary_job: CallJob | None = None
        self._summary_again = False
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(400)
        self._summary_timer.timeout.connect(self.refresh_summary)
        session.jobs.job_started.connect(self._on_job_started)
        session.jobs.job_ended.connect(self._on_job_ended)

    @property
    def running(self) -> bool:
        return self.job is not None

    def request(self, force: bool = False) -> None:
        """Organise what is pending: now if the vault-write lane is free, else after it."""
        if not (self.auto_start or force) or self.unavailable_reason is not None:
            return
        self._wanted = True
        self._maybe_start()

    def cancel(self) -> None:
        """The user's Cancel: stop now, and do not start again until the next import or unlock."""
        self._wanted = False
        if self.job is not None:
            self.job.cancel()

    def reset(self) -> None:
        """Lock: the job is cancelled by the session; forget what was wanted."""
        self._wanted = False
        self._summary_again = False
        self._summary_timer.stop()

    def _maybe_start(self) -> None:
        if not self._wanted or self.job is not None or not self.session.is_unlocked:
            return
        if self.session.jobs.busy("vault-write"):
            return  # _on_job_ended tries again when the lane is free
        self._wanted = False
        job = OrganiseJob(self.session.vault)
        job.signals.chunk_done.connect(self._on_chunk)
        job.signals.finished.connect(self._on_finished)
        job.signals.failed.connect(self._on_failed)
        job.signals.ended.connect(lambda job=job: self._on_ended(job))
        self.job = job
        self.session.jobs.start(job, priority=-1)
        self.job_started.emit(job)

    def _on_job_started(self, job: Job) -> None:
        # Imports (and every other write) go first: yield at the next chunk, resume after.
        if job.lane == "vault-write" and self.job is not None and job is not self.job:
            if not self.job.is_cancelled:
                log.info("organising yields to %s", type(job).__name__)
                self.job.cancel()
                self._wanted = True

    def _on_job_ended(self, job: Job) -> None:
        if self._wanted and job is not self.job:
            QTimer.singleShot(0, self._maybe_start)

    def _on_chunk(self, chunk: OrganiseChunk) -> None:
        if self.session.is_unlocked:
            self.chunk_done.emit(chunk)
            self.schedule_summary()

    def _on_finished(self, result: OrganiseResult) -> None:
        if self.session.is_unlocked:
            self.finished.emit(result)
            self.schedule_summary()

    def _on_failed(self, exc: BaseException) -> None:
        if not self.session.is_unlocked:
            return
        message = describe(exc)
        if isinstance(exc, VisionUnavailable):
            if self.unavailable_reason is not None:
                return  # a run requested before the first one failed: already said
            self.unavailable_reason = message.text  # said once; not tried again this session
        log.warning("organising failed: %s", type(exc).__name__)
        self.unavailable.emit(f"{message.title}: {message.text}")

    def _on_ended(self, job: OrganiseJob) -> None:
        if job is self.job:
            self.job = None
        if self._wanted:
            QTimer.singleShot(0, self._maybe_start)

    # --- the summary (sidebar counts, search suggestions) ------------------------------------

    def schedule_summary(self) -> None:
        if not self._summary_timer.isActive():
            self._summary_timer.start()

    def refresh_summary(self) -> None:
        if not self.session.is_unlocked:
            return
        if self._summary_job is not None:
            self._summary_again = True
            return
        job = CallJob(self.session.vault, organize.summary)
        job.signals.finished.connect(self._summary_done)
        job.signals.ended.connect(self._summary_ended)
        self._summary_job = job
        self.session.jobs.start(job, priority=1)

    def _summary_done(self, summary: OrganiseSummary) -> None:
        if self.session.is_unlocked:
            self.summary_ready.emit(summary)

    def _summary_ended(self) -> None:
        self._summary_job = None
        if self._summary_again:
            self._summary_again = False
            self.refresh_summary()


class OrganiseStatus(QWidget):
    """Status-bar widget: "Organising 12 of 40…", a thin bar and Cancel."""

    def __init__(self, controller: OrganiseController, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("organiseStatus")
        self.controller = controller
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        self.label = QLabel()
        self.label.setObjectName("organiseLabel")
        self.bar = QProgressBar()
        self.bar.setObjectName("organiseBar")
        self.bar.setFixedWidth(120)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("organiseCancel")
        self.cancel_button.setToolTip("Stop organising for now; it carries on after the next import")
        self.cancel_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.cancel_button.clicked.connect(self._cancel)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.job: OrganiseJob | None = None
        controller.job_started.connect(self.track)
        self.hide()

    def track(self, job: OrganiseJob) -> None:
        self.job = job
        job.signals.progress.connect(lambda done, total, job=job: self._progress(job, done, total))
        job.signals.ended.connect(lambda job=job: self._ended(job))
        self.label.setText("Organising…")
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.show()

    def _progress(self, job: OrganiseJob, done: int, total: int) -> None:
        if job is not self.job or job.is_cancelled:
            return
        if total == 0:
            self.hide()
            return
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.label.setText(f"Organising {min(done + 1, total):,} of {total:,}…" if done < total
                           else "Grouping faces…")

    def _cancel(self) -> None:
        self.controller.cancel()
        self.cancel_button.setEnabled(False)
        self.label.setText("Stopping…")

    def _ended(self, job: OrganiseJob) -> None:
        if job is self.job:
            self.job = None
            self.hide()


class _FaceRow(QFrame):
    """One face in the details: who it is, and a menu of corrections. Hover outlines it."""

    def __init__(self, face: FaceInfo, panel: OrganisePanel):
        super().__init__()
        self.face = face
        self.panel = panel
        self.setObjectName("faceRow")
        self.setAttribute(Qt.WidgetAttribute.WA_Hover, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        self.name = QLabel(face.person)
        self.name.setObjectName("faceName")
        self.button = QToolButton()
        self.button.setObjectName("faceActions")
        self.button.setText("Fix…")
        self.button.setToolTip("Correct this face: wrong person, or not a face at all")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.button)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.button.setMenu(self.menu)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.button)
        self._fill_menu()

    def _fill_menu(self) -> None:
        menu, face = self.menu, self.face
        menu.clear()
        emit = self.panel.edit_requested.emit
        menu.addAction("Not this person", lambda: emit(PersonEdit(PersonEditAction.MOVE, face_id=face.id, other_id=None))
                       ).setObjectName("notThisPerson")
        move = menu.addMenu("Move to…")
        move.setObjectName("moveTo")
        for person in self.panel.people_lookup():
            if person.id != face.person_id:
                move.addAction(person.label if person.name else "Unnamed " + str(person.id),
                               lambda pid=person.id: emit(PersonEdit(PersonEditAction.MOVE, face_id=face.id, other_id=pid)))
        move.setEnabled(not move.isEmpty())
        menu.addSeparator()
        menu.addAction("Not a face", lambda: emit(PersonEdit(PersonEditAction.REJECT, face_id=face.id))).setObjectName("notAFace")

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.HoverEnter:
            self.panel.face_hovered.emit(self.face.id)
        elif event.type() == QEvent.Type.HoverLeave:
            self.panel.face_hovered.emit(None)
        return super().event(event)


class OrganisePanel(QFrame):
    """Tags, people and faces of one photo, in the details panels."""

    edit_requested = Signal(object)  # PersonEdit
    face_hovered = Signal(object)  # face id, or None
    faces_toggled = Signal(bool)  # "Show faces"
    data_shown = Signal(object)  # PhotoOrganise or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("organisePanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        caption = QLabel("Tags")
        caption.setProperty("muted", True)
        self.tags = QLabel()
        self.tags.setObjectName("photoTags")
        self.tags.setWordWrap(True)
        self.tags.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(caption)
        layout.addWidget(self.tags)
        layout.addSpacing(6)
        head = QHBoxLayout()
        people_caption = QLabel("People")
        people_caption.setProperty("muted", True)
        self.show_faces = QCheckBox("Show faces")
        self.show_faces.setObjectName("showFaces")
        self.show_faces.setToolTip("Outline every face found in this photo")
        self.show_faces.toggled.connect(self.faces_toggled)
        head.addWidget(people_caption)
        head.addStretch(1)
        head.addWidget(self.show_faces)
        layout.addLayout(head)
        self.people_box = QVBoxLayout()
        self.people_box.setContentsMargins(0, 0, 0, 0)
        self.people_box.setSpacing(0)
        layout.addLayout(self.people_box)
        self.no_people = QLabel()
        self.no_people.setWordWrap(True)
        self.no_people.setProperty("muted", True)
        layout.addWidget(self.no_people)
        #: every person (for "Move to…"); the main window answers from the latest summary
        self.people_lookup: Callable[[], list] = lambda: []
        self.rows: list[_FaceRow] = []
        self.data: PhotoOrganise | None = None
        self.show_data(None)

    def show_data(self, data: PhotoOrganise | None, waiting: bool = False) -> None:
        self.data = data
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        self.show_faces.setVisible(bool(data and data.faces))
        if data is None:
            self.tags.setText("…" if waiting else "")
            self.no_people.setText("")
            self.data_shown.emit(None)
            return
        d = data.details
        if not d.analyzed:
            self.tags.setText("Not organised yet: tags and people appear once Sanctum has looked at it.")
            self.tags.setProperty("muted", True)
        else:
            words = [f"<b>{c}</b>" for c in d.categories] + [label for label in d.labels]
            self.tags.setText(", ".join(words) if words else "No tags")
            self.tags.setProperty("muted", not words)
        for face in data.faces:
            row = _FaceRow(face, self)
            self.people_box.addWidget(row)
            self.rows.append(row)
        self.no_people.setText("" if data.faces else ("No faces found." if d.analyzed else ""))
        self.no_people.setVisible(not data.faces)
        self.data_shown.emit(data)
