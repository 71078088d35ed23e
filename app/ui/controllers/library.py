"""The photos themselves: listing them after unlocking, import (files, folders, drops), export,
delete, the gallery's context menu and the viewer (open, step through, close)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QMenu

from app.core.vault import ExportReport, ImportReport, PhotoInfo
from app.core.words import plural
from app.workers.base import CallJob
from app.workers.library_jobs import DeleteJob, DeleteResult, ExportJob, ImportJob

from .. import dialogs
from ..library_page import PAGE_LIBRARY, PAGE_UNLOCK, PAGE_VIEWER
from ..photo_model import Roles
from .base import WindowController


class LibraryController(WindowController):
    import_finished = Signal(object)  # ImportReport
    photos_loaded = Signal(int)  # rows after the first listing

    def __init__(self, window):
        super().__init__(window)
        window.gallery.activated_photo.connect(self.open_viewer)
        window.gallery.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        window.gallery.customContextMenuRequested.connect(self.gallery_menu)
        window.viewer.closed.connect(self.close_viewer)
        window.viewer.navigate.connect(self._navigate_viewer)

    def load(self) -> None:
        """List the vault's photos (after unlocking)."""
        vault = self.session.vault
        self.run_job(CallJob(vault, vault.list_photos, newest_first=True), self._photos_listed, priority=2)

    def _photos_listed(self, photos: list[PhotoInfo]) -> None:
        if not self.session.is_unlocked:
            return
        window = self.window
        window.model.set_photos(photos)
        window.gallery.empty_text = ("Your vault is empty.\n\nDrag photos or folders onto this window "
                                     "to add them. They are encrypted as they arrive.")
        window.gallery.viewport().update()
        window.refresh_counts()
        window.update_actions()
        self.photos_loaded.emit(len(photos))

    def gallery_menu(self, pos: QPoint) -> QMenu | None:
        window, gallery = self.window, self.window.gallery
        index = gallery.indexAt(pos)
        if not index.isValid() or not self.session.is_unlocked:
            return None
        if not gallery.selectionModel().isSelected(index):
            gallery.setCurrentIndex(index)  # right-click on an unselected photo selects it
        menu = QMenu(window)
        photo_id = index.data(Roles.PhotoId)
        menu.addAction("Open", lambda: self.open_viewer(photo_id))
        share = menu.addAction("Share…", window.share_photo)
        share.setEnabled(window.share_action.isEnabled())
        menu.addSeparator()
        ids = window.selected_ids()
        sensitive, loader = window.sensitive, window.loader
        flagged = [i for i in ids if sensitive.is_flagged(i) or loader.is_flagged(i)]
        if len(flagged) < len(ids):
            menu.addAction("Mark as sensitive", lambda: window.set_sensitive(ids, True)).setObjectName("markSensitive")
        if flagged:
            menu.addAction("Not sensitive", lambda: window.set_sensitive(flagged, False)).setObjectName(
                "unmarkSensitive")
        hidden = [i for i in flagged if loader.is_blurred(i)]
        if hidden:
            menu.addAction("Reveal", lambda: [sensitive.reveal(i) for i in hidden]).setObjectName("revealPhotos")
        menu.addSeparator()
        menu.addAction("Export…", self.export_selected)
        menu.addAction("Delete", self.delete_selected)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(gallery.viewport().mapToGlobal(pos))
        return menu

    # --- viewer -----------------------------------------------------------------------------------

    def open_viewer(self, photo_id: int) -> None:
        window = self.window
        row = window.model.row_of(photo_id)
        if row is None or not self.session.is_unlocked:
            return
        window.viewer.show_photo(window.model.photo_at(row))
        window.stack.setCurrentIndex(PAGE_VIEWER)
        window.viewer.setFocus()
        window.update_actions()

    def close_viewer(self) -> None:
        window = self.window
        photo_id = window.viewer.photo_id
        window.viewer.clear()
        window.stack.setCurrentIndex(PAGE_LIBRARY if self.session.is_unlocked else PAGE_UNLOCK)
        window.update_actions()
        if photo_id is not None and window.showing_gallery:
            row = window.model.row_of(photo_id)
            if row is not None:
                index = window.proxy.mapFromSource(window.model.index(row, 0))
                if index.isValid():
                    window.gallery.setCurrentIndex(index)
                    window.gallery.scrollTo(index)
        (window.shares_page.table if window.showing_shares else window.leaks_page.table if window.showing_leaks
         else window.gallery).setFocus()

    def _navigate_viewer(self, step: int) -> None:
        window = self.window
        if window.viewer.photo_id is None:
            return
        row = window.model.row_of(window.viewer.photo_id)
        if row is None:
            return
        index = window.proxy.mapFromSource(window.model.index(row, 0))
        target = window.proxy.index(index.row() + step, 0) if index.isValid() else QModelIndex()
        if target.isValid():
            window.viewer.show_photo(target.data(Roles.Info))

    # --- import --------------------------------------------------------------------------------------

    def choose_and_import_files(self) -> None:
        files = dialogs.choose_files(self.window, "Add photos", purpose="import")
        if files:
            self.start_import(files)

    def choose_and_import_folder(self) -> None:
        folder = dialogs.choose_folder(self.window, "Add a folder of photos", purpose="import")
        if folder:
            self.start_import([folder])

    def start_import(self, paths: list[str]) -> ImportJob | None:
        if not self.session.is_unlocked or not paths:
            self.show_status("Unlock the vault first, then drop the photos again.", 8000)
            return None
        job = ImportJob(self.session.vault, paths)
        job.signals.photos_added.connect(self._photos_added)
        job.signals.finished.connect(self._import_done)
        job.signals.failed.connect(self.window.job_failed)
        job.signals.cancelled.connect(lambda: self.show_status("Import cancelled.", 8000))
        self.window.start_long_job(job)
        return job

    def _photos_added(self, photos: list[PhotoInfo]) -> None:
        if self.session.is_unlocked:
            self.window.model.add_photos(photos)

    def _import_done(self, report: ImportReport) -> None:
        parts = [f"Added {len(report.imported):,} photo{'s' if len(report.imported) != 1 else ''}"]
        if report.duplicates:
            parts.append(f"{len(report.duplicates):,} already in the vault")
        if report.errors:
            parts.append(f"{len(report.errors):,} could not be added (listed below)")
        message = ", ".join(parts) + "."
        if report.cancelled:
            message = "Import stopped. " + message
        self.show_status(message, 15000)
        if report.errors:
            self.window.problems.show_problems(
                f"{len(report.errors):,} file{'s' if len(report.errors) != 1 else ''} could not be added",
                report.errors)
        if report.imported:
            self.window.organiser.request()  # tags, faces, the sensitive flag: in the background
        self.import_finished.emit(report)

    # --- export and delete -------------------------------------------------------------------------

    def export_selected(self) -> None:
        ids = self.window.selected_ids()
        if not ids or not self.session.is_unlocked:
            return
        folder = dialogs.choose_folder(self.window, f"Export {len(ids)} photo{'s' if len(ids) != 1 else ''} to…",
                                       purpose="export")
        if not folder or not self.session.is_unlocked:
            return
        job = ExportJob(self.session.vault, ids, folder)
        job.signals.finished.connect(lambda report, folder=folder: self._export_done(report, folder))
        job.signals.failed.connect(self.window.job_failed)
        self.window.start_long_job(job)

    def _export_done(self, report: ExportReport, folder: str) -> None:
        n = len(report.exported)
        self.show_status(
            f"Exported {n:,} photo{'s' if n != 1 else ''} to {folder}. These copies are not encrypted.", 15000)
        if report.errors:
            self.window.problems.show_problems(f"{len(report.errors):,} photos could not be exported",
                                               report.errors)

    def delete_selected(self) -> None:
        ids = self.window.selected_ids()
        if not ids or not self.session.is_unlocked:
            return
        n = len(ids)
        names = [info.filename for info in (self.window.photo_info(i) for i in ids[:3]) if info is not None]
        if n == 1 and names:
            title, text = "Delete this photo?", f"Delete “{names[0]}” from the vault?"
            informative = "It is destroyed, not moved to a bin. Export it first if you want to keep a copy."
        else:
            more = f" and {n - len(names):,} more" if n > len(names) else ""
            title, text = "Delete photos?", f"Delete {plural(n, 'photo')} from the vault?"
            informative = (f"{', '.join(names)}{more}.\n\nThey are destroyed, not moved to a bin. Export "
                           "them first if you want to keep a copy.")
        pixmap = self._thumbnail_strip(ids)
        chosen = set(ids)
        found = sum(1 for m in self.window.leaks_model.matches if m.photo_id in chosen)
        keep_leak_records = True
        if found:
            # The pictures of found copies show the photo: they always go. The text record
            # (where, when, removal requests) is evidence the user may still need.
            copies = plural(found, "found copy", "found copies")
            ok, forget = dialogs.confirm_with_option(
                self.window, title, text, "Delete", f"Also forget the {copies} (addresses, dates, requests)",
                destructive=True, pixmap=pixmap,
                informative=f"{informative}\n\nThe pictures of the {copies} of "
                            f"{'these photos' if n != 1 else 'this photo'} are deleted too. Where and "
                            "when they were found, and your removal requests, are kept as a record "
                            "unless you tick the box.")
            keep_leak_records = not forget
        else:
            ok = dialogs.confirm(self.window, title, text, "Delete", destructive=True, informative=informative,
                                 pixmap=pixmap)
        if not ok or not self.session.is_unlocked:
            return
        job = DeleteJob(self.session.vault, ids, keep_leak_records=keep_leak_records)
        job.signals.finished.connect(lambda result: self._delete_done(result, reload_leaks=bool(found)))
        job.signals.failed.connect(self.window.job_failed)
        self.window.start_long_job(job)


    def _thumbnail_strip(self, photo_ids: list[int], edge: int = 72) -> QPixmap | None:
        """Up to four of these photos as the gallery shows them (blurred when it blurs them)."""
        loader = self.window.loader
        pixmaps = [p for p in (loader.pixmap(i) for i in photo_ids[:4]) if p is not None and not p.isNull()]
        if not pixmaps:
            return None
        ratio = self.window.devicePixelRatioF()
        gap = 6
        strip = QPixmap(int((len(pixmaps) * (edge + gap) - gap) * ratio), int(edge * ratio))
        strip.setDevicePixelRatio(ratio)
        strip.fill(Qt.GlobalColor.transparent)
        painter = QPainter(strip)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        for k, pixmap in enumerate(pixmaps):
            painter.drawPixmap(QRect(k * (edge + gap), 0, edge, edge), pixmap)
        painter.end()
        return strip

    def _delete_done(self, result: DeleteResult, reload_leaks: bool = False) -> None:
        window = self.window
        if reload_leaks:  # their pictures (or records) are gone: show what the vault now holds
            window.leaks_page.reload()
        window.model.remove_ids(result.deleted)
        window.loader.forget(result.deleted)
        window.shares_model.photos_deleted(result.deleted)  # the records stay; the photo is gone
        window.organiser.refresh_summary()  # tag, people and sensitive counts in the sidebar
        window.query_scope()
        n = len(result.deleted)
        self.show_status(f"Deleted {n:,} photo{'s' if n != 1 else ''}.", 10000)
