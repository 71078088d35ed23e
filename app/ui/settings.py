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

# Panic lock (app/ui/controllers/panic.py). The key and the global shortcut are chosen from short
# lists, not recorded freely: each was picked to be reachable by feel and rare by accident.
PANIC_KEY = SettingSpec(
    "ui.panic_key", str, "escape-twice", "Panic key",
    "Locks at once from any Sanctum window or dialog: photos close, what Sanctum copied leaves the clipboard.",
    choices=(("escape-twice", "Escape, twice quickly"), ("f12", "F12"), ("pause", "Pause / Break")))
PANIC_GLOBAL_SHORTCUT = SettingSpec(
    "ui.panic_global_shortcut", str, "", "Also from other apps",
    "Also while another app is in front. Sanctum then sees every key pressed, to notice this one; "
    "it keeps none.",
    choices=(("", "Off"), ("<ctrl>+<shift>+<f12>", "Ctrl+Shift+F12"), ("<ctrl>+<alt>+<end>", "Ctrl+Alt+End"),
             ("<pause>", "Pause / Break")))
PANIC_NEUTRAL_WINDOW = SettingSpec(
    "ui.panic_neutral_window", bool, False, "Switch to a blank window",
    "After a panic lock, Sanctum's windows are hidden and an empty window titled “Untitled” takes "
    "their place. Press Ctrl+L in it to get Sanctum's unlock screen back; closing it quits Sanctum.")
LOCK_ON_SCREEN_LOCK = SettingSpec(
    "ui.lock_on_screen_lock", bool, True, "Lock when the screen locks or the computer sleeps",
    "Where the system tells apps about it (Linux desktops that use systemd-logind or a screen saver "
    "service).")

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
                SHOW_SENSITIVE, PANIC_KEY, PANIC_GLOBAL_SHORTCUT, PANIC_NEUTRAL_WINDOW, LOCK_ON_SCREEN_LOCK,
                BACKUP_FOLDER, BACKUP_AUTOMATIC, BACKUP_LAST)

__all__ = ["AUTO_LOCK_MINUTES", "THUMBNAIL_SIZE", "SHARE_STRIP_LOCATION", "REQUESTER_NAME", "REQUESTER_EMAIL", "SHOW_SENSITIVE", "PANIC_KEY",
           "PANIC_GLOBAL_SHORTCUT", "PANIC_NEUTRAL_WINDOW", "LOCK_ON_SCREEN_LOCK", "BACKUP_FOLDER", "BACKUP_AUTOMATIC",
           "BACKUP_LAST", "ALL_SETTINGS", "SettingSpec", "read", "write"]
