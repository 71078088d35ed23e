"""Dropping one photo onto the Check dialog."""

from __future__ import annotations

from PySide6.QtGui import QDragEnterEvent, QDropEvent

from .resources import repolish


def local_paths(event) -> list[str]:
    """The local files a drag or drop event carries (web links and the like are ignored)."""
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class SingleFileDrop:
    """Mixin for a QDialog with a `drop` area: highlights it while a file hovers and hands one
    dropped local file to `take_dropped_file`. Subclasses set `drop_verb` ("check")
    and provide `_show_problem(title, text)`."""

    drop_verb = "check"

    def take_dropped_file(self, path: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_dragging(self, on: bool) -> None:
        self.drop.setProperty("dragging", on)
        repolish(self.drop)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if local_paths(event):
            event.acceptProposedAction()
            self._set_dragging(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._set_dragging(False)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self._set_dragging(False)
        paths = local_paths(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        if len(paths) > 1:
            self._show_problem("One photo at a time", f"Drop a single photo to {self.drop_verb} it.")
            return
        self.take_dropped_file(paths[0])
