"""The "Panic lock" section of Settings: the panic key, the global shortcut (with why it is not
offered where the platform does not allow it), the blank window, locking with the screen."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from . import settings
from .global_hotkey import Availability, availability
from .session_events import supported as screen_lock_supported


def _muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setProperty("muted", True)
    return label


def _choice_box(spec: settings.SettingSpec, name: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    for value, label in spec.choices:
        box.addItem(label, value)
    box.setCurrentIndex(max(0, box.findData(settings.read(spec))))
    box.setToolTip(spec.help)
    return box


class PanicSection(QWidget):
    """Reads its values from the vault when built; `save()` writes them back."""

    def __init__(self, parent: QWidget | None = None, hotkey: Availability | None = None):
        super().__init__(parent)
        self.setObjectName("panicSection")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Panic lock")
        title.setStyleSheet("font-weight: 600; margin-top: 8px;")
        layout.addWidget(title)
        form = QFormLayout()
        self.panic_key = _choice_box(settings.PANIC_KEY, "panicKey")
        form.addRow(settings.PANIC_KEY.label, self.panic_key)
        self.global_shortcut = _choice_box(settings.PANIC_GLOBAL_SHORTCUT, "panicGlobalShortcut")
        form.addRow(settings.PANIC_GLOBAL_SHORTCUT.label, self.global_shortcut)
        layout.addLayout(form)
        # The section stays short (Settings must fit a laptop screen): the longer words are tooltips.
        title.setToolTip("Locks at once from any Sanctum window, even with a dialog open: photos close and "
                         "what Sanctum copied leaves the clipboard. It does not hide that Sanctum is "
                         "installed or where the vault is.")
        self.hotkey = availability() if hotkey is None else hotkey
        if self.hotkey.available:
            self.shortcut_note = _muted(settings.PANIC_GLOBAL_SHORTCUT.help)
        else:
            self.global_shortcut.setCurrentIndex(0)
            self.global_shortcut.setEnabled(False)
            self.shortcut_note = _muted(self.hotkey.reason)
        self.shortcut_note.setObjectName("panicShortcutNote")
        layout.addWidget(self.shortcut_note)
        self.neutral = QCheckBox(settings.PANIC_NEUTRAL_WINDOW.label)
        self.neutral.setObjectName("panicNeutralWindow")
        self.neutral.setChecked(bool(settings.read(settings.PANIC_NEUTRAL_WINDOW)))
        self.neutral.setToolTip(settings.PANIC_NEUTRAL_WINDOW.help)
        layout.addWidget(self.neutral)
        self.screen_lock = QCheckBox(settings.LOCK_ON_SCREEN_LOCK.label)
        self.screen_lock.setObjectName("lockOnScreenLock")
        self.screen_lock.setChecked(bool(settings.read(settings.LOCK_ON_SCREEN_LOCK)))
        layout.addWidget(self.screen_lock)
        if screen_lock_supported():
            self.screen_lock.setToolTip(settings.LOCK_ON_SCREEN_LOCK.help)
        else:
            self.screen_lock.setEnabled(False)
            layout.addWidget(_muted("Not yet on this system: Sanctum does not hear when its screen locks. "
                                    "It still locks after the idle time above."))

    def save(self) -> None:
        settings.write(settings.PANIC_KEY, self.panic_key.currentData())
        if self.hotkey.available:  # where it cannot work, a stored choice stays as it was
            settings.write(settings.PANIC_GLOBAL_SHORTCUT, self.global_shortcut.currentData())
        settings.write(settings.PANIC_NEUTRAL_WINDOW, self.neutral.isChecked())
        settings.write(settings.LOCK_ON_SCREEN_LOCK, self.screen_lock.isChecked())
