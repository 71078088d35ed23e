"""Second factor: TOTP with ±1 step, no reuse, persisted back-off, one-time recovery codes."""

from __future__ import annotations

import pyotp
import pytest

from app.core import auth
from app.core.errors import LockedOut, TotpRequired, TotpReused, WrongPassphrase, WrongTotp
from app.core.vault import Vault

from .conftest import PASSPHRASE, fast_kdf


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def totp_vault(vault_path):
    vault, created = Vault.create(vault_path, PASSPHRASE, enable_totp=True, kdf=fast_kdf())
    vault.lock()
    return vault_path, created


def code_at(created, when: float) -> str:
    return pyotp.TOTP(created.totp.secret).at(when)


def test_enrollment_uri_and_qr(totp_vault):
    _, created = totp_vault
    assert created.totp.uri.startswith("otpauth://totp/Sanctum:")
    assert "secret=" + created.totp.secret in created.totp.uri
    qr = created.totp.terminal_qr()
    assert qr.count("\n") > 10 and any(block in qr for block in "█▀▄")
    assert Vault.status(totp_vault[0]).totp_hint is True


def test_code_required_and_accepted_within_one_step(totp_vault):
    path, created = totp_vault
    clock = FakeClock()
    with pytest.raises(TotpRequired):
        Vault.unlock(path, PASSPHRASE, clock=clock)
    # a code from the previous step (a slow typist) still works
    Vault.unlock(path, PASSPHRASE, totp_code=code_at(created, clock.now - 30), clock=clock).lock()
    clock.now += 60
    Vault.unlock(path, PASSPHRASE, totp_code=code_at(created, clock.now + 30), clock=clock).lock()


def test_wrong_and_stale_codes_refused(totp_vault):
    path, created = totp_vault
    clock = FakeClock()
    with pytest.raises(WrongTotp):
        Vault.unlock(path, PASSPHRASE, totp_code=code_at(created, clock.now - 90), clock=clock)
    with pytest.raises(WrongTotp):
        Vault.unlock(path, PASSPHRASE, totp_code="12345", clock=clock)


def test_code_cannot_be_reused(totp_vault):
    path, created = totp_vault
    clock = FakeClock()
    code = code_at(created, clock.now)
    Vault.unlock(path, PASSPHRASE, totp_code=code, clock=clock).lock()
    with pytest.raises(TotpReused):
        Vault.unlock(path, PASSPHRASE, totp_code=code, clock=clock)
    # nor an older one, even within the ±1 window
    with pytest.raises(TotpReused):
        Vault.unlock(path, PASSPHRASE, totp_code=code_at(created, clock.now - 30), clock=clock)
    clock.now += 30
    Vault.unlock(path, PASSPHRASE, totp_code=code_at(created, clock.now), clock=clock).lock()


def test_backoff_is_persisted_and_grows(totp_vault):
    path, created = totp_vault
    clock = FakeClock()
    for _ in range(auth.FREE_ATTEMPTS - 1):
        with pytest.raises(WrongPassphrase):
            Vault.unlock(path, "wrong passphrase", clock=clock)
    with pytest.raises(WrongTotp):  # a wrong code counts as a failure too
        Vault.unlock(path, PASSPHRASE, totp_code="000000", clock=clock)
    # now locked out, even with the right passphrase and code: the wait is enforced first
    with pytest.raises(LockedOut) as locked:
        Vault.unlock(path, PASSPHRASE, totp_code=code_at(created, clock.now), clock=clock)
    assert locked.value.seconds_left == pytest.approx(auth.FIRST_DELAY_SECONDS)
    # a fresh gate object (another process, a restart) sees the same state on disk
    with pytest.raises(LockedOut):
        auth.BackoffGate(path / "auth-state.json", clock).check()
    clock.now += auth.FIRST_DELAY_SECONDS + 1
    with pytest.raises(WrongPassphrase):
        Vault.unlock(path, "wrong again", clock=clock)
    with pytest.raises(LockedOut) as locked:
        Vault.unlock(path, PASSPHRASE, clock=clock)
    assert locked.value.seconds_left == pytest.approx(2 * auth.FIRST_DELAY_SECONDS)
    clock.now += 2 * auth.FIRST_DELAY_SECONDS + 1
    Vault.unlock(path, PASSPHRASE, totp_code=code_at(created, clock.now), clock=clock).lock()
    assert auth.BackoffGate(path / "auth-state.json", clock).failures == 0


def test_recovery_codes_are_one_time(totp_vault):
    path, created = totp_vault
    code = created.recovery_codes[3]
    with Vault.unlock(path, PASSPHRASE, recovery_code=code.lower()) as vault:
        assert vault.remaining_recovery_codes() == 9
    with pytest.raises(WrongTotp):
        Vault.unlock(path, PASSPHRASE, recovery_code=code)
    with pytest.raises(WrongTotp):
        Vault.unlock(path, PASSPHRASE, recovery_code="AAAAA-BBBBB")


def test_recovery_codes_stored_only_hashed(totp_vault):
    path, created = totp_vault
    from app.core import db

    with Vault.unlock(path, PASSPHRASE, recovery_code=created.recovery_codes[0]):
        stored = [row.code_hash for row in db.RecoveryCode.select()]
    assert len(stored) == 10
    plain = {auth.normalise_recovery_code(c) for c in created.recovery_codes}
    assert not plain & set(stored)
    assert all(len(h) == 64 for h in stored)
