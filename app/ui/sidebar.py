"""The sidebar: library views, dates by year and month, and the views later features bring.

Entries for features that do not exist yet are shown greyed out with a tooltip that says so,
rather than leading to empty pages.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QModelIndex, QObject, QSize, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QTreeView

from app.core.vault import PhotoInfo

from .gallery import recent_import_cutoff

SCOPE_ROLE = Qt.ItemDataRole.UserRole + 1
COUNT_ROLE = Qt.ItemDataRole.UserRole + 2

LATER = (
    ("Tags", "Automatic tags arrive with the tagging feature in a later version."),
    ("People", "Grouping by faces arrives with the people feature in a later version."),
    ("Sensitive", "Flagging of sensitive photos arrives in a later version."),
)


@dataclass(frozen=True)
class Scope:
    """What the library shows: kind is "all", "recent", "year" or "month" (photos in the
    gallery), "shared" (the table of protected copies) or "leaks" (copies found by scans)."""

    kind: str = "all"
    year: int = 0
    month: int = 0

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        if self.kind == "year":
            return datetime(self.year, 1, 1), datetime(self.year + 1, 1, 1)
        if self.kind == "month":
            end = datetime(self.year + (self.month == 12), self.month % 12 + 1, 1)
            return datetime(self.year, self.month, 1), end
        return None, None

    @property
    def title(self) -> str:
        if self.kind == "recent":
            return "Recent imports"
        if self.kind == "shared":
            return "Shared"
        if self.kind == "leaks":
            return "Leaks"
        if self.kind == "year":
            return str(self.year)
        if self.kind == "month":
            return f"{calendar.month_name[self.month]} {self.year}"
        return "All photos"


def _header(text: str) -> QStandardItem:
    item = QStandardItem(text.upper())
    item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable: a section title
    item.setData("header", Qt.ItemDataRole.AccessibleDescriptionRole)
    font = item.font()
    font.setBold(True)
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
    item.setFont(font)
    item.setSizeHint(QSize(-1, 30))
    return item


def _entry(text: str, scope: Scope | None) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(scope, SCOPE_ROLE)
    item.setSizeHint(QSize(-1, 28))  # fixed: the sidebar looks the same before and after styling
    return item


class SidebarModel(QStandardItemModel):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        root = self.invisibleRootItem()
        root.appendRow(_header("Library"))
        self.all_item = _entry("All photos", Scope("all"))
        self.recent_item = _entry("Recent imports", Scope("recent"))
        self.recent_item.setToolTip("Photos added during the last 7 days")
        self.shared_item = _entry("Shared", Scope("shared"))
        self.shared_item.setToolTip("Every protected copy you made, and who received it")
        root.appendRow(self.all_item)
        root.appendRow(self.recent_item)
        root.appendRow(self.shared_item)
        self.leaks_item = _entry("Leaks", Scope("leaks"))
        self.leaks_item.setToolTip("Copies of your photos found by “Scan for leaks”, and your removal requests")
        root.appendRow(self.leaks_item)
        root.appendRow(_header("Dates"))
        self.dates_anchor = self.rowCount()
        self._months: tuple = ()
        root.appendRow(_header("Coming later"))
        for text, tip in LATER:
            item = _entry(text, None)
            item.setFlags(Qt.ItemFlag.NoItemFlags)  # greyed: the feature does not exist yet
            item.setToolTip(tip)
            root.appendRow(item)

    def update_from(self, photos: Iterable[PhotoInfo], now: datetime | None = None) -> None:
        photos = list(photos)
        cutoff = recent_import_cutoff(now)
        self._set_count(self.all_item, "All photos", len(photos))
        self._set_count(self.recent_item, "Recent imports", sum(p.imported_at >= cutoff for p in photos))
        months = Counter((p.taken_at.year, p.taken_at.month) for p in photos)
        signature = tuple(sorted(months.items(), reverse=True))
        if signature == self._months:
            return
        self._months = signature
        root = self.invisibleRootItem()
        # Remove the old year rows (between the "Dates" header and the next header).
        end = self.dates_anchor
        while end < self.rowCount() and self.item(end).data(SCOPE_ROLE) is not None:
            end += 1
        if end > self.dates_anchor:
            self.removeRows(self.dates_anchor, end - self.dates_anchor)
        years: dict[int, list[tuple[int, int]]] = {}
        for (year, month), count in signature:
            years.setdefault(year, []).append((month, count))
        for offset, (year, month_counts) in enumerate(years.items()):
            year_item = _entry("", Scope("year", year))
            self._set_count(year_item, str(year), sum(c for _, c in month_counts))
            for month, count in month_counts:
                month_item = _entry("", Scope("month", year, month))
                self._set_count(month_item, calendar.month_name[month], count)
                year_item.appendRow(month_item)
            root.insertRow(self.dates_anchor + offset, [year_item])

    def set_share_count(self, count: int) -> None:
        self._set_count(self.shared_item, "Shared", count)

    def set_leak_count(self, count: int) -> None:
        self._set_count(self.leaks_item, "Leaks", count)

    @staticmethod
    def _set_count(item: QStandardItem, label: str, count: int) -> None:
        item.setData(count, COUNT_ROLE)
        text = f"{label}  ({count:,})"
        if item.text() != text:
            item.setText(text)

    def index_of_scope(self, scope: Scope) -> QModelIndex:
        def walk(parent: QStandardItem) -> QStandardItem | None:
            for row in range(parent.rowCount()):
                child = parent.child(row)
                if child is None:
                    continue
                if child.data(SCOPE_ROLE) == scope:
                    return child
                found = walk(child)
                if found is not None:
                    return found
            return None

        item = walk(self.invisibleRootItem())
        return self.indexFromItem(item) if item is not None else QModelIndex()


class SidebarView(QTreeView):
    scope_selected = Signal(object)  # Scope

    def __init__(self, model: SidebarModel, parent=None):
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setModel(model)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(14)
        self.setItemsExpandable(True)
        self.setExpandsOnDoubleClick(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.selectionModel().currentChanged.connect(self._on_current)
        self.setCurrentIndex(model.indexFromItem(model.all_item))
        model.rowsInserted.connect(self._on_rows_inserted)

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            self.setRootIsDecorated(False)

    def _on_current(self, current: QModelIndex, previous: QModelIndex) -> None:
        scope = current.data(SCOPE_ROLE)
        if isinstance(scope, Scope):
            self.scope_selected.emit(scope)
            if scope.kind == "year":
                self.expand(current)

    def select_scope(self, scope: Scope) -> None:
        index = self.model().index_of_scope(scope)
        if index.isValid():
            self.setCurrentIndex(index)
