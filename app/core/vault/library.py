"""The photo library of an open vault: list, read, export, delete, and keep files and rows in step.

A mixin of `Vault` (import is `importer.PhotoImporter`'s).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import peewee

from .. import crypto, db, fingerprint
from ..blobs import BlobStore
from ..db import Blob, LeakMatch, Photo, PhotoFingerprint
from ..errors import AuthenticationFailed, ExportError, PhotoNotFound, SanctumError
from .files import os_reason, reason, safe_filename, write_new_file
from .records import ExportedFile, ExportProblem, ExportReport, PhotoInfo, Progress, no_progress, photo_info

log = logging.getLogger(__name__)


class PhotoLibrary:
    """Photos of an open `Vault`; the facade sets `blobs`, the keys, `_require_open` and
    `_forget_cached_scans`."""

    blobs: BlobStore
    _private_key: bytes | None

    def list_photos(
        self,
        *,
        after: datetime | None = None,
        before: datetime | None = None,
        ids: Sequence[int] | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        tag: str | None = None,
        person: str | None = None,
        sensitive: bool | None = None,
    ) -> list[PhotoInfo]:
        """Photos by date range, ids, tag (category or fine label), person (id or name) and the
        sensitive flag; filters combine."""
        from .. import organize

        self._require_open()
        query = Photo.select()
        if tag or person or sensitive is not None:
            query = query.where(organize.photo_filter(tag, person, sensitive))
        if after is not None:
            query = query.where(Photo.taken_at >= after)
        if before is not None:
            query = query.where(Photo.taken_at < before)
        if ids is not None:
            query = query.where(Photo.id.in_(list(ids)))
        order = (Photo.taken_at.desc(), Photo.id.desc()) if newest_first else (Photo.taken_at, Photo.id)
        query = query.order_by(*order)
        if limit:
            query = query.limit(limit)
        return [photo_info(p) for p in query]

    def find_photos(self, query) -> set[int]:
        """Ids of the photos a `search.PhotoQuery` selects: tag, person, flag and search text
        combined (every word of the text must match)."""
        from .. import search

        self._require_open()
        return search.find_photo_ids(query)

    def photo(self, photo_id: int) -> PhotoInfo:
        self._require_open()
        row = Photo.get_or_none(Photo.id == photo_id)
        if row is None:
            raise PhotoNotFound(f"No photo with id {photo_id} in this vault.")
        return photo_info(row)

    def count(self) -> int:
        self._require_open()
        return Photo.select().count()

    def fingerprint_of(self, photo_id: int) -> fingerprint.PerceptualFingerprint | None:
        row = PhotoFingerprint.get_or_none(PhotoFingerprint.photo == photo_id)
        if row is None:
            return None
        return fingerprint.PerceptualFingerprint(bytes(row.pdq), row.pdq_quality)

    def _blob_row(self, photo_id: int, kind: str) -> Blob:
        self._require_open()
        row = Blob.get_or_none((Blob.photo == photo_id) & (Blob.kind == kind))
        if row is None:
            if Photo.get_or_none(Photo.id == photo_id) is None:
                raise PhotoNotFound(f"No photo with id {photo_id} in this vault.")
            raise AuthenticationFailed("A stored part of this photo is missing.")
        return row

    def _stream(self, photo_id: int, kind: str) -> Iterator[bytes]:
        row = self._blob_row(photo_id, kind)
        file_key = crypto.unwrap_key(self._private_key, bytes(row.wrapped_key))
        return self.blobs.open_stream(row.name, file_key)

    def read_original(self, photo_id: int) -> bytes:
        """The original bytes, bit-exact, in memory; only after every chunk authenticated."""
        return b"".join(self._stream(photo_id, "original"))

    def read_thumbnail(self, photo_id: int, size: str = "small") -> bytes:
        return b"".join(self._stream(photo_id, f"thumb_{size}"))

    def export(
        self,
        photo_ids: Sequence[int],
        out_dir: str | Path,
        progress: Progress = no_progress,
        cancel: threading.Event | None = None,
    ) -> ExportReport:
        """Write originals, bit-exact, into `out_dir`. Existing files are never overwritten."""
        self._require_open()
        out_dir = Path(out_dir)
        report = ExportReport()
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"Cannot create {out_dir}: {os_reason(exc)}") from None
        total = len(photo_ids)
        progress(0, total)
        for done, photo_id in enumerate(photo_ids, 1):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            try:
                report.exported.append(ExportedFile(photo_id, str(self._export_one(photo_id, out_dir))))
            except (SanctumError, OSError) as exc:
                report.errors.append(ExportProblem(photo_id, reason(exc)))
            progress(done, total)
        return report

    def _export_one(self, photo_id: int, out_dir: Path) -> Path:
        info = self.photo(photo_id)
        return write_new_file(out_dir / safe_filename(info.filename, photo_id), self._stream(photo_id, "original"))

    def delete(self, photo_ids: Sequence[int], *, keep_leak_records: bool = True) -> list[int]:
        """Delete photos: rows (with the wrapped keys) first, then the blob files.

        Copies of a photo found by leak scans lose their evidence images with it (a picture of
        the photo, kept in the DB). With `keep_leak_records` their text record stays — where
        the copy was, when it was seen, how it was recognised, removal requests — as proof for
        a report; without it the records go too. Cached scan results naming the photo go
        either way (they would point a later scan at a photo that no longer exists).
        """
        self._require_open()
        deleted = []
        for photo_id in photo_ids:
            with db.database.atomic():
                names = [name for (name,) in Blob.select(Blob.name).where(Blob.photo == photo_id).tuples()]
                Blob.delete().where(Blob.photo == photo_id).execute()
                if keep_leak_records:
                    # The row itself loses its photo through the foreign key (SET NULL).
                    LeakMatch.update(evidence=None).where(LeakMatch.photo == photo_id).execute()
                else:
                    LeakMatch.delete().where(LeakMatch.photo == photo_id).execute()  # requests, captures cascade
                    # The pages those copies were on go too, unless another copy was found there.
                    from ..leaks import capture_store  # the scan's modules load with a scan, not here

                    capture_store.drop_unreferenced_pages()
                if Photo.delete().where(Photo.id == photo_id).execute() == 0:
                    raise PhotoNotFound(f"No photo with id {photo_id} in this vault.")
            self._forget_cached_scans(photo_id)
            for name in names:
                self.blobs.delete(name)
            deleted.append(photo_id)
        if deleted:
            # Push the WAL into the main file so freed pages (zeroed by secure_delete) replace
            # the old ones; otherwise the WAL could hold the deleted wrapped keys for a while.
            db.database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def _collect_garbage(self) -> None:
        """Remove what an interrupted import or delete left behind.

        Blobs are written before their DB rows and deleted after them, so a crash can only
        leave blob files without rows, never rows without blobs. Those files are unreadable
        anyway (their keys were never committed, or are already destroyed).
        """
        removed_tmp = self.blobs.clean_temporary()
        referenced = {name for (name,) in Blob.select(Blob.name).tuples()}
        # Only this vault's own names: the other slot's blobs are not orphans (blobs.py).
        orphans = [name for name in self.blobs.names_on_disk() if name not in referenced and self.blobs.is_own(name)]
        for name in orphans:
            self.blobs.delete(name)
        if removed_tmp or orphans:
            log.info("cleaned %d partial and %d orphaned blobs", removed_tmp, len(orphans))

    def check_consistency(self) -> list[str]:
        """Problems found between DB rows and blob files (empty when consistent)."""
        self._require_open()
        problems = []
        on_disk = set(self.blobs.names_on_disk())
        for name, photo_id in Blob.select(Blob.name, Blob.photo).tuples():
            if name not in on_disk:
                problems.append(f"photo {photo_id}: blob {name} missing")
        referenced = {name for (name,) in Blob.select(Blob.name).tuples()}
        problems += [f"blob {name} has no row" for name in on_disk - referenced if self.blobs.is_own(name)]
        for photo_id, count in (
            Photo.select(Photo.id, peewee.fn.COUNT(Blob.id)).join(Blob, peewee.JOIN.LEFT_OUTER)
            .group_by(Photo.id).tuples()
        ):
            if count != 3:
                problems.append(f"photo {photo_id}: {count} blobs instead of 3")
        return problems

    def analyze(self, progress: Progress = no_progress, cancel: threading.Event | None = None):
        """Tags, faces, people and the sensitive flag for photos not analysed yet (resumable).
        Raises VisionUnavailable when the recognition models are not installed."""
        from .. import organize

        self._require_open()
        return organize.analyze_pending(lambda pid: self.read_thumbnail(pid, "large"), progress, cancel)

    def photo_details(self, photo_ids: Sequence[int]):
        from .. import organize

        self._require_open()
        return organize.photo_details(photo_ids)
