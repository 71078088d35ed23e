"""The main window: unlock screen, library (sidebar, gallery, shares, leaks or people, details)
and viewer in one stack; the toolbar, the search, which view and actions apply, drops and the
lock. The work by subject lives in `app.ui.controllers` (library, people, shares, leaks, search,
and scope: what the library shows, its header and counts); the window builds them and keeps
thin methods under the names the toolbar and the tests use."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QCursor, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QMainWindow,
    QMenu,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.vault import PhotoInfo
from app.workers.base import Job

from . import dialogs
from . import settings as app_settings
from .controllers.leaks import LeaksController
from .controllers.library import LibraryController
from .controllers.people import PeopleController
from .controllers.scope import ScopeController
from .controllers.search import SearchController
from .controllers.shares import SharesController
from .dialog_slot import DialogSlot
from .errors import describe
from .gallery import GalleryDelegate, GalleryView
from .jobs_ui import JobProgress, ProblemsPanel
from .leaks_view import LeaksPage, LeaksTableModel
from .library_page import PAGE_LIBRARY, PAGE_UNLOCK, PAGE_VIEWER, DetailPane, DropOverlay, LibraryPage
from .organize_ui import OrganiseController, OrganiseStatus, SensitiveState
from .people_view import PeopleModel, PeoplePage
from .photo_model import PhotoFilterProxy, PhotoListModel, Roles
from .resources import app_icon
from .session import Session
from .settings_dialog import SettingsDialog
from .shares_view import SharesPage, SharesTableModel
from .sidebar import Scope, SidebarModel, SidebarView
from .single_file_drop import local_paths
from .thumbnails import ThumbnailLoader
from .unlock import UnlockPage
from .vault_tools import show_rollback_warning
from .viewer import ViewerPage
from .watch_notice import WatchBanner

log = logging.getLogger(__name__)



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
        self.settings_slot = DialogSlot()

        # Models and views
        self.model = PhotoListModel(self)
        self.proxy = PhotoFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.loader = ThumbnailLoader(session.jobs, self)
        self.loader.ready.connect(self.model.thumbnail_ready)
        self.sensitive = SensitiveState(self)
        self.loader.reveal = self.sensitive.snapshot
        self.delegate = GalleryDelegate(self.loader, self)
        self.gallery = GalleryView(self.delegate)
        self.gallery.setModel(self.proxy)
        self.gallery.selectionModel().selectionChanged.connect(self.selection_changed)
        self.sidebar_model = SidebarModel(self)
        self.sidebar = SidebarView(self.sidebar_model)
        self.shares_model = SharesTableModel(self, photo_lookup=self.photo_info, thumbnails=self.loader)
        self.loader.ready.connect(self.shares_model.thumbnail_ready)
        self.shares_page = SharesPage(self.shares_model)
        self.model.modelReset.connect(self.shares_model.photo_names_changed)
        self.leaks_model = LeaksTableModel(self, photo_lookup=self.photo_info, thumbnails=self.loader)
        self.loader.ready.connect(self.leaks_model.thumbnail_ready)
        self.model.modelReset.connect(self.leaks_model.photo_names_changed)
        self.leaks_page = LeaksPage(self.leaks_model)
        self.leaks_page.attach(session)
        self.leaks_page.reveal = lambda: self.sensitive.snapshot()
        self.problems = ProblemsPanel()
        self.detail = DetailPane()
        self.detail.meta.shares_lookup = self.shares_model.shares_for
        self.library = LibraryPage(self.sidebar, self.gallery, self.problems, self.detail, self.shares_page,
                                   self.leaks_page)
        self.unlock_page = UnlockPage(session)
        self.viewer = ViewerPage(session)
        self.viewer.share_requested.connect(self.share_photo)
        self.viewer.panel.shares_lookup = self.shares_model.shares_for
        self.viewer.sensitive = self.sensitive
        self.detail.meta.session = session
        self.people_model = PeopleModel(self)
        self.people_page = PeoplePage(self.people_model)
        self.library.middle.addWidget(self.people_page)
        self.organiser = OrganiseController(session, self)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.unlock_page)
        self.stack.addWidget(self.library)
        self.stack.addWidget(self.viewer)
        # Above every page: the watch list's "new copy found" line (watch_notice.py).
        self.watch_banner = WatchBanner()
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.watch_banner)
        central_layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.overlay = DropOverlay(self)
        self.scope = Scope("all")

        # The work by subject; each connects its own signals to the views above.
        self.scope_controller = ScopeController(self)
        self.library_controller = LibraryController(self)
        self.library_controller.import_finished.connect(self.import_finished)
        self.library_controller.photos_loaded.connect(self.photos_loaded)
        self.people_controller = PeopleController(self)
        self.shares_controller = SharesController(self)
        self.leaks_controller = LeaksController(self)
        self.search_controller = SearchController(self)
        self.search = self.search_controller.field
        self.search_words = self.search_controller.words

        self._build_toolbar()
        self.job_progress = JobProgress()
        self.statusBar().addPermanentWidget(self.job_progress)
        self.organise_status = OrganiseStatus(self.organiser)
        self.statusBar().addPermanentWidget(self.organise_status)

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
        library = self.library_controller
        self.import_action.triggered.connect(library.choose_and_import_files)
        menu = QMenu(self)
        menu.addAction("Add photos…", library.choose_and_import_files)
        menu.addAction("Add a folder…", library.choose_and_import_folder)
        self.import_button = QToolButton()
        self.import_button.setObjectName("importButton")
        self.import_button.setDefaultAction(self.import_action)
        self.import_button.setMenu(menu)
        self.import_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        settle_after_popup(self.import_button)
        self.import_button.setToolTip("Add photos or folders (or drop them onto the window)")
        bar.addWidget(self.import_button)

        self.export_action = bar.addAction("Export…", library.export_selected)
        self.export_action.setToolTip("Write the selected photos, decrypted, to a folder")
        self.delete_action = bar.addAction("Delete", library.delete_selected)
        self.delete_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.delete_action.setToolTip("Remove the selected photos from the vault for good")
        bar.addSeparator()
        self.share_action = bar.addAction("Share…", self.shares_controller.share_photo)
        self.share_action.setToolTip("Save a protected copy of the selected photo for one person: "
                                     "if it leaks, you can tell whose copy it was")
        # One way to check a found photo: marks, signature, share record and immunization.
        self.check_action = bar.addAction("Check an image…", lambda: self.shares_controller.open_check())
        self.check_action.setToolTip("Check a photo you found: whether it is one of your copies, who it "
                                     "was shared with, and whether and where it was altered")
        self.check_button = bar.widgetForAction(self.check_action)
        self.check_button.setObjectName("checkButton")
        settle_after_popup(self.check_button)  # its dialog takes the mouse: no stuck highlight after
        self.scan_action = bar.addAction("Scan for leaks…", self.leaks_controller.open_scan)
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
        bar.addWidget(self.search)
        self.addAction(self.lock_action)
        self.update_actions()

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
        self.library_controller.load()
        self.shares_controller.load()
        self.leaks_page.reload()
        self.organiser.refresh_summary()
        self.organiser.request()  # photos left pending by an earlier session
        if vault.rollback_warning is not None:
            show_rollback_warning(self)

    def _on_locking(self, reason: str) -> None:
        # Everything that shows or holds a decrypted photo goes now, before the keys do.
        self.settings_slot.close_for_lock()
        self.leaks_controller.close_dialogs()
        self.shares_controller.close_dialogs()
        self.leaks_page.clear()
        self.viewer.clear()
        self.loader.clear()
        self.organiser.reset()
        self.sensitive.clear()
        self.people_controller.clear()
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
        self.refresh_counts()

    def _on_locked(self) -> None:
        self.unlock_page.reset()

    def _on_settings_changed(self) -> None:
        if self.session.is_unlocked:
            self.sensitive.set_reveal_all(bool(app_settings.read(app_settings.SHOW_SENSITIVE)))
        self.loader.set_edge(self.session.thumbnail_edge)
        self.gallery.apply_cell_size()
        self.gallery.viewport().update()

    # --- which view is shown, the selection, which actions apply ----------------------------------

    @property
    def searching(self) -> bool:
        """A search through the photos is on (Shared and Leaks search their own tables)."""
        return bool(self.search.text().strip()) and self.scope.kind not in ("shared", "leaks")

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

    def selection_changed(self, *args) -> None:
        if not self.showing_gallery:
            return
        rows = sorted({i.row() for i in self.gallery.selectionModel().selectedIndexes()})
        infos = [self.proxy.index(r, 0).data(Roles.Info) for r in rows[:5000]]
        self.detail.show_selection([i for i in infos if i is not None])
        self.update_actions()

    def update_actions(self) -> None:
        # In the Shared and Leaks views the gallery's selection is out of sight: nothing acts on it.
        gallery = self.showing_gallery
        has_selection = gallery and self.gallery.selectionModel().hasSelection()
        unlocked = self.session.is_unlocked
        self.export_action.setEnabled(unlocked and has_selection)
        self.delete_action.setEnabled(unlocked and has_selection)
        self.import_action.setEnabled(unlocked)
        self.share_action.setEnabled(unlocked and self.photo_to_share() is not None)
        self.check_action.setEnabled(unlocked)
        self.scan_action.setEnabled(unlocked)

    def selected_ids(self) -> list[int]:
        return self.gallery.selected_photo_ids()

    def search_again(self) -> None:
        self.search_controller.search_again()

    def update_search_words(self, summary=None) -> None:
        self.search_controller.update_words(summary)

    # --- the photo(s) an action applies to ---------------------------------------------------------

    def photo_info(self, photo_id: int) -> PhotoInfo | None:
        row = self.model.row_of(photo_id)
        return self.model.photo_at(row) if row is not None else None

    def photo_to_share(self) -> PhotoInfo | None:
        """The one photo Share… acts on: the viewer's, the gallery's only selected one, or the
        selected share's photo in the Shared view."""
        if self.stack.currentIndex() == PAGE_VIEWER and self.viewer.photo_id is not None:
            return self.photo_info(self.viewer.photo_id)
        if self.showing_shares:
            share = self.shares_page.table.selected_share()
            return self.photo_info(share.photo_id) if share and share.photo_id is not None else None
        if self.showing_leaks:
            match = self.leaks_page.table.selected_match()
            return self.photo_info(match.photo_id) if match and match.photo_id is not None else None
        if self.showing_people:
            return None
        ids = self.selected_ids()
        return self.photo_info(ids[0]) if len(ids) == 1 else None

    # --- what the controllers do, under the names the other controllers and the tests use --------

    def set_scope(self, scope: Scope) -> None:
        self.scope_controller.set_scope(scope)

    def query_scope(self) -> None:
        self.scope_controller.query_scope()

    def update_header(self) -> None:
        self.scope_controller.update_header()

    def update_scope_count(self) -> None:
        self.scope_controller.update_scope_count()

    def refresh_counts(self) -> None:
        self.scope_controller.refresh_counts()

    def start_import(self, paths: list[str]):
        return self.library_controller.start_import(paths)

    def choose_and_import_folder(self) -> None:
        self.library_controller.choose_and_import_folder()

    def open_viewer(self, photo_id: int) -> None:
        self.library_controller.open_viewer(photo_id)

    def close_viewer(self) -> None:
        self.library_controller.close_viewer()

    def set_sensitive(self, photo_ids: list[int], value: bool | None):
        return self.people_controller.set_sensitive(photo_ids, value)

    def edit_people(self, edit):
        return self.people_controller.edit_people(edit)

    def share_photo(self, photo_id: int | None = None):
        return self.shares_controller.share_photo(photo_id)

    def open_share(self, share) -> None:
        self.shares_controller.open_share(share)

    def open_check(self, path: str | None = None):
        return self.shares_controller.open_check(path)

    def open_scan(self):
        return self.leaks_controller.open_scan()

    @property
    def fetch_policy(self):
        return self.leaks_controller.fetch_policy

    @fetch_policy.setter
    def fetch_policy(self, policy) -> None:
        self.leaks_controller.fetch_policy = policy

    # --- jobs ------------------------------------------------------------------------------------------

    def start_long_job(self, job: Job) -> None:
        self.job_progress.track(job)
        self.session.jobs.start(job)

    def job_failed(self, exc: BaseException) -> None:
        if not self.session.is_unlocked and self.session.state != "unlocked":
            return  # locked meanwhile: the failure is the lock's doing
        message = describe(exc)
        self.statusBar().showMessage(f"{message.title}: {message.text}", 15000)
        dialogs.show_error(self, exc)

    # --- settings ----------------------------------------------------------------------------------

    def open_settings(self) -> None:
        if not self.session.is_unlocked:
            return
        self.settings_slot.show(SettingsDialog(self.session, self))

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
