"""The search field: what it suggests (tags, people, file names), asking the database for the
photos every word matches, and telling the gallery, Shared and Leaks views what was typed."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, QTimer
from PySide6.QtWidgets import QCompleter, QLineEdit

from app.core.organize import OrganiseSummary
from app.core.search import PhotoQuery
from app.workers.library_jobs import FindPhotosJob, FoundPhotos

from .base import WindowController

SEARCH_HINT = "Search names, tags, people, years"


class SearchController(WindowController):
    def __init__(self, window):
        super().__init__(window)
        self.field = QLineEdit()
        self.field.setObjectName("search")
        self.field.setPlaceholderText(SEARCH_HINT)
        self.field.setClearButtonEnabled(True)
        self.words = QStringListModel(self)
        self.completer = QCompleter(self.words, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setMaxVisibleItems(12)
        self.field.setCompleter(self.completer)
        self.field.setFixedWidth(260)
        self.field.setAcceptDrops(False)  # a drop anywhere means "import", even here
        self.field.textChanged.connect(self._on_search)
        self._last_summary: OrganiseSummary | None = None
        self._search_job: FindPhotosJob | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._search_db)
        self._was_searching = False
        window.library.search_all.toggled.connect(self._search_everywhere_toggled)

    def search_again(self) -> None:
        """Ask the database for the search's photos again, soon (what matches may have changed)."""
        self._timer.start()

    def update_words(self, summary: OrganiseSummary | None = None) -> None:
        """The completer's suggestions: the last summary's tags and names, and file names."""
        words: dict[str, None] = {}
        if summary is not None:
            self._last_summary = summary
        summary = self._last_summary
        if summary is not None:
            words.update((t.term, None) for t in summary.categories if t.count)
            words.update((t.term, None) for t in summary.labels)
            words.update((p.name, None) for p in summary.people if p.name)
        words.update((p.filename, None) for p in self.window.model.photos[:5000])
        self.words.setStringList(list(words))

    def _on_search(self, text: str) -> None:
        window = self.window
        searching = bool(text.strip())
        if searching and not self._was_searching:
            window.library.search_all.setChecked(True)  # every new search looks everywhere
            window.proxy.set_search_everywhere(True)
        window.proxy.set_text(text)
        if searching:
            self._timer.start()
        window.shares_page.set_text(text)
        window.leaks_page.set_text(text)
        if searching != self._was_searching and window.scope.kind == "people":
            self._was_searching = searching
            window.set_scope(window.scope)  # from the person list to the gallery of results, and back
        self._was_searching = searching
        window.update_header()
        window.update_scope_count()

    def _search_everywhere_toggled(self, everywhere: bool) -> None:
        self.window.proxy.set_search_everywhere(everywhere)
        self.window.update_header()
        self.window.update_scope_count()

    def _search_db(self) -> None:
        """The photos of the whole vault that every word matches (`app.core.search`); the proxy
        shows file-name and year matches meanwhile."""
        text = self.field.text().strip()
        if not text or not self.session.is_unlocked:
            return
        if self._search_job is not None:
            self._search_job.cancel()
        job = FindPhotosJob(self.session.vault, PhotoQuery(text=text))
        job.signals.finished.connect(self._search_found)
        self._search_job = job
        self.session.jobs.start(job, priority=2)

    def _search_found(self, found: FoundPhotos) -> None:
        self._search_job = None
        if self.session.is_unlocked:
            self.window.proxy.set_text_matches(found.query.text or "", found.ids)
            self.window.update_scope_count()
