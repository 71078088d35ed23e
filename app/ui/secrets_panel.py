"""A recovery key and one-time codes, shown once: the setup wizard's recovery page and the
dialog Settings opens for a new key or new codes both show them with `SecretsPanel`.

Copy goes through the session's `SecretClipboard`, not a timer of the panel's own: the panel
dies with its wizard or dialog, and the secret must still leave the clipboard after that (and
on lock or quit), marked secret for clipboard managers meanwhile. Save writes a text file
readable by its owner only. Both take the text from the page that shows the panel
(`text_to_keep`): it knows which vault the secret opens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.core.hardening import write_private_text

from . import dialogs
from .clipboard import SecretClipboard, copied_note

# Monospace fonts whose zero is slashed or dotted, so a key read off the screen is copied right.
KEY_FONTS = ("Cascadia Mono", "Consolas", "Menlo", "SF Mono", "DejaVu Sans Mono", "Noto Sans Mono")


def key_font(scale: float = 1.0) -> QFont:
    """The font for keys typed by hand: the first of `KEY_FONTS` installed, else any monospace."""
    installed = set(QFontDatabase.families())
    family = next((f for f in KEY_FONTS if f in installed), "monospace")
    font = QFont(family)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(font.pointSizeF() * scale)
    return font


def codes_table(codes: Sequence[str]) -> str:
    """The one-time codes in two columns (rich text)."""
    half = (len(codes) + 1) // 2
    rows = "".join(f"<tr><td style='padding-right:24px'><code>{a}</code></td><td><code>{b}</code></td></tr>"
                   for a, b in zip(codes[:half], [*codes[half:], ""], strict=False))
    return f"<table>{rows}</table>"


class SecretsPanel(QWidget):
    """The key in a card (with its QR code beside it on request), Copy / Save as text… / Show as
    QR code, a line saying what was done, and the codes under it (or in the card's place when
    there is no key)."""

    def __init__(self, clipboard: SecretClipboard, text_to_keep: Callable[[], str],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.clipboard = clipboard
        self.text_to_keep = text_to_keep
        self.recovery_key: str | None = None
        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.card = QFrame()
        self.card.setObjectName("recoveryCard")
        card_layout = QHBoxLayout(self.card)
        self.key_label = QLabel()
        self.key_label.setObjectName("recoveryKey")
        self.key_label.setWordWrap(True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setFont(key_font(1.25))
        self.key_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        card_layout.addWidget(self.key_label, 1)
        self.qr = QLabel()
        self.qr.setObjectName("recoveryQr")
        self.qr.hide()
        card_layout.addWidget(self.qr)
        layout.addWidget(self.card)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy)
        self.save_button = QPushButton("Save as text…")
        self.save_button.clicked.connect(self.save)
        self.qr_button = QPushButton("Show as QR code")
        self.qr_button.setCheckable(True)
        self.qr_button.toggled.connect(self._toggle_qr)
        for button in (self.copy_button, self.save_button, self.qr_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.note = QLabel(" ")
        self.note.setObjectName("secretsNote")
        self.note.setProperty("muted", True)
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.codes_label = QLabel()
        self.codes_label.setObjectName("recoveryCodes")
        self.codes_label.setWordWrap(True)
        self.codes_label.setTextFormat(Qt.TextFormat.RichText)
        self.codes_label.setOpenExternalLinks(False)
        self.codes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.codes_label)

    def show_secrets(self, recovery_key: str | None, codes: Sequence[str] = (), codes_heading: str = "") -> None:
        """Show a key (None: codes only, no card and no QR code) and codes, under their heading."""
        self.recovery_key = recovery_key
        self.card.setVisible(bool(recovery_key))
        self.qr_button.setVisible(bool(recovery_key))
        if recovery_key:
            from .qr import qr_pixmap  # segno: once there is a key to show

            self.key_label.setText(recovery_key)
            self.qr.setPixmap(qr_pixmap(recovery_key, scale=4))
        self.codes_label.setText(codes_heading + codes_table(codes) if codes else "")
        self.codes_label.setVisible(bool(codes))
        # Without a key the codes are the secret: they take the card's place, above the buttons
        # that copy and save them; beside a key they follow it, under the note.
        self._layout.removeWidget(self.codes_label)
        self._layout.insertWidget(self._layout.count() if recovery_key else 1, self.codes_label)

    def copy(self) -> None:
        self.clipboard.copy(self.text_to_keep())
        self.note.setText(copied_note(self.clipboard))

    def save(self) -> None:
        what = "recovery key" if self.recovery_key else "recovery codes"
        path = dialogs.save_file(self, f"Save the {what}", str(Path.home() / f"Sanctum {what}.txt"),
                                 "Text files (*.txt)")
        if not path:
            return
        try:
            write_private_text(Path(path), self.text_to_keep())  # 0600: readable by you only
        except OSError as exc:
            dialogs.show_error(self, exc)
            return
        self.note.setText(f"Saved to {path}. Move it off this computer (a USB stick, a printout).")

    def _toggle_qr(self, shown: bool) -> None:
        self.qr.setVisible(shown)
        self.qr_button.setText("Hide QR code" if shown else "Show as QR code")
