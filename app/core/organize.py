"""Organising the vault: tags, people and the sensitive flag, persisted in the encrypted DB.

The recognition itself lives in `app.core.vision` (Qt-free, DB-free, models loaded lazily);
this module feeds it decrypted thumbnails, stores what it finds, and offers the operations the
user needs on people (name, merge, move or reject a face). Indexing is resumable: a photo is
done once it has a `PhotoAnalysis` row, each chunk is committed on its own, so a cancelled or
interrupted run picks up where it stopped.
"""

from __future__ import annotations

import io
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np
import peewee
from PIL import Image

from . import db
from .db import Face, Person, Photo, PhotoAnalysis, PhotoTag
from .errors import SanctumError
from .progress import Progress

CHUNK = 8


class PersonEditAction(StrEnum):
    """The corrections a person makes to the people found: each is one function below."""

    NAME = "name"  # name_person
    MERGE = "merge"  # merge_people
    MOVE = "move"  # move_face (to another person, or a new one)
    REJECT = "reject"  # reject_face: not a face at all


@dataclass(frozen=True)
class IndexReport:
    analyzed: int
    faces: int
    people_created: int
    cancelled: bool = False


@dataclass(frozen=True)
class PersonInfo:
    id: int
    name: str | None
    face_count: int
    photo_count: int
    cover_photo_id: int | None  # the photo of the person's best face
    cover_box: tuple[int, int, int, int] | None  # that face, in the large thumbnail's pixels

    @property
    def label(self) -> str:
        return self.name or f"Person {self.id}"


@dataclass(frozen=True)
class PhotoDetails:
    """What organising knows about one photo (for `list --json`, the viewer, search)."""

    categories: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)  # names, or "person-<id>" while unnamed
    faces: int = 0
    sensitive: bool = False
    analyzed: bool = False


_NOT_ANALYZED = datetime(1970, 1, 1)  # a row that only holds the user's sensitive override


def pending_photo_ids() -> list[int]:
    return [pid for (pid,) in Photo.select(Photo.id).join(PhotoAnalysis, peewee.JOIN.LEFT_OUTER)
            .where(PhotoAnalysis.id.is_null() | (PhotoAnalysis.analyzed_at == _NOT_ANALYZED))
            .order_by(Photo.id).tuples()]


def analyze_pending(
    read_thumbnail: Callable[[int], bytes],
    progress: Progress = lambda done, total: None,
    cancel: threading.Event | None = None,
) -> IndexReport:
    """Tag, find faces and flag every photo not analysed yet; then group new faces into people."""
    from .vision import pipeline

    pending = pending_photo_ids()
    total = len(pending)
    progress(0, total)
    analyzed = faces_found = 0
    cancelled = False
    for start in range(0, total, CHUNK):
        if cancel is not None and cancel.is_set():
            cancelled = True
            break
        chunk = pending[start : start + CHUNK]
        images = []
        for photo_id in chunk:
            with Image.open(io.BytesIO(read_thumbnail(photo_id))) as thumb:
                images.append(thumb.convert("RGB"))
        results = pipeline.analyze_photos(images)
        now = datetime.now()
        with db.database.atomic():
            for photo_id, result in zip(chunk, results, strict=True):
                _store(photo_id, result, now)
                faces_found += len(result.faces)
        analyzed += len(chunk)
        progress(analyzed, total)
    people_created = update_people(cancel)
    return IndexReport(analyzed, faces_found, people_created, cancelled)


def _store(photo_id: int, result, now: datetime) -> None:
    PhotoTag.delete().where(PhotoTag.photo == photo_id).execute()
    Face.delete().where(Face.photo == photo_id).execute()
    # Categories keep the order the tagger gave them (main category first) through their score.
    rows = [{"photo": photo_id, "term": c, "kind": "category", "score": 1.0 - rank / 100}
            for rank, c in enumerate(result.categories)]
    label_scores = {label.name: label.score for label in result.tags.labels}
    rows += [{"photo": photo_id, "term": t, "kind": "label", "score": float(label_scores.get(t, 0.0))}
             for t in result.tags.tags if t not in result.categories]
    if rows:
        PhotoTag.insert_many(rows).execute()
    for face in result.faces:
        Face.create(photo=photo_id, box=json.dumps([int(v) for v in face.box]),
                    descriptor=np.asarray(face.descriptor, dtype=np.float32).tobytes(),
                    quality=float(face.quality))
    previous = PhotoAnalysis.get_or_none(PhotoAnalysis.photo == photo_id)
    PhotoAnalysis.replace(photo=photo_id, analyzed_at=now, sensitive_score=result.sensitive_score,
                          sensitive=bool(result.sensitive),
                          sensitive_override=previous.sensitive_override if previous else None).execute()


def _records():
    from .vision.clustering import FaceRecord

    return [FaceRecord(row.id, np.frombuffer(bytes(row.descriptor), dtype=np.float32), row.person_id,
                       bool(row.confirmed), bool(row.rejected)) for row in Face.select()]


def _apply(update) -> None:
    for change in update.changes:
        Face.update(person=change.person_id, confirmed=change.confirmed, rejected=change.rejected
                    ).where(Face.id == change.face_id).execute()
    # People left with no face (after merges and moves) are removed.
    Person.delete().where(Person.id.not_in(Face.select(Face.person).where(Face.person.is_null(False)))).execute()


def _new_person() -> int:
    return Person.create(created_at=datetime.now()).id


# `update_people` and the edits below that read the faces, then write, do so in an IMMEDIATE
# transaction: it takes the write lock up front, so a concurrent writer makes them wait (busy
# timeout) instead of failing with "database is locked" half-way. (The app's edit jobs in
# app/workers/people_jobs.py wrap them in one more IMMEDIATE transaction; nested, these are savepoints.)
def update_people(cancel: threading.Event | None = None) -> int:
    """Give new faces a person: join a known one when close enough, else form new people."""
    from .vision import clustering

    with db.database.atomic("IMMEDIATE"):
        update = clustering.update_people(_records(), _new_person, cancel=cancel)
        _apply(update)
    return len(update.new_people)


# --- the user's corrections ---------------------------------------------------------------------


def name_person(person_id: int, name: str) -> None:
    if Person.update(name=name.strip() or None).where(Person.id == person_id).execute() != 1:
        raise SanctumError(f"No person with id {person_id}.")


def merge_people(keep: int, absorb: int) -> None:
    from .vision import clustering

    with db.database.atomic("IMMEDIATE"):
        _apply(clustering.merge_people(_records(), keep, absorb))


def move_face(face_id: int, person_id: int | None) -> None:
    """Move a face to a person (None: to a new person of its own)."""
    from .vision import clustering

    with db.database.atomic("IMMEDIATE"):
        record = _record(face_id)
        update = (clustering.move_face_to_new_person(record, _new_person) if person_id is None
                  else clustering.move_face(record, person_id))
        _apply(update)


def reject_face(face_id: int) -> None:
    """"Not a face": the face leaves its person; a photo left without faces is no longer
    tagged "people" (the tag came from the face the user just ruled out)."""
    from .vision import clustering

    with db.database.atomic("IMMEDIATE"):
        _apply(clustering.reject_face(_record(face_id)))
        photo_id = Face.get_by_id(face_id).photo_id
        if not Face.select().where((Face.photo == photo_id) & (Face.rejected == False)).exists():  # noqa: E712
            PhotoTag.delete().where((PhotoTag.photo == photo_id) & (PhotoTag.kind == "category")
                                    & (PhotoTag.term == "people")).execute()


def _record(face_id: int):
    for record in _records():
        if record.face_id == face_id:
            return record
    raise SanctumError(f"No face with id {face_id}.")


def set_sensitive(photo_id: int, sensitive: bool | None) -> None:
    """The user marks (True), unmarks (False) or returns to the model's verdict (None)."""
    with db.database.atomic():
        row = PhotoAnalysis.get_or_none(PhotoAnalysis.photo == photo_id)
        if row is None:  # not analysed yet: the indexer keeps this override when it gets there
            PhotoAnalysis.create(photo=photo_id, analyzed_at=_NOT_ANALYZED, sensitive=False,
                                 sensitive_override=sensitive)
        else:
            row.sensitive_override = sensitive
            row.save()


# --- queries --------------------------------------------------------------------------------------


def list_people() -> list[PersonInfo]:
    people = []
    for person in Person.select().order_by(Person.name.is_null(), Person.name, Person.id):
        faces = list(Face.select().where((Face.person == person.id) & (Face.rejected == False))  # noqa: E712
                     .order_by(Face.quality.desc()))
        if not faces:
            continue
        best = faces[0]
        people.append(PersonInfo(person.id, person.name, len(faces), len({f.photo_id for f in faces}),
                                 best.photo_id, tuple(json.loads(best.box))))
    return people


def find_person(text: str) -> list[int]:
    """Person ids for `--person`: an id, or a name (case-insensitive)."""
    if text.isdigit():
        return [int(text)]
    return [p.id for p in Person.select().where(peewee.fn.LOWER(Person.name) == text.strip().lower())]


def photo_filter(tag: str | None = None, person: str | None = None, sensitive: bool | None = None):
    """A peewee expression selecting photos by tag (category or label), person and flag."""
    expression = peewee.Value(True)
    if tag:
        expression &= Photo.id.in_(PhotoTag.select(PhotoTag.photo)
                                   .where(peewee.fn.LOWER(PhotoTag.term) == tag.strip().lower()))
    if person:
        expression &= Photo.id.in_(Face.select(Face.photo).where(
            Face.person.in_(find_person(person)) & (Face.rejected == False)))  # noqa: E712
    if sensitive is not None:
        flagged = PhotoAnalysis.select(PhotoAnalysis.photo).where(
            (PhotoAnalysis.sensitive_override == True)  # noqa: E712
            | (PhotoAnalysis.sensitive_override.is_null() & (PhotoAnalysis.sensitive == True)))  # noqa: E712
        expression &= Photo.id.in_(flagged) if sensitive else Photo.id.not_in(flagged)
    return expression


def photo_details(photo_ids: Sequence[int]) -> dict[int, PhotoDetails]:
    ids = list(photo_ids)
    tags: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"category": [], "label": []})
    for photo_id, term, kind in (PhotoTag.select(PhotoTag.photo, PhotoTag.term, PhotoTag.kind)
                                 .where(PhotoTag.photo.in_(ids)).order_by(PhotoTag.score.desc()).tuples()):
        tags[photo_id][kind].append(term)
    people: dict[int, list[str]] = defaultdict(list)
    faces: dict[int, int] = defaultdict(int)
    names = {p.id: p.name for p in Person.select()}
    for photo_id, person_id, rejected in (Face.select(Face.photo, Face.person, Face.rejected)
                                          .where(Face.photo.in_(ids)).tuples()):
        if rejected:
            continue
        faces[photo_id] += 1
        if person_id is not None:
            label = names.get(person_id) or f"person-{person_id}"
            if label not in people[photo_id]:
                people[photo_id].append(label)
    analysis = {row.photo_id: row for row in PhotoAnalysis.select().where(PhotoAnalysis.photo.in_(ids))}
    out = {}
    for photo_id in ids:
        row = analysis.get(photo_id)
        flagged = bool(row and (row.sensitive_override if row.sensitive_override is not None else row.sensitive))
        out[photo_id] = PhotoDetails(tags[photo_id]["category"], tags[photo_id]["label"], people[photo_id],
                                     faces[photo_id], flagged, bool(row and row.analyzed_at != _NOT_ANALYZED))
    return out


# --- what the CLI and the GUI ask for: shared request and result types ----------------------------


@dataclass(frozen=True)
class PersonEdit:
    """One correction: "name" (person_id, name), "merge" (person_id keeps, other_id goes),
    "move" (face_id to other_id, or to a new person when None), "reject" (face_id)."""

    action: str
    person_id: int | None = None
    other_id: int | None = None
    face_id: int | None = None
    name: str = ""


def apply_person_edit(edit: PersonEdit) -> None:
    """One correction in an IMMEDIATE transaction: the write lock is taken up front (waiting on
    the busy timeout), so a quick edit never fails half-way against the organiser's commits."""
    with db.database.atomic("IMMEDIATE"):
        if edit.action == "name":
            name_person(edit.person_id, edit.name)
        elif edit.action == "merge":
            merge_people(edit.person_id, edit.other_id)
        elif edit.action == "move":
            move_face(edit.face_id, edit.other_id)
        elif edit.action == "reject":
            reject_face(edit.face_id)
        else:
            raise ValueError(f"unknown person edit {edit.action!r}")


def set_sensitive_many(photo_ids: Sequence[int], sensitive: bool | None) -> None:
    """`set_sensitive` for several photos, in one IMMEDIATE transaction (see `apply_person_edit`)."""
    with db.database.atomic("IMMEDIATE"):
        for photo_id in photo_ids:
            set_sensitive(photo_id, sensitive)


@dataclass(frozen=True)
class TagCount:
    term: str
    count: int


@dataclass(frozen=True)
class OrganiseSummary:
    """What the sidebar and the search suggestions show."""

    categories: list[TagCount]  # the eight categories, in their fixed order, with photo counts
    labels: list[TagCount]  # fine labels, most common first
    people: list[PersonInfo]  # named first
    sensitive: int
    pending: int


def summary() -> OrganiseSummary:
    from .search import tag_counts
    from .vision.categories import CATEGORIES

    counts = tag_counts()
    categories = [TagCount(c, counts.get(("category", c), 0)) for c in CATEGORIES]
    labels = sorted((TagCount(term, n) for (kind, term), n in counts.items()
                     if kind == "label" and term not in CATEGORIES), key=lambda t: (-t.count, t.term))
    sensitive = Photo.select(Photo.id).where(photo_filter(sensitive=True)).count()
    return OrganiseSummary(categories, labels, list_people(), sensitive, len(pending_photo_ids()))


@dataclass(frozen=True)
class FaceInfo:
    id: int
    person_id: int | None
    person: str  # the person's name, or "Unnamed"
    box: tuple[int, int, int, int]  # in the large thumbnail's pixels
    confirmed: bool


def faces_in(photo_id: int) -> list[FaceInfo]:
    """The faces found in one photo (not the rejected ones), in the order they were found."""
    names = {p.id: p.name for p in Person.select(Person.id, Person.name)}
    return [FaceInfo(f.id, f.person_id, (names.get(f.person_id) or "Unnamed") if f.person_id else "Unnamed",
                     tuple(int(v) for v in json.loads(f.box)), bool(f.confirmed))
            for f in Face.select().where((Face.photo == photo_id) & (Face.rejected == False))  # noqa: E712
            .order_by(Face.id)]
