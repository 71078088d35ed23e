"""Noticing a vault folder replaced by an older copy of itself.

Each vault counts its unlocks in its encrypted database. The highest count seen is kept outside
the vault folder, in the user's own settings folder (`seen_path`), so putting back an older copy
of the folder does not put back an older record with it. A vault that opens with a count below
the one recorded was rolled back: the app says so (it does not refuse: the older copy may be the
one the user restored on purpose).

The record names no folder and says nothing readable: each entry is an id derived from a random
key kept in the vault's database, and the count sealed under that key. Every vault writes two
entries, its own and its partner slot's (see vault/slots.py), re-sealed at every unlock, so the
record looks the same whether a second passphrase was set or not (docs/threat-model.md).
"""

from __future__ import annotations

import json
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from . import crypto
from .errors import AuthenticationFailed
from .files import write_atomically

log = logging.getLogger(__name__)

SEEN_FILE_ENV = "SANCTUM_SEEN_FILE"  # tests and portable installs point it elsewhere
_ID_INFO = "sanctum rollback record id v1"
_SEAL_INFO = "sanctum rollback record seal v1"
_PURPOSE = "sanctum rollback counter v1"
_COUNT = struct.Struct(">Q")


@dataclass(frozen=True)
class RollbackWarning:
    """The vault opened with an older unlock count than this computer saw before."""

    opened_at: int  # the count the vault's database held
    seen: int  # the highest count recorded on this computer


def seen_path() -> Path:
    env = os.environ.get(SEEN_FILE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("Sanctum", appauthor=False)) / "seen.json"


def _entry_id(key: bytes) -> str:
    return crypto.hkdf(key, _ID_INFO, length=16).hex()


def _load(path: Path) -> dict[str, str]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8")).get("entries", {})
        return {str(k): str(v) for k, v in entries.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def _read(entries: dict[str, str], key: bytes) -> int:
    sealed = entries.get(_entry_id(key))
    if sealed is None:
        return 0
    try:
        return _COUNT.unpack(crypto.unseal(crypto.hkdf(key, _SEAL_INFO), crypto.b64d(sealed), _PURPOSE))[0]
    except (AuthenticationFailed, ValueError, struct.error):
        return 0  # an entry someone edited counts as none: the next unlock writes it again


def _seal(key: bytes, count: int) -> str:
    return crypto.b64e(crypto.seal(crypto.hkdf(key, _SEAL_INFO), _COUNT.pack(count), _PURPOSE))


def record_unlock(key: bytes, partner_key: bytes, count: int, path: Path | None = None) -> tuple[int, RollbackWarning | None]:
    """Compare the vault's unlock `count` with the record and write the next one; returns the
    count to store in the vault and the warning, if it opened older than seen. The partner's
    entry is re-sealed as it was (written with 0 when missing)."""
    path = path or seen_path()
    entries = _load(path)
    seen = _read(entries, key)
    warning = RollbackWarning(count, seen) if count < seen else None
    following = max(count, seen) + 1
    entries[_entry_id(key)] = _seal(key, following)
    entries[_entry_id(partner_key)] = _seal(partner_key, _read(entries, partner_key))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps({"entries": entries}, sort_keys=True).encode("utf-8"))
    except OSError as exc:
        # The vault must open even where the settings folder cannot be written.
        log.warning("could not record the vault's unlock count: %s", type(exc).__name__)
    return following, warning
