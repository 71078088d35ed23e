"""The main window: unlock screen, library (sidebar, gallery, shares or leaks, details) and
viewer in one stack; toolbar, search, drag-and-drop import with status-bar progress, export,
delete, share, check an image, scan for leaks and request removals, lock; organising in the
background (tags, people, sensitive photos) with the People view and search suggestions."""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, QPoint, QRect, QSize, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QCursor,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QPainter,
    QPixmap,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.organize import OrganiseSummary, PersonEdit
from app.core.search import PhotoQuery
from app.core.vault import (
    ExportReport,
    ImportReport,
    LeakMatchInfo,
    PhotoInfo,
    ScanOutcome,
    ShareInfo,
    ShareOutcome,
    TakedownInfo,
)
from app.core.words import plural
from app.workers.base import Job
from app.workers.library_jobs import (
    DeleteJob,
    DeleteResult,
    ExportJob,
    FindPhotosJob,
    FoundPhotos,
    ImportJob,
    ListPhotosJob,
)
from app.workers.people_jobs import (
    ListPeopleJob,
    OrganiseChunk,
    OrganiseResult,
    PeopleList,
    PersonEditJob,
    SensitiveChange,
    SetSensitiveJob,
)
from app.workers.share_jobs import ListSharesJob, ShareList

from . import dialogs
from . import settings as app_settings
from .errors import describe
from .gallery import (
    GalleryDelegate,
    GalleryView,
    PhotoFilterProxy,
    PhotoListModel,
    Roles,
    ThumbnailLoader,
    recent_import_cutoff,
)
from .jobs_ui import JobProgress, ProblemsPanel
from .leaks_view import LeaksPage, LeaksTableModel, rescan_places
from .organize_ui import OrganiseController, OrganiseStatus, SensitiveState
from .people_view import PeopleModel, PeoplePage
from .resources import app_icon
from .session import Session
from .settings_dialog import SettingsDialog
from .shares_view import SharesPage, SharesTableModel, share_line
from .sidebar import Scope, SidebarModel, SidebarView
from .single_file_drop import local_paths
from .unlock import UnlockPage
from .viewer import MetadataPanel, ViewerPage, _size_text

log = logging.getLogger(__name__)

PAGE_UNLOCK, PAGE_LIBRARY, PAGE_VIEWER = range(3)
SEARCH_HINT = "Search names, tags, people, years"


def settle_after_popup(button: QToolButton) -> None:
    """A tool button with a menu keeps its hover (and sometimes pressed) look after the menu or
    the dialog its action opens took the mouse: the pointer left while something else held it,
    so no Leave event came. Once that closes, look where the pointer really is."""
    def settle() -> None:
        button.setDown(False)
        inside = button.isVisible() and button.rect().contains(button.mapFromGlobal(QCursor.pos()))
        button.setAttribute(Qt.WidgetAttribute.WA_UnderMouse, inside)
        button.update()

    def later() -> None:
        QTimer.singleShot(0, settle)  # after the popup's own mouse release is handled

    if button.menu() is not None:
        button.menu().aboutToHide.connect(later)
    button.triggered.connect(later)  # the action's dialog took the mouse the same way


class DropOverlay(QWidget):
    """Shown over the window while files are dragged over it."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("dropOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QVBoxLayout(self)
        label = QLabel("Drop photos or folders to add them to your vault")
        label.setObjectName("dropOverlayText")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)
        self.hide()


class DetailPane(QFrame):
    """What is selected: one photo's details, or how many are selected."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("detailPane")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel()
        self.summary.setObjectName("detailSummary")
        self.summary.setWordWrap(True)
        self.summary.setMargin(12)
        self.meta = MetadataPanel()
        layout.addWidget(self.summary)
        layout.addWidget(self.meta, 1)
        self.show_selection([])

    def show_text(self, text: str) -> None:
        self.meta.hide()
        self.summary.show()
        self.summary.setText(text)

    def show_selection(self, infos: list[PhotoInfo]) -> None:
        if len(infos) == 1:
            self.summary.hide()
            self.meta.show()
            self.meta.show_info(infos[0])
            return
        self.meta.hide()
        self.summary.show()
        if not infos:
            self.summary.setText("Select a photo to see its details.\n\nDouble-click to open it.")
        else:
            total = sum(i.size_bytes for i in infos)
            self.summary.setText(f"{len(infos):,} photos selected\n{_size_text(total)} in all")


class LibraryPage(QWidget):
    def __init__(self, sidebar: SidebarView, gallery: GalleryView, problems: ProblemsPanel,
                 detail: DetailPane, shares: SharesPage, leaks: LeaksPage, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        sidebar.setMinimumWidth(190)
        splitter.addWidget(sidebar)
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.setSpacing(0)
        header = QFrame()
        header.setObjectName("galleryHeader")
        header_layout = QHBoxLayout(header)
        self.scope_title = QLabel("All photos")
        self.scope_title.setObjectName("scopeTitle")
        self.scope_count = QLabel()
        self.scope_count.setProperty("muted", True)
        header_layout.addWidget(self.scope_title)
        header_layout.addWidget(self.scope_count)
        header_layout.addStretch(1)
        # While searching: where the search looks. The whole vault unless the user narrows it
        # to what the sidebar shows; saying so, so an empty result is never a silent surprise.
        self.search_scope = QWidget()
        self.search_scope.setObjectName("searchScope")
        scope_layout = QHBoxLayout(self.search_scope)
        scope_layout.setContentsMargins(0, 0, 0, 0)
        scope_layout.setSpacing(4)
        self.search_in = QLabel("Search in:")
        self.search_in.setProperty("muted", True)
        self.search_all = QToolButton()
        self.search_all.setText("All photos")
        self.search_here = QToolButton()
        self.search_buttons = QButtonGroup(self.search_scope)
        for button in (self.search_all, self.search_here):
            button.setObjectName("searchScopeButton")
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.search_buttons.addButton(button)
        self.search_all.setChecked(True)
        self.search_here.setToolTip("Search only the photos of the view chosen in the sidebar")
        scope_layout.addWidget(self.search_in)
        scope_layout.addWidget(self.search_all)
        scope_layout.addWidget(self.search_here)
        header_layout.addWidget(self.search_scope)
        self.search_scope.hide()
        middle_layout.addWidget(header)
        # The gallery, the table of shares ("Shared") or of found copies ("Leaks").
        self.middle = QStackedWidget()
        self.middle.addWidget(gallery)
        self.middle.addWidget(shares)
        self.middle.addWidget(leaks)
        self.gallery_widget, self.shares_widget, self.leaks_widget = gallery, shares, leaks
        middle_layout.addWidget(self.middle, 1)
        middle_layout.addWidget(problems)
        splitter.addWidget(middle)
        detail.setMinimumWidth(240)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes([210, 800, 260])
        layout.addWidget(splitter)


class MainWindow(QMainWindow):
    import_finished = Signal(object)  # ImportReport (tests and the benchmark wait on it)
    photos_loaded = Signal(int)  # rows after the first listing

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.session = session
        self.setWindowTitle("Sanctum")
        self.setWindowIcon(app_icon())
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self._settings_dialog: SettingsDialog | None = None

        # Models and views
        self.model = PhotoListModel(self)
        self.proxy = PhotoFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.loader = ThumbnailLoader(session.jobs, self)
        self.loader.ready.connect(self.model.thumbnail_ready)
        self.sensitive = SensitiveState(self)
        self.sensitive.changed.connect(self._sensitive_changed)
        self.loader.reveal = self.sensitive.snapshot
        self.delegate = GalleryDelegate(self.loader, self)
        self.gallery = GalleryView(self.delegate)
        self.gallery.setModel(self.proxy)
        self.gallery.activated_photo.connect(self.open_viewer)
        self.gallery.selectionModel().selectionChanged.connect(self._selection_changed)
        self.sidebar_model = SidebarModel(self)
        self.sidebar = SidebarView(self.sidebar_model)
        self.sidebar.scope_selected.connect(self._sidebar_scope)
        self.gallery.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.gallery.customContextMenuRequested.connect(self._gallery_menu)
        self.shares_model = SharesTableModel(self, photo_lookup=self._photo_info, thumbnails=self.loader)
        self.loader.ready.connect(self.shares_model.thumbnail_ready)
        self.shares_page = SharesPage(self.shares_model)
        self.shares_page.table.activated_share.connect(self.open_share)
        self.shares_page.table.selectionModel().selectionChanged.connect(self._share_selection_changed)
        self.shares_model.modelReset.connect(self._shares_changed)
        self.shares_model.rowsInserted.connect(self._shares_changed)
        self.model.modelReset.connect(self.shares_model.photo_names_changed)
        self.leaks_model = LeaksTableModel(self, photo_lookup=self._photo_info, thumbnails=self.loader)
        self.loader.ready.connect(self.leaks_model.thumbnail_ready)
        self.model.modelReset.connect(self.leaks_model.photo_names_changed)
        self.leaks_page = LeaksPage(self.leaks_model)
        self.leaks_page.attach(session)
        self.leaks_page.reveal = lambda: self.sensitive.snapshot()
        self.leaks_page.match_selected.connect(self._leak_selection_changed)
        self.leaks_page.request_deletion.connect(lambda match: self.open_takedown(match))
        self.leaks_page.open_request.connect(self._open_request)
        self.leaks_model.modelReset.connect(self._leaks_changed)
        self._scan_dialog = None  # ScanDialog while open
        self._takedown_dialog = None  # TakedownDialog while open
        self.problems = ProblemsPanel()
        self.detail = DetailPane()
        self.detail.meta.shares_lookup = self.shares_model.shares_for
        self.library = LibraryPage(self.sidebar, self.gallery, self.problems, self.detail, self.shares_page,
                                   self.leaks_page)
        self.unlock_page = UnlockPage(session)
        self.viewer = ViewerPage(session)
        self.viewer.closed.connect(self.close_viewer)
        self.viewer.navigate.connect(self._navigate_viewer)
        self.viewer.share_requested.connect(self.share_photo)
        self.viewer.panel.shares_lookup = self.shares_model.shares_for
        self.viewer.sensitive = self.sensitive
        self.viewer.sensitive_requested.connect(lambda pid, on: self.set_sensitive([pid], on))
        self.detail.meta.session = session
        self.people_summary: list = []
        for panel in (self.viewer.panel, self.detail.meta):
            panel.organise.edit_requested.connect(self.edit_people)
            panel.organise.people_lookup = lambda: self.people_summary
        self.people_model = PeopleModel(self)
        self.people_page = PeoplePage(self.people_model)
        self.people_page.open_person.connect(self.open_person)
        self.people_page.rename_requested.connect(lambda pid, name: self.edit_people(PersonEdit("name", pid, name=name)))
        self.people_page.merge_requested.connect(
            lambda keep, absorb: self.edit_people(PersonEdit("merge", keep, other_id=absorb)))
        self.library.middle.addWidget(self.people_page)
        self._people_job: ListPeopleJob | None = None
        self._scope_job: FindPhotosJob | None = None
        self._search_job: FindPhotosJob | None = None
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self._search_db)
        self._was_searching = False
        self.library.search_all.toggled.connect(self._search_everywhere_toggled)
        self.organiser = OrganiseController(session, self)
        self.organiser.chunk_done.connect(self._organise_chunk)
        self.organiser.finished.connect(self._organise_done)
        self.organiser.summary_ready.connect(self._organise_summary)
        self.organiser.unavailable.connect(lambda text: self.statusBar().showMessage(text, 30000))
        self._share_dialog = None  # ShareDialog while open (imported when first used)
        self._check_dialog = None  # CheckDialog while open
        self.stack = QStackedWidget()
        self.stack.addWidget(self.unlock_page)
        self.stack.addWidget(self.library)
        self.stack.addWidget(self.viewer)
        self.setCentralWidget(self.stack)
        self.overlay = DropOverlay(self)
        self.scope = Scope("all")

        self._build_toolbar()
        self.job_progress = JobProgress()
        self.statusBar().addPermanentWidget(self.job_progress)
        self.organise_status = OrganiseStatus(self.organiser)
        self.statusBar().addPermanentWidget(self.organise_status)
        self._sidebar_timer = QTimer(self)
        self._sidebar_timer.setSingleShot(True)
        self._sidebar_timer.setInterval(300)
        self._sidebar_timer.timeout.connect(self._refresh_counts)
        self.proxy.rowsInserted.connect(self._schedule_counts)
        self.proxy.rowsRemoved.connect(self._schedule_counts)
        self.proxy.modelReset.connect(self._schedule_counts)

        session.unlocked.connect(self._on_unlocked)
        session.locking.connect(self._on_locking)
        session.locked.connect(self._on_locked)
        session.settings_changed.connect(self._on_settings_changed)
        self._show_locked_ui()
        self.unlock_page.reset()

    # --- building ------------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(bar)
        self.toolbar = bar

        self.import_action = QAction("Add photos", self)
        self.import_action.setShortcut(QKeySequence.StandardKey.Open)
        self.import_action.triggered.connect(self.choose_and_import_files)
        menu = QMenu(self)
        menu.addAction("Add photos…", self.choose_and_import_files)
        menu.addAction("Add a folder…", self.choose_and_import_folder)
        self.import_button = QToolButton()
        self.import_button.setObjectName("importButton")
        self.import_button.setDefaultAction(self.import_action)
        self.import_button.setMenu(menu)
        self.import_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        settle_after_popup(self.import_button)
        self.import_button.setToolTip("Add photos or folders (or drop them onto the window)")
        bar.addWidget(self.import_button)

        self.export_action = bar.addAction("Export…", self.export_selected)
        self.export_action.setToolTip("Write the selected photos, decrypted, to a folder")
        self.delete_action = bar.addAction("Delete", self.delete_selected)
        self.delete_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.delete_action.setToolTip("Remove the selected photos from the vault for good")
        bar.addSeparator()
        self.share_action = bar.addAction("Share…", self.share_photo)
        self.share_action.setToolTip("Save a protected copy of the selected photo for one person: "
                                     "if it leaks, you can tell whose copy it was")
        # One way to check a found photo: marks, signature, share record and immunization.
        self.check_action = bar.addAction("Check an image…", lambda: self.open_check())
        self.check_action.setToolTip("Check a photo you found: whether it is one of your copies, who it "
                                     "was shared with, and whether and where it was altered")
        self.check_button = bar.widgetForAction(self.check_action)
        self.check_button.setObjectName("checkButton")
        settle_after_popup(self.check_button)  # its dialog takes the mouse: no stuck highlight after
        self.scan_action = bar.addAction("Scan for leaks…", self.open_scan)
        self.scan_action.setToolTip("Look for your photos on web pages, image addresses or folders — also "
                                    "cropped, rotated or screenshotted copies — and ask for their removal")
        bar.widgetForAction(self.share_action).setObjectName("shareButton")
        bar.widgetForAction(self.scan_action).setObjectName("scanButton")
        bar.addSeparator()
        self.settings_action = bar.addAction("Settings", self.open_settings)
        self.lock_action = bar.addAction("Lock", lambda: self.session.lock("manual"))
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.setToolTip("Lock now (Ctrl+L): keys are dropped and photos cleared from the screen")
        for action in (self.export_action, self.delete_action, self.settings_action, self.lock_action):
            bar.widgetForAction(action).setObjectName(action.text().strip("…").lower() + "Button")
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(SEARCH_HINT)
        self.search.setClearButtonEnabled(True)
        self.search_words = QStringListModel(self)
        self.completer = QCompleter(self.search_words, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setMaxVisibleItems(12)
        self.search.setCompleter(self.completer)
        self.search.setFixedWidth(260)
        self.search.setAcceptDrops(False)  # a drop anywhere means "import", even here
        self.search.textChanged.connect(self._on_search)
        bar.addWidget(self.search)
        self.addAction(self.lock_action)
        self._update_actions()

    # --- session ----------------------------------------------------------------------------------

    def _show_locked_ui(self) -> None:
        self.toolbar.hide()
        self.stack.setCurrentIndex(PAGE_UNLOCK)

    def _on_unlocked(self) -> None:
        vault = self.session.vault
        self.sensitive.clear()
        self.sensitive.set_reveal_all(bool(app_settings.read(app_settings.SHOW_SENSITIVE)))
        self.loader.set_vault(vault, self.session.thumbnail_edge)
        self.gallery.apply_cell_size()
        self.gallery.empty_text = "Loading…"
        self.toolbar.show()
        self.stack.setCurrentIndex(PAGE_LIBRARY)
        self.sidebar.select_scope(Scope("all"))
        self.gallery.setFocus()
        job = ListPhotosJob(vault)
        job.signals.finished.connect(self._photos_listed)
        job.signals.failed.connect(self._job_failed)
        self.session.jobs.start(job, priority=2)
        shares_job = ListSharesJob(vault)
        shares_job.signals.finished.connect(self._shares_listed)
        shares_job.signals.failed.connect(self._job_failed)
        self.session.jobs.start(shares_job, priority=2)
        self.leaks_page.reload()
        self.organiser.refresh_summary()
        self.organiser.request()  # photos left pending by an earlier session

    def _photos_listed(self, photos: list[PhotoInfo]) -> None:
        if not self.session.is_unlocked:
            return
        self.model.set_photos(photos)
        self.gallery.empty_text = ("Your vault is empty.\n\nDrag photos or folders onto this window "
                                   "to add them. They are encrypted as they arrive.")
        self.gallery.viewport().update()
        self._refresh_counts()
        self._update_actions()
        self.photos_loaded.emit(len(photos))

    def _on_locking(self, reason: str) -> None:
        # Everything that shows or holds a decrypted photo goes now, before the keys do.
        if self._settings_dialog is not None:
            self._settings_dialog.reject()
        # The takedown dialog first: it may sit on top of the scan dialog.
        for dialog in (self._takedown_dialog, self._scan_dialog, self._share_dialog, self._check_dialog):
            if dialog is not None:
                dialog.close_for_lock()
        self._share_dialog = self._check_dialog = self._scan_dialog = self._takedown_dialog = None
        self.leaks_page.clear()
        self.viewer.clear()
        self.loader.clear()
        self.organiser.reset()
        self.sensitive.clear()
        self.people_model.clear()
        self.people_summary = []
        self.sidebar_model.clear_organise()
        self.search_words.setStringList([])
        self.proxy.set_scope()
        self.model.clear()
        self.shares_model.clear()
        self.detail.show_selection([])
        self.problems.hide()
        self.problems.list.clear()
        self.search.clear()
        self.overlay.hide()
        self.statusBar().clearMessage()
        self._show_locked_ui()
        self._refresh_counts()

    def _on_locked(self) -> None:
        self.unlock_page.reset()

    def _on_settings_changed(self) -> None:
        if self.session.is_unlocked:
            self.sensitive.set_reveal_all(bool(app_settings.read(app_settings.SHOW_SENSITIVE)))
        self.loader.set_edge(self.session.thumbnail_edge)
        self.gallery.apply_cell_size()
        self.gallery.viewport().update()

    # --- gallery -----------------------------------------------------------------------------------

    def set_scope(self, scope: Scope) -> None:
        self.scope = scope
        # (a search from the People view shows its photos in the gallery)
        shared, leaks, people = scope.kind == "shared", scope.kind == "leaks", self.showing_people
        self.library.middle.setCurrentWidget(self.shares_page if shared else self.leaks_page if leaks
                                             else self.people_page if people else self.gallery)
        self.search.setPlaceholderText("Search recipients, photos, share IDs" if shared
                                       else "Search places, photos, statuses" if leaks else SEARCH_HINT)
        self._update_header()
        if people:
            self.detail.show_text("Double-click a person to see their photos.\n\nSelect one and press Rename… "
                                  "(or F2) to name them; select two and press Merge if they are the same person.")
            self.reload_people()
            self._update_scope_count()
            self._update_actions()
            return
        if shared or leaks:
            self._update_scope_count()
            if shared:
                self._share_selection_changed()
            else:
                self._leak_selection_changed(self.leaks_page.table.selected_match())
            return
        self._selection_changed()
        after, before = scope.date_range()
        imported_after = recent_import_cutoff() if scope.kind == "recent" else None
        self.proxy.set_scope(after=after, before=before, imported_after=imported_after,
                             ids=frozenset() if scope.needs_query else None)
        self._update_scope_count()
        if scope.needs_query:
            self.gallery.empty_text = "Looking…"
            self._query_scope()

    def _query_scope(self) -> None:
        """Ask the DB which photos a tag / person / sensitive scope holds (again)."""
        scope = self.scope
        if not scope.needs_query or not self.session.is_unlocked:
            return
        query = PhotoQuery(tag=scope.tag or None, person=scope.person if scope.kind == "person" else None,
                           sensitive=True if scope.kind == "sensitive" else None)
        if self._scope_job is not None:
            self._scope_job.cancel()
        job = FindPhotosJob(self.session.vault, query)
        job.signals.finished.connect(self._scope_found)
        job.signals.failed.connect(self._job_failed)
        self._scope_job = job
        self.session.jobs.start(job, priority=2)

    def _scope_found(self, found: FoundPhotos) -> None:
        if self._scope_job is None or found.query != self._scope_job.query:
            return
        self._scope_job = None
        if self.session.is_unlocked and self.scope.needs_query:
            self.proxy.set_scope_ids(found.ids)
            self._update_scope_count()
            self.gallery.viewport().update()

    def open_person(self, person) -> None:
        """From the People view: that person's photos in the gallery."""
        self.sidebar.setCurrentIndex(QModelIndex())  # so clicking "People" again goes back
        self.set_scope(Scope("person", person=person.id, label=person.name or "Unnamed person"))

    # --- organising --------------------------------------------------------------------------

    def _organise_chunk(self, chunk: OrganiseChunk) -> None:
        self.sensitive.update_flags(chunk.photo_ids, chunk.sensitive)
        if self.scope.needs_query:
            self._query_scope()
        if self.proxy.text:
            self._search_timer.start()
        for panel in (self.viewer.panel, self.detail.meta):
            if panel.photo_id in chunk.photo_ids and panel.isVisible():
                panel.refresh_organise()
        if self.viewer.photo_id in chunk.sensitive and not self.viewer.blurred:
            self.viewer.reload()  # flagged while on screen: blur it now

    def _organise_done(self, result: OrganiseResult) -> None:
        report = result.report
        if report.cancelled or not report.analyzed:
            return
        n = report.analyzed
        self.statusBar().showMessage(f"Organised {n:,} photo{'s' if n != 1 else ''}: tags and people are up "
                                     "to date.", 10000)
        if self.scope.kind == "people":
            self.reload_people()

    def _organise_summary(self, summary: OrganiseSummary) -> None:
        if not self.session.is_unlocked:
            return
        self.people_summary = list(summary.people)
        self.sidebar_model.update_organise(summary)
        self._update_search_words(summary)

    def _update_search_words(self, summary: OrganiseSummary | None = None) -> None:
        words: dict[str, None] = {}
        if summary is not None:
            self._last_summary = summary
        summary = getattr(self, "_last_summary", None)
        if summary is not None:
            words.update((t.term, None) for t in summary.categories if t.count)
            words.update((t.term, None) for t in summary.labels)
            words.update((p.name, None) for p in summary.people if p.name)
        words.update((p.filename, None) for p in self.model.photos[:5000])
        self.search_words.setStringList(list(words))

    def reload_people(self) -> None:
        if not self.session.is_unlocked:
            return
        if self._people_job is not None:
            self._people_job.cancel()
        job = ListPeopleJob(self.session.vault, PeoplePage.EDGE, self.sensitive.snapshot())
        job.signals.finished.connect(lambda result, job=job: self._people_listed(job, result))
        job.signals.failed.connect(self._job_failed)
        self._people_job = job
        self.session.jobs.start(job, priority=2)

    def _people_listed(self, job: ListPeopleJob, result: PeopleList) -> None:
        if job is not self._people_job or not self.session.is_unlocked:
            return
        self._people_job = None
        chosen = [p.id for p in self.people_page.selected_people()]
        self.people_model.set_people(result.people)
        for person_id in chosen[:1]:
            self.people_page.select_person(person_id)
        if self.scope.kind == "people":
            self._update_scope_count()

    def edit_people(self, edit: PersonEdit) -> PersonEditJob | None:
        """Name, merge, move or reject: a quick write, then everything showing people refreshes."""
        if not self.session.is_unlocked:
            return None
        job = PersonEditJob(self.session.vault, edit)
        job.signals.finished.connect(self._people_edited)
        job.signals.failed.connect(self._job_failed)
        self.session.jobs.start(job, priority=3)
        return job

    def _people_edited(self, edit: PersonEdit) -> None:
        if not self.session.is_unlocked:
            return
        words = {"name": "Name saved.", "merge": "Merged: one person now.", "move": "Face moved.",
                 "reject": "Removed: not a face."}
        self.statusBar().showMessage(words.get(edit.action, "Saved."), 6000)
        for panel in (self.viewer.panel, self.detail.meta):
            if panel.photo_id is not None:
                panel.refresh_organise()
        self.organiser.refresh_summary()
        if self.scope.kind == "people":
            self.reload_people()
        else:
            if self.scope.kind == "person" and edit.action == "name" and edit.person_id == self.scope.person:
                self.scope = Scope("person", person=edit.person_id, label=edit.name or "Unnamed person")
                self._update_header()
            self._query_scope()  # a person's photos, or "Photos with people" after "Not a face"
        if self.searching:
            self._search_timer.start()  # a name searched for may have changed

    def set_sensitive(self, photo_ids: list[int], value: bool | None) -> SetSensitiveJob | None:
        """Mark (True) or unmark (False) photos as sensitive, by hand."""
        if not photo_ids or not self.session.is_unlocked:
            return None
        job = SetSensitiveJob(self.session.vault, photo_ids, value)
        job.signals.finished.connect(self._sensitive_set)
        job.signals.failed.connect(self._job_failed)
        self.session.jobs.start(job, priority=3)
        return job

    def _sensitive_set(self, change: SensitiveChange) -> None:
        if not self.session.is_unlocked:
            return
        for photo_id in change.photo_ids:
            self.sensitive.revealed.discard(photo_id)  # marking hides it, even if it was revealed
        self.sensitive.update_flags(change.photo_ids, change.sensitive)
        self.loader.reload(change.photo_ids)
        n = len(change.photo_ids)
        what = f"{n:,} photo{'s' if n != 1 else ''}" if n != 1 else "Photo"
        self.statusBar().showMessage(f"{what} marked as sensitive: blurred until you reveal it." if change.value
                                     else f"{what} no longer marked as sensitive.", 8000)
        if self.viewer.photo_id in change.photo_ids:
            self.viewer.reload()
        if self.scope.kind == "sensitive":
            self._query_scope()
        self.organiser.refresh_summary()

    def _sensitive_changed(self, photo_ids) -> None:
        """A flag or a reveal changed: those thumbnails load again, blurred or sharp."""
        self.loader.reload(photo_ids)
        if photo_ids is None:  # "Show sensitive photos" toggled
            if self.viewer.photo_id is not None:
                self.viewer.reload()
            if self.scope.kind == "people":
                self.reload_people()
        self.gallery.viewport().update()

    @property
    def searching(self) -> bool:
        """A search through the photos is on (Shared and Leaks search their own tables)."""
        return bool(self.search.text().strip()) and self.scope.kind not in ("shared", "leaks")

    def _sidebar_scope(self, scope: Scope) -> None:
        """Going somewhere in the sidebar ends a search: the gallery shows what the entry says."""
        if self.searching:
            self.search.clear()
        self.set_scope(scope)

    def _on_search(self, text: str) -> None:
        searching = bool(text.strip())
        if searching and not self._was_searching:
            self.library.search_all.setChecked(True)  # every new search looks everywhere
            self.proxy.set_search_everywhere(True)
        self.proxy.set_text(text)
        if searching:
            self._search_timer.start()
        self.shares_page.set_text(text)
        self.leaks_page.set_text(text)
        if searching != self._was_searching and self.scope.kind == "people":
            self._was_searching = searching
            self.set_scope(self.scope)  # from the person list to the gallery of results, and back
        self._was_searching = searching
        self._update_header()
        self._update_scope_count()

    def _search_everywhere_toggled(self, everywhere: bool) -> None:
        self.proxy.set_search_everywhere(everywhere)
        self._update_header()
        self._update_scope_count()

    def _update_header(self) -> None:
        """The gallery header: the sidebar entry shown, or the search and where it looks."""
        lib = self.library
        if not self.searching:
            lib.scope_title.setText(self.scope.title)
            lib.search_scope.hide()
            return
        text = self.search.text().strip()
        lib.scope_title.setText(f"Results for “{text if len(text) <= 40 else text[:39] + '…'}”")
        narrowable = self.scope.kind not in ("all", "people")
        lib.search_all.setVisible(narrowable)
        lib.search_here.setVisible(narrowable)
        lib.search_here.setText(self.scope.title)
        lib.search_in.setText("Search in:" if narrowable else "in all photos")
        lib.search_scope.show()

    def _search_db(self) -> None:
        """The photos of the whole vault that every word matches (`app.core.search`); the proxy
        shows file-name and year matches meanwhile."""
        text = self.search.text().strip()
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
            self.proxy.set_text_matches(found.query.text or "", found.ids)
            self._update_scope_count()

    def _schedule_counts(self, *args) -> None:
        if not self._sidebar_timer.isActive():
            self._sidebar_timer.start()

    def _refresh_counts(self) -> None:
        self.sidebar_model.update_from(self.model.photos)
        self._update_scope_count()
        self._update_search_words()

    @property
    def showing_shares(self) -> bool:
        return self.scope.kind == "shared"

    @property
    def showing_leaks(self) -> bool:
        return self.scope.kind == "leaks"

    @property
    def showing_people(self) -> bool:
        return self.scope.kind == "people" and not self.searching

    @property
    def showing_gallery(self) -> bool:
        return not (self.showing_shares or self.showing_leaks or self.showing_people)

    def _update_scope_count(self) -> None:
        if self.showing_people:
            n = self.people_model.rowCount()
            self.library.scope_count.setText(f"{n:,} {'people' if n != 1 else 'person'}")
            return
        if self.showing_leaks:
            shown = self.leaks_page.proxy.rowCount()
            self.library.scope_count.setText(f"{shown:,} found cop{'ies' if shown != 1 else 'y'}")
            return
        if self.showing_shares:
            shown = self.shares_page.proxy.rowCount()
            self.library.scope_count.setText(f"{shown:,} protected cop{'ies' if shown != 1 else 'y'}")
            return
        shown = self.proxy.rowCount()
        self.library.scope_count.setText(f"{shown:,} photo{'s' if shown != 1 else ''}")
        if self.model.rowCount() and not shown:
            if self.searching and not self.proxy.search_everywhere:
                self.gallery.empty_text = (f"Nothing in {self.scope.title} matches.\n\n"
                                           "Choose “All photos” above to search the whole vault.")
            else:
                self.gallery.empty_text = "No photos match."
        elif not self.model.rowCount() and self.session.is_unlocked:
            self.gallery.empty_text = ("Your vault is empty.\n\nDrag photos or folders onto this window "
                                       "to add them. They are encrypted as they arrive.")

    def _selection_changed(self, *args) -> None:
        if not self.showing_gallery:
            return
        rows = sorted({i.row() for i in self.gallery.selectionModel().selectedIndexes()})
        infos = [self.proxy.index(r, 0).data(Roles.Info) for r in rows[:5000]]
        self.detail.show_selection([i for i in infos if i is not None])
        self._update_actions()

    def _update_actions(self) -> None:
        # In the Shared and Leaks views the gallery's selection is out of sight: nothing acts on it.
        gallery = self.showing_gallery
        has_selection = gallery and self.gallery.selectionModel().hasSelection()
        unlocked = self.session.is_unlocked
        self.export_action.setEnabled(unlocked and has_selection)
        self.delete_action.setEnabled(unlocked and has_selection)
        self.import_action.setEnabled(unlocked)
        self.share_action.setEnabled(unlocked and self._photo_to_share() is not None)
        self.check_action.setEnabled(unlocked)
        self.scan_action.setEnabled(unlocked)

    def selected_ids(self) -> list[int]:
        return self.gallery.selected_photo_ids()

    # --- viewer -----------------------------------------------------------------------------------

    def open_viewer(self, photo_id: int) -> None:
        row = self.model.row_of(photo_id)
        if row is None or not self.session.is_unlocked:
            return
        self.viewer.show_photo(self.model.photo_at(row))
        self.stack.setCurrentIndex(PAGE_VIEWER)
        self.viewer.setFocus()
        self._update_actions()

    def close_viewer(self) -> None:
        photo_id = self.viewer.photo_id
        self.viewer.clear()
        self.stack.setCurrentIndex(PAGE_LIBRARY if self.session.is_unlocked else PAGE_UNLOCK)
        self._update_actions()
        if photo_id is not None and self.showing_gallery:
            row = self.model.row_of(photo_id)
            if row is not None:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                if index.isValid():
                    self.gallery.setCurrentIndex(index)
                    self.gallery.scrollTo(index)
        (self.shares_page.table if self.showing_shares else self.leaks_page.table if self.showing_leaks
         else self.gallery).setFocus()

    def _navigate_viewer(self, step: int) -> None:
        if self.viewer.photo_id is None:
            return
        row = self.model.row_of(self.viewer.photo_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        target = self.proxy.index(index.row() + step, 0) if index.isValid() else QModelIndex()
        if target.isValid():
            self.viewer.show_photo(target.data(Roles.Info))

    # --- sharing ------------------------------------------------------------------------------------

    def _photo_info(self, photo_id: int) -> PhotoInfo | None:
        row = self.model.row_of(photo_id)
        return self.model.photo_at(row) if row is not None else None

    def _photo_to_share(self) -> PhotoInfo | None:
        """The one photo Share… acts on: the viewer's, the gallery's only selected one, or the
        selected share's photo in the Shared view."""
        if self.stack.currentIndex() == PAGE_VIEWER and self.viewer.photo_id is not None:
            return self._photo_info(self.viewer.photo_id)
        if self.showing_shares:
            share = self.shares_page.table.selected_share()
            return self._photo_info(share.photo_id) if share and share.photo_id is not None else None
        if self.showing_leaks:
            match = self.leaks_page.table.selected_match()
            return self._photo_info(match.photo_id) if match and match.photo_id is not None else None
        if self.showing_people:
            return None
        ids = self.selected_ids()
        return self._photo_info(ids[0]) if len(ids) == 1 else None

    def share_photo(self, photo_id: int | None = None):
        """Open the Share dialog for one photo (the current one when no id is given)."""
        if not self.session.is_unlocked or self._share_dialog is not None:
            return None
        info = self._photo_info(photo_id) if isinstance(photo_id, int) else self._photo_to_share()
        if info is None:
            return None
        from .share_dialog import ShareDialog  # loads the sharing stack on first use

        dialog = ShareDialog(self.session, info, self.loader.pixmap(info.id), self)
        dialog.shared.connect(self._share_done)
        dialog.finished.connect(lambda _r: setattr(self, "_share_dialog", None))
        self._share_dialog = dialog
        dialog.open()
        return dialog

    def _shares_listed(self, result: ShareList) -> None:
        if self.session.is_unlocked:
            self.shares_model.set_shares(result.shares)

    def _share_done(self, outcome: ShareOutcome) -> None:
        if not self.session.is_unlocked:
            return
        self.shares_model.add_share(outcome.share)
        self.statusBar().showMessage(f"Saved a protected copy for {outcome.share.recipient}: {outcome.out}", 15000)

    def _shares_changed(self, *args) -> None:
        self.sidebar_model.set_share_count(self.shares_model.rowCount())
        self.detail.meta.refresh_shares()
        self.viewer.panel.refresh_shares()
        if self.showing_shares:
            self._update_scope_count()

    def _share_selection_changed(self, *args) -> None:
        if not self.showing_shares:
            return
        share = self.shares_page.table.selected_share()
        info = self._photo_info(share.photo_id) if share and share.photo_id is not None else None
        if share is None:
            self.detail.show_text("Select a share to see its photo.\n\nDouble-click to open the photo.")
        elif info is None:
            self.detail.show_text(f"{share_line(share)}.\n\nThe photo was deleted from the vault since; "
                                  "the record of who received this copy is kept.")
        else:
            self.detail.show_selection([info])
        self._update_actions()

    def open_share(self, share: ShareInfo) -> None:
        """Double-click in the Shared view: the photo in the viewer, if it is still in the vault."""
        if share.photo_id is not None and self.model.row_of(share.photo_id) is not None:
            self.open_viewer(share.photo_id)
        else:
            self.statusBar().showMessage("That photo is no longer in the vault; the record of the share is kept.",
                                         10000)

    def open_check(self, path: str | None = None):
        """The "Check an image" dialog (one at a time); with `path`, that file is checked at once."""
        if not self.session.is_unlocked:
            return None
        if self._check_dialog is not None:
            self._check_dialog.raise_()
            self._check_dialog.activateWindow()
            if path:
                self._check_dialog.check(path)
            return self._check_dialog
        from .check_dialog import CheckDialog

        dialog = CheckDialog(self.session, self)
        dialog.finished.connect(lambda _r: setattr(self, "_check_dialog", None))
        self._check_dialog = dialog
        dialog.open()
        if path:
            dialog.check(path)
        return dialog

    # --- leaks -----------------------------------------------------------------------------------

    @property
    def fetch_policy(self):
        """HTTP limits (a FetchPolicy) for scans and removal requests; None: the core's defaults.
        Tests set short timeouts for their host on 127.0.0.1."""
        return self.leaks_page.fetch_policy

    @fetch_policy.setter
    def fetch_policy(self, policy) -> None:
        self.leaks_page.fetch_policy = policy

    def open_scan(self):
        """The "Scan for leaks" dialog (one at a time)."""
        if not self.session.is_unlocked:
            return None
        if self._scan_dialog is not None:
            self._scan_dialog.raise_()
            self._scan_dialog.activateWindow()
            return self._scan_dialog
        from .scan_dialog import ScanDialog

        dialog = ScanDialog(self.session, rescan_places(self.leaks_model.matches), photo_lookup=self._photo_info,
                            policy=self.fetch_policy, parent=self)
        dialog.scan_finished.connect(self._scan_done)
        dialog.request_deletion.connect(lambda match, share, dialog=dialog: self.open_takedown(match, share, dialog))
        dialog.finished.connect(lambda _r: setattr(self, "_scan_dialog", None))
        self._scan_dialog = dialog
        dialog.open()
        return dialog

    def _scan_done(self, outcome: ScanOutcome) -> None:
        if not self.session.is_unlocked:
            return
        n, k = len(outcome.matches), len(outcome.errors)
        if outcome.scanned == 0 and not n and not outcome.cancelled:
            # "0 copies found" would reassure about places nobody looked at.
            words = "Scan finished: nothing could be checked " + (
                f"({k:,} place{'s' if k != 1 else ''} could not be read)" if k else "(no images in these places)")
        else:
            words = f"Scan {'stopped' if outcome.cancelled else 'finished'}: {n:,} cop{'ies' if n != 1 else 'y'} " \
                    f"of your photos found, {outcome.scanned:,} images checked"
            if k:
                words += f", {k:,} place{'s' if k != 1 else ''} could not be checked"
        self.statusBar().showMessage(words + ".", 15000)
        self.leaks_page.reload()

    def open_takedown(self, match: LeakMatchInfo, share: ShareInfo | None = None, parent: QWidget | None = None,
                      request: TakedownInfo | None = None):
        """The "Request deletion…" dialog for one found copy (one at a time)."""
        if not self.session.is_unlocked:
            return None
        if self._takedown_dialog is not None:
            self._takedown_dialog.raise_()
            self._takedown_dialog.activateWindow()
            return self._takedown_dialog
        from .takedown_dialog import TakedownDialog

        if share is None and match.share_id:
            share = self.leaks_page.shares.get(match.share_id)
        dialog = TakedownDialog(self.session, match, share, request=request, policy=self.fetch_policy,
                                parent=parent or self, sensitive=self.sensitive.is_flagged(match.photo_id))
        dialog.changed.connect(lambda _info: self.leaks_page.reload())
        dialog.finished.connect(lambda _r: setattr(self, "_takedown_dialog", None))
        self._takedown_dialog = dialog
        dialog.open()
        return dialog

    def _open_request(self, request: TakedownInfo) -> None:
        match = self.leaks_page.panel.match
        if match is not None and match.id == request.match_id:
            self.open_takedown(match, request=request)

    def _leaks_changed(self, *args) -> None:
        self.sidebar_model.set_leak_count(self.leaks_model.rowCount())
        if self.showing_leaks:
            self._update_scope_count()

    def _leak_selection_changed(self, match: LeakMatchInfo | None) -> None:
        if not self.showing_leaks:
            return
        info = self._photo_info(match.photo_id) if match is not None and match.photo_id is not None else None
        if match is None:
            self.detail.show_text("Select a found copy to see it beside your photo, and what was done about it.")
        elif info is None:
            self.detail.show_text("The photo was deleted from the vault since; the record of the copy is kept.")
        else:
            self.detail.show_selection([info])
        self._update_actions()

    def _gallery_menu(self, pos: QPoint) -> QMenu | None:
        index = self.gallery.indexAt(pos)
        if not index.isValid() or not self.session.is_unlocked:
            return None
        if not self.gallery.selectionModel().isSelected(index):
            self.gallery.setCurrentIndex(index)  # right-click on an unselected photo selects it
        menu = QMenu(self)
        photo_id = index.data(Roles.PhotoId)
        menu.addAction("Open", lambda: self.open_viewer(photo_id))
        share = menu.addAction("Share…", self.share_photo)
        share.setEnabled(self.share_action.isEnabled())
        menu.addSeparator()
        ids = self.selected_ids()
        flagged = [i for i in ids if self.sensitive.is_flagged(i) or self.loader.is_flagged(i)]
        if len(flagged) < len(ids):
            menu.addAction("Mark as sensitive", lambda: self.set_sensitive(ids, True)).setObjectName("markSensitive")
        if flagged:
            menu.addAction("Not sensitive", lambda: self.set_sensitive(flagged, False)).setObjectName("unmarkSensitive")
        hidden = [i for i in flagged if self.loader.is_blurred(i)]
        if hidden:
            menu.addAction("Reveal", lambda: [self.sensitive.reveal(i) for i in hidden]).setObjectName("revealPhotos")
        menu.addSeparator()
        menu.addAction("Export…", self.export_selected)
        menu.addAction("Delete", self.delete_selected)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.gallery.viewport().mapToGlobal(pos))
        return menu

    # --- import --------------------------------------------------------------------------------------

    def choose_and_import_files(self) -> None:
        files = dialogs.choose_files(self, "Add photos", purpose="import")
        if files:
            self.start_import(files)

    def choose_and_import_folder(self) -> None:
        folder = dialogs.choose_folder(self, "Add a folder of photos", purpose="import")
        if folder:
            self.start_import([folder])

    def start_import(self, paths: list[str]) -> ImportJob | None:
        if not self.session.is_unlocked or not paths:
            self.statusBar().showMessage("Unlock the vault first, then drop the photos again.", 8000)
            return None
        job = ImportJob(self.session.vault, paths)
        job.signals.photos_added.connect(self._photos_added)
        job.signals.finished.connect(self._import_done)
        job.signals.failed.connect(self._job_failed)
        job.signals.cancelled.connect(lambda: self.statusBar().showMessage("Import cancelled.", 8000))
        self._start_long_job(job)
        return job

    def _photos_added(self, photos: list[PhotoInfo]) -> None:
        if self.session.is_unlocked:
            self.model.add_photos(photos)

    def _import_done(self, report: ImportReport) -> None:
        parts = [f"Added {len(report.imported):,} photo{'s' if len(report.imported) != 1 else ''}"]
        if report.duplicates:
            parts.append(f"{len(report.duplicates):,} already in the vault")
        if report.errors:
            parts.append(f"{len(report.errors):,} could not be added (listed below)")
        message = ", ".join(parts) + "."
        if report.cancelled:
            message = "Import stopped. " + message
        self.statusBar().showMessage(message, 15000)
        if report.errors:
            self.problems.show_problems(
                f"{len(report.errors):,} file{'s' if len(report.errors) != 1 else ''} could not be added",
                report.errors)
        if report.imported:
            self.organiser.request()  # tags, faces, the sensitive flag: in the background
        self.import_finished.emit(report)

    # --- export and delete -------------------------------------------------------------------------

    def export_selected(self) -> None:
        ids = self.selected_ids()
        if not ids or not self.session.is_unlocked:
            return
        folder = dialogs.choose_folder(self, f"Export {len(ids)} photo{'s' if len(ids) != 1 else ''} to…",
                                       purpose="export")
        if not folder or not self.session.is_unlocked:
            return
        job = ExportJob(self.session.vault, ids, folder)
        job.signals.finished.connect(lambda report, folder=folder: self._export_done(report, folder))
        job.signals.failed.connect(self._job_failed)
        self._start_long_job(job)

    def _export_done(self, report: ExportReport, folder: str) -> None:
        n = len(report.exported)
        self.statusBar().showMessage(
            f"Exported {n:,} photo{'s' if n != 1 else ''} to {folder}. These copies are not encrypted.", 15000)
        if report.errors:
            self.problems.show_problems(f"{len(report.errors):,} photos could not be exported", report.errors)

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids or not self.session.is_unlocked:
            return
        n = len(ids)
        names = [info.filename for info in (self._photo_info(i) for i in ids[:3]) if info is not None]
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
        found = sum(1 for m in self.leaks_model.matches if m.photo_id in chosen)
        keep_leak_records = True
        if found:
            # The pictures of found copies show the photo: they always go. The text record
            # (where, when, removal requests) is evidence the user may still need.
            copies = plural(found, "found copy", "found copies")
            ok, forget = dialogs.confirm_with_option(
                self, title, text, "Delete", f"Also forget the {copies} (addresses, dates, requests)",
                destructive=True, pixmap=pixmap,
                informative=f"{informative}\n\nThe pictures of the {copies} of "
                            f"{'these photos' if n != 1 else 'this photo'} are deleted too. Where and "
                            "when they were found, and your removal requests, are kept as a record "
                            "unless you tick the box.")
            keep_leak_records = not forget
        else:
            ok = dialogs.confirm(self, title, text, "Delete", destructive=True, informative=informative,
                                 pixmap=pixmap)
        if not ok or not self.session.is_unlocked:
            return
        job = DeleteJob(self.session.vault, ids, keep_leak_records=keep_leak_records)
        job.signals.finished.connect(lambda result: self._delete_done(result, reload_leaks=bool(found)))
        job.signals.failed.connect(self._job_failed)
        self._start_long_job(job)

    def _thumbnail_strip(self, photo_ids: list[int], edge: int = 72) -> QPixmap | None:
        """Up to four of these photos as the gallery shows them (blurred when it blurs them)."""
        pixmaps = [p for p in (self.loader.pixmap(i) for i in photo_ids[:4]) if p is not None and not p.isNull()]
        if not pixmaps:
            return None
        ratio = self.devicePixelRatioF()
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
        if reload_leaks:  # their pictures (or records) are gone: show what the vault now holds
            self.leaks_page.reload()
        self.model.remove_ids(result.deleted)
        self.loader.forget(result.deleted)
        self.shares_model.photos_deleted(result.deleted)  # the records stay; the photo is gone
        self.organiser.refresh_summary()  # tag, people and sensitive counts in the sidebar
        self._query_scope()
        n = len(result.deleted)
        self.statusBar().showMessage(f"Deleted {n:,} photo{'s' if n != 1 else ''}.", 10000)

    # --- jobs ------------------------------------------------------------------------------------------

    def _start_long_job(self, job: Job) -> None:
        self.job_progress.track(job)
        self.session.jobs.start(job)

    def _job_failed(self, exc: BaseException) -> None:
        if not self.session.is_unlocked and self.session.state != "unlocked":
            return  # locked meanwhile: the failure is the lock's doing
        message = describe(exc)
        self.statusBar().showMessage(f"{message.title}: {message.text}", 15000)
        dialogs.show_error(self, exc)

    # --- settings ----------------------------------------------------------------------------------

    def open_settings(self) -> None:
        if not self.session.is_unlocked:
            return
        dialog = SettingsDialog(self.session, self)
        dialog.finished.connect(lambda _r: setattr(self, "_settings_dialog", None))
        self._settings_dialog = dialog
        dialog.open()

    # --- drag and drop ----------------------------------------------------------------------------


    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self.session.is_unlocked and local_paths(event):
            event.acceptProposedAction()
            self.overlay.setGeometry(self.centralWidget().geometry())
            self.overlay.raise_()
            self.overlay.show()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if self.session.is_unlocked and local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self.overlay.hide()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self.overlay.hide()
        paths = local_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.start_import(paths)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.overlay.isVisible():
            self.overlay.setGeometry(self.centralWidget().geometry())

    # --- quitting ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.loader.clear()
        self.model.clear()
        self.viewer.clear()
        self.session.shutdown()
        super().closeEvent(event)
