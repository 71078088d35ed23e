"""Second factor: TOTP enrollment and verification, one-time recovery codes, back-off.

TOTP is a gate in front of the app, not part of the encryption key: someone who has the vault
files and the passphrase can decrypt them without it (docs/threat-model.md says so). What it
does stop is someone who learned the passphrase (shoulder-surfing, a reused password) from
opening the vault in Sanctum on the user's own computer.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import LockedOut, TotpReused, WrongTotp
from .files import write_atomically

TOTP_STEP_SECONDS = 30
TOTP_ISSUER = "Sanctum"
RECOVERY_CODE_COUNT = 10

# Back-off: free attempts, then a wait that doubles with every further failure.
FREE_ATTEMPTS = 3
FIRST_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 60 * 60

Clock = Callable[[], float]


@dataclass(frozen=True)
class TotpEnrollment:
    secret: str
    uri: str

    def terminal_qr(self) -> str:
        """The provisioning URI as a QR code drawn with block characters."""
        import io

        import segno

        out = io.StringIO()
        segno.make(self.uri, error="m").terminal(out=out, compact=True)
        return out.getvalue()


def new_totp(account: str = "vault") -> TotpEnrollment:
    import pyotp  # here, not at the top: the unlock screen uses the back-off gate only

    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=TOTP_ISSUER
    )
    return TotpEnrollment(secret, uri)


def match_totp_step(secret: str, code: str, now: float) -> int | None:
    """The time step (±1 around now, for clock drift) whose code equals `code`, else None."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    import pyotp

    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    current = int(now // TOTP_STEP_SECONDS)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
            return step
    return None


def check_totp(secret: str, code: str, last_used_step: int, now: float) -> int:
    """Return the matched step (to be stored as the new last used one) or raise."""
    step = match_totp_step(secret, code, now)
    if step is None:
        raise WrongTotp()
    if step <= last_used_step:
        # A code seen once (over a shoulder, on a screen recording) must not open the vault again.
        raise TotpReused()
    return step


# --- recovery codes ---------------------------------------------------------------------------


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    return [
        "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
        for _ in range(count)
    ]


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_recovery_code(key: bytes, code: str) -> str:
    # 50 random bits each, so a keyed hash is enough (no slow KDF needed) and the stored
    # value is useless without the vault's master secret.
    return hmac.new(key, normalise_recovery_code(code).encode(), "sha256").hexdigest()


# --- persisted back-off -------------------------------------------------------------------------


class BackoffGate:
    """Counts failed unlock attempts in a small file beside the vault.

    The file is plain JSON because it must be read before anything is decrypted. Deleting it
    resets the count: this slows down someone trying passphrases in the app, not an attacker
    with a copy of the files (Argon2id is what slows those down).
    """

    def __init__(self, path: Path, clock: Clock = time.time):
        self.path = path
        self.clock = clock

    def _load(self) -> dict:
        try:
            state = json.loads(self.path.read_text())
            return {"failures": int(state.get("failures", 0)), "retry_at": float(state.get("retry_at", 0))}
        except (OSError, ValueError, TypeError, AttributeError):
            return {"failures": 0, "retry_at": 0.0}

    def _save(self, state: dict) -> None:
        # 0600, like every file of the vault; durable, so a crash cannot reset the count
        write_atomically(self.path, json.dumps(state).encode("utf-8"))

    def check(self) -> None:
        state = self._load()
        left = state["retry_at"] - self.clock()
        if left > 0:
            raise LockedOut(state["retry_at"], left)

    def record_failure(self) -> float:
        """Count a failure; returns the number of seconds until the next attempt is allowed."""
        state = self._load()
        state["failures"] += 1
        extra = state["failures"] - FREE_ATTEMPTS
        delay = 0.0 if extra < 0 else min(FIRST_DELAY_SECONDS * 2.0**extra, MAX_DELAY_SECONDS)
        state["retry_at"] = self.clock() + delay
        self._save(state)
        return delay

    def record_success(self) -> None:
        if self._load()["failures"]:
            self._save({"failures": 0, "retry_at": 0.0})

    @property
    def failures(self) -> int:
        return self._load()["failures"]
