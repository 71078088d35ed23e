""""Watch these places": a row of the scan dialog's sources page. Ticked, the scan's places join
the watch list (watch_dialog.py) and this scan is their first check; Sanctum then checks them
again on the interval chosen here while it is open."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSpinBox, QWidget

from app.core.leaks.watch import DEFAULT_EVERY_HOURS


class WatchChoice(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.watch = QCheckBox("Watch these places: check them again while Sanctum is open, every")
        self.watch.setObjectName("scanWatch")
        self.watch.setToolTip("Pages are read again each time; only new images are downloaded, only changed "
                              "files read. You are told when a new copy appears.")
        self.every = QSpinBox()
        self.every.setObjectName("scanWatchEvery")
        self.every.setRange(1, 24 * 30)
        self.every.setValue(int(DEFAULT_EVERY_HOURS))
        self.every.setSuffix(" hours")
        self.every.setEnabled(False)
        self.watch.toggled.connect(self.every.setEnabled)
        layout.addWidget(self.watch)
        layout.addWidget(self.every)
        layout.addStretch(1)

    def every_hours(self) -> float | None:
        """The interval chosen, or None when the places are not to be watched."""
        return float(self.every.value()) if self.watch.isChecked() else None
