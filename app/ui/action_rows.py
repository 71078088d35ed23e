"""Rows of Settings' sections: a button, and beside it in muted words what it does."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QPushButton

# (object name, button text, what a click does, the explanation beside it)
ActionRow = tuple[str, str, Callable[[], object], str]


def add_action_rows(layout: QBoxLayout, rows: Iterable[ActionRow]) -> dict[str, QPushButton]:
    """Add one row per action to `layout`; the buttons by object name."""
    buttons: dict[str, QPushButton] = {}
    for name, text, slot, help_text in rows:
        row = QHBoxLayout()
        button = QPushButton(text)
        button.setObjectName(name)
        button.setMinimumWidth(170)
        button.clicked.connect(slot)
        buttons[name] = button
        row.addWidget(button)
        explanation = QLabel(help_text)
        explanation.setWordWrap(True)
        explanation.setProperty("muted", True)
        row.addWidget(explanation, 1)
        layout.addLayout(row)
    return buttons
