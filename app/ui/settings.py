"""Preferences, declared in code with type, default and label (STYLE.md, principle 10).

They live in the vault's encrypted DB under keys prefixed `ui.`, so they belong to the vault
and say nothing to someone without the passphrase. They are read and written on the UI thread,
which has its own DB connection; each access is one small query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from app.core import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    label: str
    help: str = ""
    choices: tuple[tuple[Any, str], ...] = ()


AUTO_LOCK_MINUTES = SettingSpec(
    "ui.auto_lock_minutes", int, 5, "Lock after being idle for",
    "Sanctum locks itself (keys dropped, photos cleared from the screen) after this many minutes "
    "without keyboard or mouse use.")
THUMBNAIL_SIZE = SettingSpec(
    "ui.thumbnail_size", int, 176, "Thumbnail size", "How big photos are in the gallery.",
    choices=((128, "Small"), (176, "Medium"), (240, "Large")))

ALL_SETTINGS = (AUTO_LOCK_MINUTES, THUMBNAIL_SIZE)


def read(spec: SettingSpec) -> Any:
    try:
        raw = db.get_setting(spec.key)
    except Exception:  # noqa: BLE001 - a preference must never stop the app
        log.warning("could not read setting %s", spec.key)
        return spec.default
    if raw is None:
        return spec.default
    try:
        value = spec.type(raw)
    except (TypeError, ValueError):
        return spec.default
    if spec.choices and value not in {c for c, _ in spec.choices}:
        return spec.default
    return value


def write(spec: SettingSpec, value: Any) -> None:
    db.put_setting(spec.key, str(spec.type(value)))
