"""Preferences stored in the vault: declared in code with type, default and label (STYLE.md,
principle 10), read and written as typed values.

They live in the vault's encrypted DB, so they belong to the vault and say nothing to someone
without the passphrase. Each access is one small query on the calling thread's connection.
What the app's preferences are is the UI's business (`app.ui.settings` declares them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    label: str
    help: str = ""
    choices: tuple[tuple[Any, str], ...] = ()


_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def _parse(spec: SettingSpec, raw: str) -> Any:
    if spec.type is bool:  # bool("False") is True: spell it out
        word = raw.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError(raw)
    return spec.type(raw)


def read(spec: SettingSpec) -> Any:
    try:
        from . import db  # SQLCipher: only once a vault is open, not for the start screens

        raw = db.get_setting(spec.key)
    except Exception:  # noqa: BLE001 - a preference must never stop the app
        log.warning("could not read setting %s", spec.key)
        return spec.default
    if raw is None:
        return spec.default
    try:
        value = _parse(spec, raw)
    except (TypeError, ValueError):
        return spec.default
    if spec.choices and value not in {c for c, _ in spec.choices}:
        return spec.default
    return value


def write(spec: SettingSpec, value: Any) -> None:
    from . import db

    if spec.type is bool:
        db.put_setting(spec.key, "1" if value else "0")
    else:
        db.put_setting(spec.key, str(spec.type(value)))
