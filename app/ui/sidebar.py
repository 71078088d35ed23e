"""The sidebar: library views, dates by year and month, tags (the eight categories and the
most common fine labels), people and sensitive photos.

Tag and people counts come from the organise summary (a job); until the first one arrives the
entries show no count.
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
from app.core.vision.categories import CATEGORIES

from .photo_model import recent_import_cutoff

SCOPE_ROLE = Qt.ItemDataRole.UserRole + 1
COUNT_ROLE = Qt.ItemDataRole.UserRole + 2

MORE_TAGS = 15  # fine labels listed under "More tags" (the search box suggests all of them)
# The "people" tag must not read like the "People" entry (the list of persons) above it.
TAG_NAMES = {"people": "Photos with people"}


def tag_name(term: str) -> str:
    """How a tag is shown: "Vehicles", "Tabby", "Photos with people"."""
    return TAG_NAMES.get(term, term[:1].upper() + term[1:])


@dataclass(frozen=True)
class Scope:
    """What the library shows: kind is "all", "recent", "year", "month", "tag", "person" or
    "sensitive" (photos in the gallery), "people" (the People view), "shared" (the table of
    protected copies) or "leaks" (copies found by scans)."""

    kind: str = "all"
    year: int = 0
    month: int = 0
    tag: str = ""
    person: int = 0
    label: str = ""  # the person's name as shown (not part of what selects the photos)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Scope):
            return NotImplemented
        return (self.kind, self.year, self.month, self.tag, self.person) == (
            other.kind, other.year, other.month, other.tag, other.person)

    def __hash__(self) -> int:
        return hash((self.kind, self.year, self.month, self.tag, self.person))

    @property
    def needs_query(self) -> bool:
        """Whether the photos shown come from a DB query (tags, people, the flag)."""
        return self.kind in ("tag", "person", "sensitive")

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
        if self.kind == "tag":
            return tag_name(self.tag)
        if self.kind == "person":
            return self.label or "Unnamed person"
        if self.kind == "people":
            return "People"
        if self.kind == "sensitive":
            return "Sensitive"
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
        root.appendRow(_header("Organised"))
        self.people_item = _entry("People", Scope("people"))
        self.people_item.setToolTip("Faces found in your photos, grouped by person. Name them, merge or fix them.")
        self.sensitive_item = _entry("Sensitive", Scope("sensitive"))
        self.sensitive_item.setToolTip("Photos flagged as sensitive (automatically or by you). They stay "
                                       "blurred until you reveal them.")
        self.tags_item = _entry("Tags", None)
        self.tags_item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a folder of tags, not a view itself
        self.tags_item.setToolTip("Found automatically in your photos, on this computer")
        self.category_items: dict[str, QStandardItem] = {}
        for name in CATEGORIES:
            item = _entry(tag_name(name), Scope("tag", tag=name))
            self.category_items[name] = item
            self.tags_item.appendRow(item)
        self.category_items["people"].setToolTip("Photos in which a face was found")
        self.more_tags_item = _entry("More tags", None)
        self.more_tags_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.more_tags_item.setToolTip("The most common things found; type in the search box for the rest")
        self.tags_item.appendRow(self.more_tags_item)
        root.appendRow(self.people_item)
        root.appendRow(self.sensitive_item)
        root.appendRow(self.tags_item)
        self._labels: tuple = ()

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

    def update_organise(self, summary) -> None:
        """Counts from an `OrganiseSummary`: people, sensitive photos, categories, top labels."""
        self._set_count(self.people_item, "People", len(summary.people))
        self._set_count(self.sensitive_item, "Sensitive", summary.sensitive)
        for tag in summary.categories:
            item = self.category_items.get(tag.term)
            if item is not None:
                self._set_count(item, tag_name(tag.term), tag.count)
        labels = tuple((t.term, t.count) for t in summary.labels[:MORE_TAGS])
        if labels != self._labels:
            self._labels = labels
            self.more_tags_item.removeRows(0, self.more_tags_item.rowCount())
            for term, count in labels:
                item = _entry("", Scope("tag", tag=term))
                self._set_count(item, tag_name(term), count)
                self.more_tags_item.appendRow(item)

    def clear_organise(self) -> None:
        for item, label in ((self.people_item, "People"), (self.sensitive_item, "Sensitive")):
            item.setData(None, COUNT_ROLE)
            item.setText(label)
        for name, item in self.category_items.items():
            item.setData(None, COUNT_ROLE)
            item.setText(tag_name(name))
        self._labels = ()
        self.more_tags_item.removeRows(0, self.more_tags_item.rowCount())

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
        self.expand(model.indexFromItem(model.tags_item))

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            self.setRootIsDecorated(False)

    def _on_current(self, current: QModelIndex, previous: QModelIndex) -> None:
        scope = current.data(SCOPE_ROLE)
        if isinstance(scope, Scope):
            self.scope_selected.emit(scope)
            if scope.kind == "year":
                self.expand(current)
        elif current.isValid() and self.model().hasChildren(current):
            self.expand(current)  # "Tags", "More tags": open on click

    def select_scope(self, scope: Scope) -> None:
        index = self.model().index_of_scope(scope)
        if index.isValid():
            self.setCurrentIndex(index)
