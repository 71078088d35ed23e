"""The library: listing, finding, thumbnails and full images (sensitive photos blurred in the
worker, before any sharp `QImage` of them exists), importing, exporting, deleting.

Images cross threads as `QImage`, which is implicitly shared and safe to hand over; `QPixmap` is
only ever made on the UI thread."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtGui import QImage

from app.core.search import PhotoQuery
from app.core.vault import ExportReport, ImportReport, PhotoInfo, Vault

from .base import Job, JobSignals
from .pictures import (
    NOTHING_REVEALED,
    RevealState,
    blurred_image,
    decode_for_display,
    sensitive_ids,
    square_thumbnail,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoundPhotos:
    query: PhotoQuery
    ids: frozenset[int]


class FindPhotosJob(Job):
    """A tag, person, flag or search-text query (see `app.core.search`), run off the UI thread."""

    def __init__(self, vault: Vault, query: PhotoQuery):
        super().__init__(vault)
        self.query = query

    def work(self) -> FoundPhotos:
        return FoundPhotos(self.query, frozenset(self.vault.find_photos(self.query)))


@dataclass(frozen=True)
class Thumbnail:
    photo_id: int
    size: int  # the square edge it was made for, in device pixels
    image: QImage
    sensitive: bool = False  # flagged (by the model or the user)
    blurred: bool = False  # blurred in the worker: no sharp copy of it exists in this process


class ThumbnailSignals(JobSignals):
    loaded = Signal(object)  # list[Thumbnail], a few at a time


class ThumbnailJob(Job):
    """Decrypt and decode a batch of small thumbnails; hands them over a few at a time."""

    def __init__(self, vault: Vault, photo_ids: list[int], edge: int, reveal: RevealState = NOTHING_REVEALED):
        super().__init__(vault)
        self.photo_ids = list(photo_ids)
        self.edge = edge
        self.reveal = reveal

    def make_signals(self) -> ThumbnailSignals:
        return ThumbnailSignals()

    def work(self) -> list[int]:
        batch: list[Thumbnail] = []
        failed: list[int] = []
        last_emit = time.monotonic()
        # Asked here, in the worker, not taken from the UI: a thumbnail decoded before the UI
        # learnt the flag would otherwise exist sharp.
        flagged = sensitive_ids(self.vault, self.photo_ids)
        for photo_id in self.photo_ids:
            self.check_cancelled()
            try:
                data = self.vault.read_thumbnail(photo_id, "small")
            except Exception:  # noqa: BLE001 - one damaged thumbnail must not stop the rest
                log.warning("thumbnail of photo %s could not be read", photo_id)
                failed.append(photo_id)
                continue
            sensitive = photo_id in flagged
            blur = sensitive and not self.reveal.shows(photo_id)
            try:
                decoded: bytes | QImage = blurred_image(data) if blur else data
            except Exception:  # noqa: BLE001 - never fall back to the sharp picture
                log.warning("thumbnail of photo %s could not be blurred", photo_id)
                failed.append(photo_id)
                continue
            batch.append(Thumbnail(photo_id, self.edge, square_thumbnail(decoded, self.edge), sensitive, blur))
            now = time.monotonic()
            if len(batch) >= 8 or now - last_emit > 0.05:
                self.signals.loaded.emit(batch)
                batch, last_emit = [], now
        if batch:
            self.signals.loaded.emit(batch)
        return failed


@dataclass(frozen=True)
class FullImage:
    photo_id: int
    info: PhotoInfo
    image: QImage
    sensitive: bool = False
    blurred: bool = False  # a blurred large thumbnail: the original was not decrypted


class FullImageJob(Job):
    def __init__(self, vault: Vault, photo_id: int, max_side: int = 4096, reveal: bool = False):
        super().__init__(vault)
        self.photo_id = photo_id
        self.max_side = max_side
        self.reveal = reveal

    def work(self) -> FullImage:
        info = self.vault.photo(self.photo_id)
        sensitive = bool(sensitive_ids(self.vault, [self.photo_id]))
        if sensitive and not self.reveal:
            # Until revealed, the original is not even decrypted: a blurred large thumbnail.
            image = blurred_image(self.vault.read_thumbnail(self.photo_id, "large"))
            return FullImage(self.photo_id, info, image, sensitive=True, blurred=True)
        data = self.vault.read_original(self.photo_id)
        self.check_cancelled()
        image = decode_for_display(data, self.max_side)
        del data
        return FullImage(self.photo_id, info, image, sensitive=sensitive)



class ImportSignals(JobSignals):
    photos_added = Signal(object)  # list[PhotoInfo], batched


class ImportJob(Job):
    lane = "vault-write"
    title = "Adding photos"

    #: Batching: the gallery gets new photos at most this often (seconds) or this many at once.
    BATCH_SECONDS = 0.25
    BATCH_SIZE = 32

    def __init__(self, vault: Vault, paths: list[str]):
        super().__init__(vault)
        self.paths = [str(p) for p in paths]
        self._pending: list[int] = []
        self._last_flush = 0.0

    def make_signals(self) -> ImportSignals:
        return ImportSignals()

    def _on_imported(self, photo_id: int) -> None:
        self._pending.append(photo_id)
        now = time.monotonic()
        if len(self._pending) >= self.BATCH_SIZE or now - self._last_flush >= self.BATCH_SECONDS:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        ids, self._pending = self._pending, []
        self._last_flush = time.monotonic()
        self.signals.photos_added.emit(self.vault.list_photos(ids=ids))

    def work(self) -> ImportReport:
        self._last_flush = time.monotonic()
        try:
            report = self.vault.import_paths(self.paths, progress=self.report_progress,
                                             cancel=self.cancel_event, on_imported=self._on_imported)
        finally:
            self._flush()
        return report


class ExportJob(Job):
    lane = "vault-write"
    title = "Exporting photos"

    def __init__(self, vault: Vault, photo_ids: list[int], out_dir: str):
        super().__init__(vault)
        self.photo_ids = list(photo_ids)
        self.out_dir = out_dir

    def work(self) -> ExportReport:
        return self.vault.export(self.photo_ids, self.out_dir, progress=self.report_progress,
                                 cancel=self.cancel_event)


@dataclass(frozen=True)
class DeleteResult:
    deleted: list[int]


class DeleteJob(Job):
    lane = "vault-write"
    title = "Deleting photos"
    cancellable = False  # each photo goes in its own transaction; a half-done delete is confusing

    def __init__(self, vault: Vault, photo_ids: list[int], keep_leak_records: bool = True):
        super().__init__(vault)
        self.photo_ids = list(photo_ids)
        self.keep_leak_records = keep_leak_records

    def work(self) -> DeleteResult:
        deleted: list[int] = []
        total = len(self.photo_ids)
        self.report_progress(0, total)
        # One call per photo so progress moves; the core deletes each in its own transaction.
        for n, photo_id in enumerate(self.photo_ids, 1):
            deleted += self.vault.delete([photo_id], keep_leak_records=self.keep_leak_records)
            self.report_progress(n, total)
        return DeleteResult(deleted)


