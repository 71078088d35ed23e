"""Where a vault lives and what its folder holds, known without opening it.

The start screens (setup wizard, unlock screen) need only this: the default folder, the file
names, and whether a folder holds a vault. It imports nothing beyond the standard library and
the core's errors, so showing them does not load what an open vault needs (SQLCipher, numpy,
Pillow, the ciphers: app.core.vault, which re-exports these names).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import NotAVault, UnsupportedVaultVersion, VaultNotFound

HEADER_NAME = "vault.json"
DB_NAME = "vault.db"
BLOBS_DIR = "blobs"
AUTH_STATE_NAME = "auth-state.json"
LOCK_NAME = "vault.lock"
FORMAT_NAME = "sanctum-vault"
# 3: two key slots, each with its own MAC and database (docs/threat-model.md, "A second
# passphrase"); 2: one set of keys under one MAC; 1: no MAC. Older ones are migrated at unlock.
FORMAT_VERSION = 3
SLOT_COUNT = 2
_SLOT_FIELDS = ("kdf", "sealed_master_passphrase", "sealed_master_recovery", "public_key",
                "sealed_private_key", "database", "mac")


@dataclass(frozen=True)
class VaultStatus:
    """What can be known about a vault folder without any secret."""

    path: Path
    exists: bool
    totp_hint: bool  # whether the unlock screen should ask for a code (enforced from the DB)


def default_vault_path() -> Path:
    env = os.environ.get("SANCTUM_VAULT")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("Sanctum", appauthor=False)) / "vault"


def vault_status(path: Path) -> VaultStatus:
    path = Path(path)
    try:
        header = read_header(path)
    except (VaultNotFound, NotAVault, UnsupportedVaultVersion):
        return VaultStatus(path, False, False)
    return VaultStatus(path, True, bool(header.get("totp_hint")))


def read_header(path: Path) -> dict:
    """The vault's header (vault.json), checked for shape only: its MAC needs the master secret."""
    header_path = path / HEADER_NAME
    if not path.exists():
        raise VaultNotFound(f"There is no Sanctum vault at {path}.")
    if not header_path.exists():
        if path.is_dir() and not any(path.iterdir()):
            raise VaultNotFound(f"There is no Sanctum vault at {path}.")
        raise NotAVault(f"{path} is not a Sanctum vault (no {HEADER_NAME}).")
    try:
        header = json.loads(header_path.read_text(encoding="utf-8"))
        if header.get("format") != FORMAT_NAME:
            raise ValueError
        if int(header.get("version", 0)) >= 3:
            slots = header["slots"]
            if not isinstance(slots, list) or len(slots) != SLOT_COUNT:
                raise ValueError
            for slot in slots:
                for key in _SLOT_FIELDS:
                    slot[key]  # noqa: B018 - presence check
        else:
            for key in _SLOT_FIELDS[:5]:
                header[key]  # noqa: B018 - presence check
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise NotAVault(f"{path} is not a Sanctum vault, or its header is damaged.") from None
    if int(header.get("version", 0)) > FORMAT_VERSION:
        raise UnsupportedVaultVersion()
    return header
