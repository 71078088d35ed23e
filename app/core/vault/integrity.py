"""The integrity check of an open vault, and its repair.

The check decrypts every blob the database names (each chunk must authenticate), finds rows
whose blob file is missing, photos without all three of their blobs, blob files of this vault
that no row names (orphans), and half-written temporary files.

Blobs of the other key slot (a second passphrase's vault) share the folder: their names carry
that vault's tag, not this one's (blobs.py), so they are not this vault's orphans and the check
passes over them without a word: nothing in the report tells whether they exist. Untagged names
(blobs from before tags) are passed over the same way.

The repair removes only this vault's own orphans and temporary files, and, only when asked
(`remove_unreadable`), the photos whose original cannot be read any more. A photo whose original
authenticates is never removed, whatever else is wrong with it (a damaged thumbnail is reported).

A mixin of `Vault`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import peewee

from .. import crypto
from ..blobs import BlobStore
from ..db import Blob, Photo
from ..errors import AuthenticationFailed
from .records import Progress, no_progress

_PARTS = 3  # original, thumb_small, thumb_large


@dataclass(frozen=True)
class VaultProblem:
    kind: str  # "damaged", "missing", "incomplete", "orphan", "temporary"
    detail: str
    photo_id: int | None = None
    part: str | None = None  # "original", "thumb_small", "thumb_large"
    blob: str | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "detail": self.detail, "photo_id": self.photo_id, "part": self.part,
                "blob": self.blob}


@dataclass(frozen=True)
class CheckReport:
    problems: tuple[VaultProblem, ...]
    checked: int  # blobs decrypted
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.cancelled

    def unreadable_photos(self) -> list[int]:
        """Photos whose original is missing or failed to authenticate."""
        return sorted({p.photo_id for p in self.problems
                       if p.photo_id is not None and (p.part == "original" or p.kind == "incomplete")})

    def to_json(self) -> dict:
        return {"ok": self.ok, "problems": [p.to_json() for p in self.problems], "checked": self.checked,
                "cancelled": self.cancelled}


@dataclass(frozen=True)
class RepairReport:
    removed_orphans: int
    removed_temporary: int
    removed_photos: tuple[int, ...]
    after: CheckReport  # what the check finds once the repair is done

    def to_json(self) -> dict:
        return {"removed_orphans": self.removed_orphans, "removed_temporary": self.removed_temporary,
                "removed_photos": list(self.removed_photos), **self.after.to_json()}


class VaultIntegrity:
    """The integrity check of an open `Vault`."""

    blobs: BlobStore
    _private_key: bytes | None

    def check_vault(self, progress: Progress = no_progress, cancel: threading.Event | None = None) -> CheckReport:
        self._require_open()
        rows = list(Blob.select(Blob.photo, Blob.kind, Blob.name, Blob.wrapped_key).order_by(Blob.id).tuples())
        on_disk = set(self.blobs.names_on_disk())
        names = dict(Photo.select(Photo.id, Photo.filename).tuples())

        def photo_words(photo_id: int) -> str:
            return f"{names.get(photo_id, 'a photo')} (photo {photo_id})"

        problems: list[VaultProblem] = []
        total = len(rows)
        progress(0, total)
        checked = 0
        for photo_id, kind, name, wrapped in rows:
            if cancel is not None and cancel.is_set():
                return CheckReport(tuple(problems), checked, cancelled=True)
            if name not in on_disk:
                problems.append(VaultProblem("missing", f"{photo_words(photo_id)}: its {_words(kind)} file is missing",
                                             photo_id, kind, name))
            elif not self._authenticates(name, bytes(wrapped)):
                problems.append(VaultProblem("damaged", f"{photo_words(photo_id)}: its {_words(kind)} failed its "
                                             "integrity check (damaged or altered)", photo_id, kind, name))
            checked += 1
            progress(checked, total)
        for photo_id, count in (
            Photo.select(Photo.id, peewee.fn.COUNT(Blob.id)).join(Blob, peewee.JOIN.LEFT_OUTER)
            .group_by(Photo.id).tuples()
        ):
            if count != _PARTS:
                problems.append(VaultProblem("incomplete", f"{photo_words(photo_id)}: {count} stored parts instead of "
                                             f"{_PARTS}", photo_id))
        referenced = {name for _, _, name, _ in rows}
        for name in sorted(on_disk - referenced):
            if self.blobs.is_own(name):
                problems.append(VaultProblem("orphan", "a file of this vault that no photo uses", blob=name))
        for path in self.blobs.temporary_files():
            problems.append(VaultProblem("temporary", "a file left half-written by an interruption", blob=path.name))
        return CheckReport(tuple(problems), checked)

    def _authenticates(self, name: str, wrapped: bytes) -> bool:
        try:
            file_key = crypto.unwrap_key(self._private_key, wrapped)
            for _ in self.blobs.open_stream(name, file_key):
                pass
        except AuthenticationFailed:
            return False
        return True

    def _original_readable(self, photo_id: int) -> bool:
        row = Blob.get_or_none((Blob.photo == photo_id) & (Blob.kind == "original"))
        return row is not None and self._authenticates(row.name, bytes(row.wrapped_key))

    def repair_vault(
        self,
        *,
        remove_unreadable: bool = False,
        progress: Progress = no_progress,
        cancel: threading.Event | None = None,
    ) -> RepairReport:
        """Remove this vault's orphans and temporary files; with `remove_unreadable`, also the
        photos whose original cannot be read (checked again just before: a readable photo is
        never removed)."""
        found = self.check_vault(progress, cancel)
        if found.cancelled:
            return RepairReport(0, 0, (), found)
        orphans = [p.blob for p in found.problems if p.kind == "orphan"]
        referenced = {name for (name,) in Blob.select(Blob.name).tuples()}
        for name in orphans:
            if name not in referenced and self.blobs.is_own(name):
                self.blobs.delete(name)
        removed_tmp = self.blobs.clean_temporary()
        removed: list[int] = []
        if remove_unreadable:
            doomed = [pid for pid in found.unreadable_photos() if not self._original_readable(pid)]
            removed = self.delete(doomed)
        return RepairReport(len(orphans), removed_tmp, tuple(removed), self.check_vault(cancel=cancel))


def _words(kind: str) -> str:
    return {"original": "original", "thumb_small": "small thumbnail", "thumb_large": "large thumbnail"}.get(kind, kind)
