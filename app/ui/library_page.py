"""The library's layout: sidebar, the middle (gallery, Shared, Leaks or People) under a header
that names the view or the search, the details pane; and the overlay shown while files are
dragged over the window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.vault import PhotoInfo
from app.core.words import byte_size

from .gallery import GalleryView
from .jobs_ui import ProblemsPanel
from .leaks_view import LeaksPage
from .shares_view import SharesPage
from .sidebar import SidebarView
from .viewer import MetadataPanel

# The main window's stack: the unlock screen, this library, the viewer.
PAGE_UNLOCK, PAGE_LIBRARY, PAGE_VIEWER = range(3)


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
            self.summary.setText(f"{len(infos):,} photos selected\n{byte_size(total)} in all")


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


