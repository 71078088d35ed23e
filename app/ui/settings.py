"""The app's preferences, declared in code with type, default and label (STYLE.md, principle 10).

They live in the vault's encrypted DB under keys prefixed `ui.` (see `app.core.preferences`,
which stores and parses them). They are read and written on the UI thread, which has its own
DB connection; each access is one small query.
"""

from __future__ import annotations

# Re-exported: the UI reads its preferences as `settings.read(settings.THUMBNAIL_SIZE)`.
from app.core.preferences import SettingSpec, read, write

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

BACKUP_FOLDER = SettingSpec(
    "ui.backup_folder", str, "", "Backup folder",
    "Where Settings > Backup puts the vault's encrypted backup. Kept in the vault, so the folder's name "
    "is not left in a plain settings file.")
BACKUP_AUTOMATIC = SettingSpec(
    "ui.backup_automatic", bool, False, "Back up automatically when this folder is connected",
    "Checked when the vault is unlocked and every few minutes while it is; a backup runs when the "
    "folder holds this vault's backup and the last one is over an hour old.")
BACKUP_LAST = SettingSpec("ui.backup_last", str, "", "Last backup", "When the last backup finished (UTC).")

ALL_SETTINGS = (AUTO_LOCK_MINUTES, THUMBNAIL_SIZE, SHARE_STRIP_LOCATION, REQUESTER_NAME, REQUESTER_EMAIL,
                SHOW_SENSITIVE, BACKUP_FOLDER, BACKUP_AUTOMATIC, BACKUP_LAST)

__all__ = ["AUTO_LOCK_MINUTES", "THUMBNAIL_SIZE", "SHARE_STRIP_LOCATION", "REQUESTER_NAME", "REQUESTER_EMAIL", "SHOW_SENSITIVE", "BACKUP_FOLDER", "BACKUP_AUTOMATIC", "BACKUP_LAST", "ALL_SETTINGS", "SettingSpec", "read", "write"]
