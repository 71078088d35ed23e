"""Thumbnails for the views: `ThumbnailLoader` schedules `ThumbnailJob`s for the photos a view
paints (newest request first, far-scrolled ones dropped) and keeps the results in `PixmapCache`,
an LRU bounded by memory. Workers hand back `QImage`s; the `QPixmap`s are made here, on the UI
thread."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QPixmap

from app.workers.library_jobs import Thumbnail, ThumbnailJob
from app.workers.manager import JobManager
from app.workers.pictures import RevealState


class PixmapCache:
    """LRU of thumbnails by photo id, bounded by memory (decoded pixels are big)."""

    def __init__(self, budget_bytes: int = 160 * 1024 * 1024):
        self.budget = budget_bytes
        self._items: OrderedDict[int, QPixmap] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, photo_id: int) -> bool:
        return photo_id in self._items

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def get(self, photo_id: int) -> QPixmap | None:
        pixmap = self._items.get(photo_id)
        if pixmap is not None:
            self._items.move_to_end(photo_id)
        return pixmap

    def put(self, photo_id: int, pixmap: QPixmap) -> None:
        old = self._items.pop(photo_id, None)
        if old is not None:
            self._bytes -= _pixmap_bytes(old)
        self._items[photo_id] = pixmap
        self._bytes += _pixmap_bytes(pixmap)
        while self._bytes > self.budget and len(self._items) > 1:
            _, evicted = self._items.popitem(last=False)
            self._bytes -= _pixmap_bytes(evicted)

    def discard(self, photo_id: int) -> None:
        old = self._items.pop(photo_id, None)
        if old is not None:
            self._bytes -= _pixmap_bytes(old)

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0


def _pixmap_bytes(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * 4


class ThumbnailLoader(QObject):
    """Schedules `ThumbnailJob`s for requested photos; keeps the decoded results in an LRU."""

    ready = Signal(int)  # photo id

    MAX_JOBS = 2
    BATCH = 12
    MAX_PENDING = 240

    def __init__(self, jobs: JobManager, parent: QObject | None = None):
        super().__init__(parent)
        self.jobs = jobs
        self.vault = None
        self.edge = 176
        self.cache = PixmapCache()
        #: what the user chose to see sharp (the main window sets its SensitiveState here)
        self.reveal: Callable[[], RevealState] = RevealState
        self._blurred: set[int] = set()  # cached pixmaps that are blurred (sensitive, hidden)
        self._flagged: set[int] = set()
        self._pending: OrderedDict[int, None] = OrderedDict()
        self._in_flight: set[int] = set()
        self._broken: set[int] = set()
        self._running: set[ThumbnailJob] = set()
        self._dispatch_timer = QTimer(self)
        self._dispatch_timer.setSingleShot(True)
        self._dispatch_timer.setInterval(0)
        self._dispatch_timer.timeout.connect(self._dispatch)

    def set_vault(self, vault, edge: int) -> None:
        self.clear()
        self.vault = vault
        self.edge = edge

    def set_edge(self, edge: int) -> None:
        if edge != self.edge:
            vault = self.vault
            self.clear()
            self.vault = vault
            self.edge = edge

    def pixmap(self, photo_id: int) -> QPixmap | None:
        return self.cache.get(photo_id)

    def is_broken(self, photo_id: int) -> bool:
        return photo_id in self._broken

    def is_blurred(self, photo_id: int) -> bool:
        """The cached thumbnail is the blurred one (the photo is sensitive and not revealed)."""
        return photo_id in self._blurred

    def is_flagged(self, photo_id: int) -> bool:
        return photo_id in self._flagged

    def reload(self, photo_ids: Iterable[int] | None = None) -> None:
        """Sensitivity or reveal changed: drop these thumbnails (all: None) so they load again,
        blurred or sharp; the views repaint and ask for them."""
        ids = list(self.cache._items) if photo_ids is None else list(photo_ids)
        for photo_id in ids:
            self.cache.discard(photo_id)
            self._blurred.discard(photo_id)
            self._in_flight.discard(photo_id)  # a result already on its way is stale: ignored
            self.ready.emit(photo_id)

    def request(self, photo_id: int) -> None:
        if (self.vault is None or photo_id in self._in_flight or photo_id in self._broken
                or photo_id in self.cache):
            return
        self._pending[photo_id] = None
        self._pending.move_to_end(photo_id)
        while len(self._pending) > self.MAX_PENDING:
            self._pending.popitem(last=False)  # scrolled far away: not worth decrypting now
        if not self._dispatch_timer.isActive():
            self._dispatch_timer.start(0)

    def hold(self, ms: int = 80) -> None:
        """The view is scrolling: forget what was asked for and wait until it settles.

        While the user flings through thousands of rows, decrypting cells that are gone a frame
        later only competes with the UI thread; the cells still visible when the scrolling stops
        ask again in their next paint and are the only ones loaded.
        """
        self._pending.clear()
        self._dispatch_timer.start(ms)

    def forget(self, photo_ids: Iterable[int]) -> None:
        for photo_id in photo_ids:
            self.cache.discard(photo_id)
            self._blurred.discard(photo_id)
            self._pending.pop(photo_id, None)

    def clear(self) -> None:
        """Drop every decrypted pixmap and stop loading (lock, vault change)."""
        for job in list(self._running):
            job.cancel()
        self._running.clear()
        self._pending.clear()
        self._in_flight.clear()
        self._broken.clear()
        self._dispatch_timer.stop()
        self.cache.clear()
        self._blurred.clear()
        self._flagged.clear()
        self.vault = None

    def _dispatch(self) -> None:
        while self._pending and len(self._running) < self.MAX_JOBS and self.vault is not None:
            ids = []
            while self._pending and len(ids) < self.BATCH:
                photo_id, _ = self._pending.popitem(last=True)  # newest request first
                ids.append(photo_id)
            job = ThumbnailJob(self.vault, ids, self.edge, self.reveal())
            self._in_flight.update(ids)
            self._running.add(job)
            job.signals.loaded.connect(self._on_loaded)
            job.signals.finished.connect(lambda failed, job=job: self._on_job_done(job, failed))
            job.signals.failed.connect(lambda exc, job=job: self._on_job_done(job, []))
            job.signals.cancelled.connect(lambda job=job: self._on_job_done(job, []))
            self.jobs.start(job)

    def _on_loaded(self, thumbs: list[Thumbnail]) -> None:
        for thumb in thumbs:
            if thumb.photo_id not in self._in_flight or thumb.size != self.edge:
                continue  # cleared or resized meanwhile
            self._in_flight.discard(thumb.photo_id)
            (self._flagged.add if thumb.sensitive else self._flagged.discard)(thumb.photo_id)
            if thumb.image.isNull():
                self._broken.add(thumb.photo_id)
            else:
                (self._blurred.add if thumb.blurred else self._blurred.discard)(thumb.photo_id)
                self.cache.put(thumb.photo_id, QPixmap.fromImage(thumb.image))
            self.ready.emit(thumb.photo_id)

    def _on_job_done(self, job: ThumbnailJob, failed: list[int]) -> None:
        if job not in self._running:
            return  # cleared meanwhile
        self._running.discard(job)
        for photo_id in job.photo_ids:
            self._in_flight.discard(photo_id)
        self._broken.update(failed or [])
        for photo_id in failed or []:
            self.ready.emit(photo_id)
        if self._pending and not self._dispatch_timer.isActive():
            self._dispatch_timer.start(0)
