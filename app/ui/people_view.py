"""The People view: one tile per person (their best face, name, photo count); rename inline or
with Rename…, select two and Merge, open a person to see their photos in the gallery.

Faces are cut from the large thumbnail in a worker (`ListPeopleJob`) and arrive as `QImage`s;
a cover face from a sensitive photo arrives blurred, like every other thumbnail.
"""

from __future__ import annotations

import logging
from enum import IntEnum

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.workers.people_jobs import PersonFace

log = logging.getLogger(__name__)


class PeopleRoles(IntEnum):
    PersonId = Qt.ItemDataRole.UserRole + 1
    Info = Qt.ItemDataRole.UserRole + 2
    Name = Qt.ItemDataRole.UserRole + 3


def person_title(info) -> str:
    return info.name or "Unnamed"


class PeopleModel(QAbstractListModel):
    """People as `PersonFace`s; editing a name asks for a rename (the DB answers, then we show it)."""

    rename_requested = Signal(int, str)  # person id, new name

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._people: list[PersonFace] = []
        self._pixmaps: dict[int, QPixmap] = {}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._people)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._people) or index.column() != 0:
            return None
        entry = self._people[index.row()]
        info = entry.info
        if role == Qt.ItemDataRole.DisplayRole:
            n = info.photo_count
            return f"{person_title(info)}\n{n:,} photo{'s' if n != 1 else ''}"
        if role == Qt.ItemDataRole.EditRole or role == PeopleRoles.Name:
            return info.name or ""
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmaps.get(info.id)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"{person_title(info)}: {info.face_count:,} face{'s' if info.face_count != 1 else ''} in "
                    f"{info.photo_count:,} photo{'s' if info.photo_count != 1 else ''}\n"
                    "Double-click to see their photos; F2 to rename")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{person_title(info)}, {info.photo_count} photos"
        if role == PeopleRoles.PersonId:
            return info.id
        if role == PeopleRoles.Info:
            return info
        return None

    def setData(self, index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        info = self._people[index.row()].info
        name = str(value).strip()
        if name != (info.name or ""):
            self.rename_requested.emit(info.id, name)
        return False  # the name changes when the DB says so (set_people after the edit)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def set_people(self, people: list[PersonFace]) -> None:
        self.beginResetModel()
        self._people = list(people)
        self._pixmaps = {p.info.id: QPixmap.fromImage(p.face) for p in self._people if not p.face.isNull()}
        self.endResetModel()

    def clear(self) -> None:
        self.set_people([])

    @property
    def people(self) -> list[PersonFace]:
        return list(self._people)

    def row_of(self, person_id: int) -> int | None:
        for row, entry in enumerate(self._people):
            if entry.info.id == person_id:
                return row
        return None

    def pixmap(self, person_id: int) -> QPixmap | None:
        return self._pixmaps.get(person_id)


class PeoplePage(QWidget):
    """The grid of people and its actions."""

    open_person = Signal(object)  # PersonInfo
    merge_requested = Signal(int, int)  # keep, absorb
    rename_requested = Signal(int, str)

    EDGE = 128

    def __init__(self, model: PeopleModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("peoplePage")
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.setContentsMargins(10, 6, 10, 6)
        self.hint = QLabel("Double-click a person to see their photos. Select two to merge them.")
        self.hint.setProperty("muted", True)
        self.hint.setWordWrap(True)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setObjectName("renamePerson")
        self.rename_button.clicked.connect(self.rename_selected)
        self.merge_button = QPushButton("Merge")
        self.merge_button.setObjectName("mergePeople")
        self.merge_button.setToolTip("The two selected are the same person: keep one, with every face of both")
        self.merge_button.clicked.connect(self.merge_selected)
        bar.addWidget(self.hint, 1)
        bar.addWidget(self.rename_button)
        bar.addWidget(self.merge_button)
        layout.addLayout(bar)
        self.grid = QListView()
        self.grid.setObjectName("peopleGrid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setIconSize(QSize(self.EDGE, self.EDGE))
        self.grid.setGridSize(QSize(self.EDGE + 40, self.EDGE + 56))
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setWordWrap(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.SelectedClicked)
        self.grid.setModel(model)
        self.grid.activated.connect(self._activated)
        self.grid.selectionModel().selectionChanged.connect(self._update_buttons)
        model.modelReset.connect(self._update_buttons)
        model.rename_requested.connect(self.rename_requested)
        layout.addWidget(self.grid, 1)
        self.empty = QLabel()
        self.empty.setObjectName("peopleEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setProperty("muted", True)
        layout.addWidget(self.empty)
        self._update_buttons()

    def selected_people(self) -> list:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        return [self.model.index(r, 0).data(PeopleRoles.Info) for r in rows]

    def select_person(self, person_id: int) -> None:
        row = self.model.row_of(person_id)
        if row is not None:
            self.grid.setCurrentIndex(self.model.index(row, 0))

    def _update_buttons(self, *args) -> None:
        chosen = self.selected_people()
        self.rename_button.setEnabled(len(chosen) == 1)
        self.merge_button.setEnabled(len(chosen) == 2)
        empty = self.model.rowCount() == 0
        self.empty.setVisible(empty)
        self.empty.setText("No people yet. Faces found in your photos are grouped here, one tile per person, "
                           "once Sanctum has organised them." if empty else "")

    def _activated(self, index: QModelIndex) -> None:
        info = index.data(PeopleRoles.Info)
        if info is not None:
            self.open_person.emit(info)

    def rename_selected(self) -> None:
        chosen = self.selected_people()
        if len(chosen) != 1:
            return
        info = chosen[0]
        name, ok = QInputDialog.getText(self, "Name this person", "Name (only you see it, inside the vault):",
                                        text=info.name or "")
        if ok and name.strip() != (info.name or ""):
            self.rename_requested.emit(info.id, name.strip())

    def merge_selected(self) -> None:
        chosen = self.selected_people()
        if len(chosen) != 2:
            return
        # Keep the named one (or the one with more faces): its name and cover stay.
        keep, absorb = sorted(chosen, key=lambda p: (p.name is None, -p.face_count, p.id))
        self.merge_requested.emit(keep.id, absorb.id)
