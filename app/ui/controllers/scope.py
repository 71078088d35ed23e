"""What the library shows: the scope chosen in the sidebar (and the database query a tag, person
or sensitive scope needs), the header over the middle view, and the counts, the sidebar's
recounted shortly after the photos change."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from app.core.search import PhotoQuery
from app.workers.library_jobs import FindPhotosJob, FoundPhotos

from ..photo_model import recent_import_cutoff
from ..sidebar import Scope
from .base import WindowController
from .search import SEARCH_HINT


class ScopeController(WindowController):
    def __init__(self, window):
        super().__init__(window)
        self._scope_job: FindPhotosJob | None = None
        window.sidebar.scope_selected.connect(self._sidebar_scope)
        # Recounted once the rows settle, not after each row an import adds.
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(300)
        self._counts_timer.timeout.connect(self.refresh_counts)
        window.proxy.rowsInserted.connect(self._schedule_counts)
        window.proxy.rowsRemoved.connect(self._schedule_counts)
        window.proxy.modelReset.connect(self._schedule_counts)

    def set_scope(self, scope: Scope) -> None:
        window = self.window
        window.scope = scope
        # (a search from the People view shows its photos in the gallery)
        shared, leaks, people = scope.kind == "shared", scope.kind == "leaks", window.showing_people
        window.library.middle.setCurrentWidget(window.shares_page if shared else window.leaks_page if leaks
                                               else window.people_page if people else window.gallery)
        window.search.setPlaceholderText("Search recipients, photos, share IDs" if shared
                                         else "Search places, photos, statuses" if leaks else SEARCH_HINT)
        self.update_header()
        if people:
            window.detail.show_text("Double-click a person to see their photos.\n\nSelect one and press Rename… "
                                    "(or F2) to name them; select two and press Merge if they are the same person.")
            window.people_controller.reload_people()
            self.update_scope_count()
            window.update_actions()
            return
        if shared or leaks:
            self.update_scope_count()
            if shared:
                window.shares_controller.selection_changed()
            else:
                window.leaks_controller.selection_changed(window.leaks_page.table.selected_match())
            return
        window.selection_changed()
        after, before = scope.date_range()
        imported_after = recent_import_cutoff() if scope.kind == "recent" else None
        window.proxy.set_scope(after=after, before=before, imported_after=imported_after,
                               ids=frozenset() if scope.needs_query else None)
        self.update_scope_count()
        if scope.needs_query:
            window.gallery.empty_text = "Looking…"
            self.query_scope()

    def query_scope(self) -> None:
        """Ask the DB which photos a tag / person / sensitive scope holds (again)."""
        scope = self.window.scope
        if not scope.needs_query or not self.session.is_unlocked:
            return
        query = PhotoQuery(tag=scope.tag or None, person=scope.person if scope.kind == "person" else None,
                           sensitive=True if scope.kind == "sensitive" else None)
        if self._scope_job is not None:
            self._scope_job.cancel()
        self._scope_job = self.run_job(FindPhotosJob(self.session.vault, query), self._scope_found, priority=2)

    def _scope_found(self, found: FoundPhotos) -> None:
        if self._scope_job is None or found.query != self._scope_job.query:
            return
        self._scope_job = None
        window = self.window
        if self.session.is_unlocked and window.scope.needs_query:
            window.proxy.set_scope_ids(found.ids)
            self.update_scope_count()
            window.gallery.viewport().update()

    def _sidebar_scope(self, scope: Scope) -> None:
        """Going somewhere in the sidebar ends a search: the gallery shows what the entry says."""
        if self.window.searching:
            self.window.search.clear()
        self.set_scope(scope)

    def update_header(self) -> None:
        """The gallery header: the sidebar entry shown, or the search and where it looks."""
        window, lib = self.window, self.window.library
        if not window.searching:
            lib.scope_title.setText(window.scope.title)
            lib.search_scope.hide()
            return
        text = window.search.text().strip()
        lib.scope_title.setText(f"Results for “{text if len(text) <= 40 else text[:39] + '…'}”")
        narrowable = window.scope.kind not in ("all", "people")
        lib.search_all.setVisible(narrowable)
        lib.search_here.setVisible(narrowable)
        lib.search_here.setText(window.scope.title)
        lib.search_in.setText("Search in:" if narrowable else "in all photos")
        lib.search_scope.show()

    def _schedule_counts(self, *args) -> None:
        if not self._counts_timer.isActive():
            self._counts_timer.start()

    def refresh_counts(self) -> None:
        window = self.window
        window.sidebar_model.update_from(window.model.photos)
        self.update_scope_count()
        window.update_search_words()

    def update_scope_count(self) -> None:
        window = self.window
        count = window.library.scope_count
        if window.showing_people:
            n = window.people_model.rowCount()
            count.setText(f"{n:,} {'people' if n != 1 else 'person'}")
            return
        if window.showing_leaks:
            shown = window.leaks_page.proxy.rowCount()
            count.setText(f"{shown:,} found cop{'ies' if shown != 1 else 'y'}")
            return
        if window.showing_shares:
            shown = window.shares_page.proxy.rowCount()
            count.setText(f"{shown:,} protected cop{'ies' if shown != 1 else 'y'}")
            return
        shown = window.proxy.rowCount()
        count.setText(f"{shown:,} photo{'s' if shown != 1 else ''}")
        if window.model.rowCount() and not shown:
            if window.searching and not window.proxy.search_everywhere:
                window.gallery.empty_text = (f"Nothing in {window.scope.title} matches.\n\n"
                                             "Choose “All photos” above to search the whole vault.")
            else:
                window.gallery.empty_text = "No photos match."
        elif not window.model.rowCount() and self.session.is_unlocked:
            window.gallery.empty_text = ("Your vault is empty.\n\nDrag photos or folders onto this window "
                                         "to add them. They are encrypted as they arrive.")
