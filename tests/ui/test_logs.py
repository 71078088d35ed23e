"""What the logs say: an expected failure (a wrong passphrase, a file that is no image) is one
line naming the job and the error's class, with no traceback and nothing personal; a bug keeps
its traceback. Real jobs on a real vault in tmp_path."""

from __future__ import annotations

import logging

from app.core.errors import UnsupportedImage, WrongPassphrase
from app.core.vault import Vault
from app.workers.base import Job
from app.workers.manager import JobManager
from app.workers.vault_jobs import UnlockJob, UnlockRequest

from .conftest import FAST_KDF, PASSPHRASE


def _run(qtbot, job: Job) -> list:
    seen: list = []
    job.signals.failed.connect(seen.append)
    manager = JobManager()
    with qtbot.waitSignal(job.signals.ended, timeout=30_000):
        manager.start(job)
    manager.shutdown()
    return seen


def test_a_wrong_passphrase_logs_one_line_and_no_traceback(qtbot, tmp_path, caplog):
    vault, _ = Vault.create(tmp_path / "vault", PASSPHRASE, enable_totp=False, kdf=FAST_KDF)
    vault.lock()
    wrong = "lighthouse at the end of the pier"
    with caplog.at_level(logging.DEBUG):
        [exc] = _run(qtbot, UnlockJob(UnlockRequest(tmp_path / "vault", wrong)))
    assert isinstance(exc, WrongPassphrase)
    failures = [r for r in caplog.records if r.name == "app.workers.base"]
    assert [r.getMessage() for r in failures] == ["UnlockJob failed: WrongPassphrase"]
    assert failures[0].exc_info is None and "Traceback" not in caplog.text
    assert wrong not in caplog.text and PASSPHRASE not in caplog.text


class _ReadsAPrivateFile(Job):
    """Fails as reading a non-image does: the message names the file (here, a person's name)."""

    def work(self):
        raise UnsupportedImage("Private/dana-and-alex.jpg is not a supported image")


class _HasABug(Job):
    def work(self):
        return {}["missing"]


def test_expected_failures_name_no_file_and_bugs_keep_their_traceback(qtbot, caplog):
    with caplog.at_level(logging.DEBUG):
        _run(qtbot, _ReadsAPrivateFile())
    assert [r.getMessage() for r in caplog.records] == ["_ReadsAPrivateFile failed: UnsupportedImage"]
    assert "dana" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        [exc] = _run(qtbot, _HasABug())
    assert isinstance(exc, KeyError)
    [record] = caplog.records
    assert record.exc_info is not None and "Traceback" in caplog.text  # a bug: the traceback helps


def test_cli_wrong_passphrase_is_one_line(tmp_path, monkeypatch, capsys):
    from app import cli

    vault, _ = Vault.create(tmp_path / "vault", PASSPHRASE, enable_totp=False, kdf=FAST_KDF)
    vault.lock()
    monkeypatch.setenv("SANCTUM_PASSPHRASE", "not the passphrase at all")
    assert cli.main(["list", "--vault", str(tmp_path / "vault")]) != 0
    out = capsys.readouterr()
    assert out.err.strip().splitlines() == ["sanctum: Wrong passphrase."]
    assert "Traceback" not in out.err and "not the passphrase" not in out.err + out.out


def test_qt_messages_reach_the_log_without_what_urls_carry(caplog):
    from PySide6.QtCore import QtMsgType

    from app.ui.application import qt_message_to_log

    with caplog.at_level(logging.DEBUG, logger="qt"):
        qt_message_to_log(QtMsgType.QtWarningMsg, None,
                          "This plugin does not support QPlatformServices::openUrl() for "
                          "'mailto:abuse@host.example?subject=S&body=Dana Example dana@example.org'.")
        qt_message_to_log(QtMsgType.QtWarningMsg, None, "could not open https://img.example/d?token=abc123 now")
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.WARNING]
    assert "Dana" not in caplog.text and "abuse@host.example" not in caplog.text and "abc123" not in caplog.text
    assert "openUrl() for 'mailto:…'" in caplog.text and "https://img.example/d?…" in caplog.text
