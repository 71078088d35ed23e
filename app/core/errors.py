"""Typed exceptions raised by the core.

The core never formats messages for a particular front end; each exception carries a
plain-language default message, and the CLI and the GUI turn them into words in one place
each (`app/cli.py` and `app/ui/errors.py`).
"""

from __future__ import annotations


class SanctumError(Exception):
    """Base class of every error the core raises on purpose."""

    default_message = "Something went wrong."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)


# --- opening the vault -------------------------------------------------------------------


class VaultNotFound(SanctumError):
    default_message = "There is no Sanctum vault at this location."


class NotAVault(SanctumError):
    default_message = "This folder is not a Sanctum vault, or its header is damaged."


class VaultExists(SanctumError):
    default_message = "A vault already exists here."


class VaultBusy(SanctumError):
    default_message = "The vault is open in another Sanctum window or command."


class VaultLocked(SanctumError):
    default_message = "The vault is locked. Unlock it first."


class UnsupportedVaultVersion(SanctumError):
    default_message = "This vault was made by a newer version of Sanctum."


class HeaderTampered(SanctumError):
    default_message = (
        "The vault's header file (vault.json) was changed or damaged outside Sanctum, so the vault "
        "was not opened. Restore vault.json from a backup of the vault folder."
    )


class VaultIncomplete(SanctumError):
    default_message = (
        "The vault's database is missing. If vault.json was restored from an older copy, it belongs "
        "to keys that were replaced since (a passphrase change): put the current vault.json back."
    )


class WrongPassphrase(SanctumError):
    default_message = "Wrong passphrase."


class WrongRecoveryKey(SanctumError):
    default_message = "That recovery key does not open this vault."


class TotpRequired(SanctumError):
    default_message = "This vault needs a code from your authenticator app."


class WrongTotp(SanctumError):
    default_message = "Wrong authenticator code."


class TotpReused(SanctumError):
    default_message = "That authenticator code was already used. Wait for the next one."


class LockedOut(SanctumError):
    """Too many failed attempts: unlocking is refused until `retry_at` (epoch seconds)."""

    def __init__(self, retry_at: float, seconds_left: float):
        self.retry_at = retry_at
        self.seconds_left = seconds_left
        from .words import plural

        super().__init__(
            f"Too many failed attempts. Try again in {plural(int(seconds_left + 0.999), 'second')}."
        )


class WeakPassphrase(SanctumError):
    default_message = "The passphrase is too easy to guess: use at least 8 characters, better several words."


# --- integrity ----------------------------------------------------------------------------


class AuthenticationFailed(SanctumError):
    """Encrypted data failed authentication.

    Deliberately opaque: a flipped byte, a truncated file, a swapped blob and a wrong key all
    look the same, so the error tells an attacker nothing about which check failed.
    """

    default_message = "Encrypted data failed its integrity check (damaged or tampered)."


# --- photos ---------------------------------------------------------------------------------


class UnsupportedImage(SanctumError):
    default_message = "Not a supported image."


class ImageTooLarge(UnsupportedImage):
    default_message = "The image is too large to import safely."


class NotARegularFile(UnsupportedImage):
    """A pipe, device, socket or link to one: never read (it could hang or never end)."""

    default_message = "Not a regular file."


class PhotoNotFound(SanctumError):
    default_message = "No photo with that id in this vault."


class ExportError(SanctumError):
    default_message = "The photo could not be written to the destination."


class Cancelled(SanctumError):
    default_message = "Cancelled."


# --- backups --------------------------------------------------------------------------------


class BackupError(SanctumError):
    default_message = "The backup could not be made."


class NotABackup(BackupError):
    default_message = (
        "This folder is not a Sanctum backup. Choose an empty folder for a new backup, or the folder "
        "of an earlier backup of this vault."
    )


class BackupDamaged(BackupError):
    default_message = (
        "The backup is damaged or was changed outside Sanctum: it cannot be restored as it is. "
        "Check it with Verify to see what is wrong."
    )


class BackupDestinationFull(BackupError):
    default_message = (
        "The backup destination is full. The previous backup there is untouched; free some space "
        "and back up again (what was copied is kept)."
    )


class BackupDestinationGone(BackupError):
    default_message = (
        "The backup destination disappeared (a drive unplugged, a network folder gone). The previous "
        "backup there is untouched; reconnect it and back up again (what was copied is kept)."
    )


# --- the second passphrase and the integrity check ------------------------------------------


class SecondPassphraseRefused(SanctumError):
    """The second passphrase cannot be set from this session, or is this vault's own."""

    default_message = "A second passphrase cannot be set from here."
