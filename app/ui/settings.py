"""Preferences, declared in code with type, default and label (STYLE.md, principle 10).

They live in the vault's encrypted DB under keys prefixed `ui.`, so they belong to the vault
and say nothing to someone without the passphrase. They are read and written on the UI thread,
which has its own DB connection; each access is one small query.
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


AUTO_LOCK_MINUTES = SettingSpec(
    "ui.auto_lock_minutes", int, 5, "Lock after being idle for",
    "Sanctum locks itself (keys dropped, photos cleared from the screen) after this many minutes "
    "without keyboard or mouse use.")
THUMBNAIL_SIZE = SettingSpec(
    "ui.thumbnail_size", int, 176, "Thumbnail size", "How big photos are in the gallery.",
    choices=((128, "Small"), (176, "Medium"), (240, "Large")))

SHARE_STRIP_LOCATION = SettingSpec(
    "ui.share_strip_location", bool, True, "Remove location (GPS) from shared copies",
    "A shared photo should not say where you live or were. Untick only when the place must show "
    "(you can still change it for one share in the Share dialog).")

REQUESTER_NAME = SettingSpec(
    "ui.requester_name", str, "", "Your name (for removal requests)",
    "Signed at the end of removal notices. Kept in the vault, so only you see it.")
REQUESTER_EMAIL = SettingSpec(
    "ui.requester_email", str, "", "Your email (for removal requests)",
    "Where the host can answer a removal request. Kept in the vault, so only you see it.")

SHOW_SENSITIVE = SettingSpec(
    "ui.show_sensitive", bool, False, "Show sensitive photos",
    "Sensitive photos (flagged automatically or by you) are blurred everywhere in Sanctum until you "
    "reveal them one by one. Tick to show them all sharp.")

ALL_SETTINGS = (AUTO_LOCK_MINUTES, THUMBNAIL_SIZE, SHARE_STRIP_LOCATION, REQUESTER_NAME, REQUESTER_EMAIL,
                SHOW_SENSITIVE)

_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def _parse(spec: SettingSpec, raw: str) -> Any:
    if spec.type is bool:  # bool("False") is True: spell it out
        word = raw.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError(raw)
    return spec.type(raw)


def read(spec: SettingSpec) -> Any:
    from app.core import db  # SQLCipher: only once a vault is open, not for the start screens

    try:
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
    from app.core import db

    if spec.type is bool:
        db.put_setting(spec.key, "1" if value else "0")
    else:
        db.put_setting(spec.key, str(spec.type(value)))
