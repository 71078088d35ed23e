"""Organising: the resumable analysis (tags, faces, people, the sensitive flag), the People view,
the user's corrections, and what one photo shows in the viewer."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QImage

from app.core import organize, previews
from app.core.errors import Cancelled
from app.core.organize import FaceInfo, PersonEdit
from app.core.vault import Vault

from .base import Job, JobSignals
from .pictures import NOTHING_REVEALED, RevealState, face_crop, sensitive_ids

if TYPE_CHECKING:
    from app.core.organize import IndexReport, PhotoDetails

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrganiseChunk:
    """Photos whose analysis was just committed, and which of them are flagged sensitive."""

    photo_ids: tuple[int, ...]
    sensitive: frozenset[int]


@dataclass(frozen=True)
class OrganiseResult:
    report: IndexReport
    pending: int  # photos still waiting (after a cancel)


class OrganiseSignals(JobSignals):
    chunk_done = Signal(object)  # OrganiseChunk


class OrganiseJob(Job):
    """Tags, faces, people and the sensitive flag for every photo not analysed yet.

    On the vault-write lane (one writer); resumable: each chunk is committed on its own, so a
    cancel (an import wants the lane, a lock) loses at most the chunk in progress. Shown by the
    organise status widget, not the long-job bar, so the user can keep working.
    """

    lane = "vault-write"
    title = "Organising"

    def make_signals(self) -> OrganiseSignals:
        return OrganiseSignals()

    def work(self) -> OrganiseResult:
        try:  # the two cores are shared with the UI: one thread for the models
            import torch

            torch.set_num_threads(1)
        except Exception:  # noqa: BLE001 - torch missing shows up as VisionUnavailable below
            pass
        pending = organize.pending_photo_ids()
        seen = 0

        def progress(done: int, total: int) -> None:
            nonlocal seen
            self.report_progress(done, total)
            if done > seen:
                ids = tuple(pending[seen:done])
                seen = done
                self.signals.chunk_done.emit(OrganiseChunk(ids, frozenset(sensitive_ids(self.vault, ids))))

        outcome: list = []

        def analyse() -> None:
            try:
                outcome.append(self.vault.analyze(progress, self.cancel_event))
            except BaseException as exc:  # noqa: BLE001 - handed to the job below
                outcome.append(exc)
            finally:
                self.vault.release_thread_connection()

        # dlib's pybind11 bindings cache the Python thread state per OS thread; a pool thread
        # gets a fresh one for every job, and the second run on it crashed (SIGSEGV in take_gil).
        # A Python thread of its own, for the length of one run, keeps that state valid.
        thread = threading.Thread(target=analyse, name="organise-analysis", daemon=True)
        thread.start()
        thread.join()
        if isinstance(outcome[0], Cancelled):  # stopped while grouping faces: chunks stay
            report = organize.IndexReport(seen, 0, 0, cancelled=True)
        elif isinstance(outcome[0], BaseException):
            raise outcome[0]
        else:
            report = outcome[0]
        left = len(organize.pending_photo_ids()) if report.cancelled else 0
        return OrganiseResult(report, left)


@dataclass(frozen=True)
class PersonFace:
    """A person for the People view, with the face cut from their best photo."""

    info: object  # PersonInfo
    face: QImage
    blurred: bool = False


@dataclass(frozen=True)
class PeopleList:
    people: list[PersonFace]


class ListPeopleJob(Job):
    def __init__(self, vault: Vault, edge: int = 128, reveal: RevealState = NOTHING_REVEALED):
        super().__init__(vault)
        self.edge = edge
        self.reveal = reveal

    def work(self) -> PeopleList:
        people = organize.list_people()
        flagged = sensitive_ids(self.vault, [p.cover_photo_id for p in people])
        out = []
        for person in people:
            self.check_cancelled()
            image, blur = QImage(), False
            if person.cover_photo_id is not None and person.cover_box is not None:
                blur = person.cover_photo_id in flagged and not self.reveal.shows(person.cover_photo_id)
                try:
                    data = self.vault.read_thumbnail(person.cover_photo_id, "large")
                    image = face_crop(data, person.cover_box, self.edge, blur)
                except Exception:  # noqa: BLE001 - a person without a picture is still listed
                    log.warning("face of person %s could not be cut out", person.id)
            out.append(PersonFace(person, image, blur))
        return PeopleList(out)


class PersonEditJob(Job):
    """Quick writes on the fast lane: they must not wait behind a whole organise chunk."""

    cancellable = False

    def __init__(self, vault: Vault, edit: PersonEdit):
        super().__init__(vault)
        self.edit = edit

    def work(self) -> PersonEdit:
        organize.apply_person_edit(self.edit)
        return self.edit


@dataclass(frozen=True)
class SensitiveChange:
    photo_ids: tuple[int, ...]
    value: bool | None  # what the user set (None: back to the model's verdict)
    sensitive: frozenset[int]  # which of them are flagged now


class SetSensitiveJob(Job):
    cancellable = False

    def __init__(self, vault: Vault, photo_ids, value: bool | None):
        super().__init__(vault)
        self.photo_ids = tuple(photo_ids)
        self.value = value

    def work(self) -> SensitiveChange:
        organize.set_sensitive_many(self.photo_ids, self.value)
        return SensitiveChange(self.photo_ids, self.value, frozenset(sensitive_ids(self.vault, self.photo_ids)))


@dataclass(frozen=True)
class PhotoOrganise:
    """What the viewer's details show about one photo: tags, people, each face."""

    photo_id: int
    details: PhotoDetails
    faces: list[FaceInfo]
    frame: tuple[int, int]  # the large thumbnail's size, which the boxes refer to


class PhotoFacesJob(Job):
    def __init__(self, vault: Vault, photo_id: int):
        super().__init__(vault)
        self.photo_id = photo_id

    def work(self) -> PhotoOrganise:
        details = self.vault.photo_details([self.photo_id])[self.photo_id]
        faces = organize.faces_in(self.photo_id)
        frame = (0, 0)
        if faces:
            frame = previews.frame_size(self.vault.read_thumbnail(self.photo_id, "large"))
        return PhotoOrganise(self.photo_id, details, faces, frame)


