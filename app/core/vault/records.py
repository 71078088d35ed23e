"""The vault's results: plain dataclasses that cross thread boundaries, and their rows.

Every long vault operation reports through `Progress`; rows of the DB become these records
here, so no peewee model instance leaves the core.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..progress import Progress  # noqa: F401 - re-exported: the vault's callers name it from here

if TYPE_CHECKING:
    from .. import auth
    from ..db import LeakMatch, Photo, Share, TakedownRequest


def no_progress(done: int, total: int) -> None:
    pass


def json_fields(record) -> dict:
    """A result dataclass as JSON-ready fields: datetimes as ISO 8601, tuples as lists."""
    def plain(value):
        if isinstance(value, datetime):
            return value.isoformat(timespec="seconds")
        return list(value) if isinstance(value, tuple) else value

    return {name: plain(value) for name, value in dataclasses.asdict(record).items()}



# --- results crossing thread boundaries are plain dataclasses -----------------------------------


@dataclass(frozen=True)
class PhotoInfo:
    id: int
    filename: str
    sha256: str
    image_uid: str
    mime: str
    size_bytes: int
    width: int
    height: int
    taken_at: datetime
    taken_at_source: str
    imported_at: datetime

    def to_json(self) -> dict:
        # the row's own fields; tags, people and faces come from `Vault.photo_details`
        return json_fields(self)


@dataclass(frozen=True)
class FileProblem:
    path: str
    reason: str


@dataclass(frozen=True)
class Duplicate:
    path: str
    photo_id: int


@dataclass
class ImportReport:
    imported: list[int] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    errors: list[FileProblem] = field(default_factory=list)
    cancelled: bool = False

    def to_json(self) -> dict:
        return {
            "imported": self.imported,
            "duplicates": [{"path": d.path, "photo_id": d.photo_id} for d in self.duplicates],
            "errors": [{"path": e.path, "reason": e.reason} for e in self.errors],
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True)
class ExportedFile:
    photo_id: int
    path: str


@dataclass(frozen=True)
class ExportProblem:
    photo_id: int
    reason: str


@dataclass
class ExportReport:
    exported: list[ExportedFile] = field(default_factory=list)
    errors: list[ExportProblem] = field(default_factory=list)
    cancelled: bool = False

    def to_json(self) -> dict:
        return {
            "exported": [{"photo_id": e.photo_id, "path": e.path} for e in self.exported],
            "errors": [{"photo_id": e.photo_id, "reason": e.reason} for e in self.errors],
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True)
class VaultCreated:
    """What the user must see once at creation and never again."""

    recovery_key: str
    recovery_codes: list[str]
    totp: auth.TotpEnrollment | None


@dataclass(frozen=True)
class KeysRotated:
    """The outcome of a passphrase change or a recovery-key rotation.

    `recovery_key` is set when a new recovery key was made: it must be shown once, like at
    setup; the previous one no longer opens the vault.
    """

    recovery_key: str | None
    rewrapped: int  # blob keys re-wrapped to the new key pair


@dataclass(frozen=True)
class ShareInfo:
    share_id: str
    photo_id: int | None  # None once the photo was deleted; the record stays
    recipient: str
    platform: str | None
    created_at: datetime
    width: int
    height: int
    options: dict

    def to_json(self) -> dict:
        return json_fields(self)


@dataclass(frozen=True)
class ShareOutcome:
    share: ShareInfo
    out: str
    embedded: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class LeakMatchInfo:
    id: int
    source: str
    found_on: str | None
    photo_id: int | None
    share_id: str | None
    method: str
    score: float
    pdq_distance: int | None
    inliers: int | None
    region: list | None  # corners in the found image's full-size pixels
    found_size: tuple[int, int] | None
    detail: str
    first_seen: datetime
    last_seen: datetime
    status: str

    def to_json(self) -> dict:
        return json_fields(self)


@dataclass(frozen=True)
class TakedownInfo:
    id: int
    match_id: int
    kind: str
    subject: str
    text: str
    html: str
    mailto: str | None
    status: str
    detail: str
    updated_at: datetime

    def to_json(self) -> dict:
        fields = json_fields(self)
        del fields["html"]  # the text and mailto carry the same notice
        return fields


@dataclass(frozen=True)
class ReportWritten:
    """An evidence report written (`Vault.write_report`): the PDF and its signature file."""

    out: str
    signature: str

    def to_json(self) -> dict:
        return json_fields(self)


@dataclass(frozen=True)
class ScanOutcome:
    scanned: int
    errors: list[FileProblem]
    matches: list[LeakMatchInfo]
    cancelled: bool


# --- DB rows as records ----------------------------------------------------------------------


def photo_info(p: Photo) -> PhotoInfo:
    return PhotoInfo(
        id=p.id,
        filename=p.filename,
        sha256=p.sha256,
        image_uid=p.image_uid,
        mime=p.mime,
        size_bytes=p.size_bytes,
        width=p.width,
        height=p.height,
        taken_at=as_datetime(p.taken_at),
        taken_at_source=p.taken_at_source,
        imported_at=as_datetime(p.imported_at),
    )


def share_info(row: Share) -> ShareInfo:
    return ShareInfo(
        share_id=row.share_id,
        photo_id=row.photo_id,
        recipient=row.recipient,
        platform=row.platform,
        created_at=as_datetime(row.created_at),
        width=row.width,
        height=row.height,
        options=json.loads(row.options),
    )


def leak_info(row: LeakMatch) -> LeakMatchInfo:
    return LeakMatchInfo(
        id=row.id, source=row.source, found_on=row.found_on, photo_id=row.photo_id, share_id=row.share_id,
        method=row.method, score=row.score, pdq_distance=row.pdq_distance, inliers=row.inliers,
        region=json.loads(row.region) if row.region else None,
        found_size=(row.found_width, row.found_height) if row.found_width else None, detail=row.detail,
        first_seen=as_datetime(row.first_seen), last_seen=as_datetime(row.last_seen), status=row.status,
    )


def takedown_info(row: TakedownRequest) -> TakedownInfo:
    return TakedownInfo(row.id, row.match_id, row.kind, row.subject, row.text, row.html, row.mailto,
                        row.status, row.detail, as_datetime(row.updated_at))


def as_datetime(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))



# The DB keeps local wall-clock times (naive); the header and recovery codes keep UTC.


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_now() -> datetime:
    return datetime.now()
