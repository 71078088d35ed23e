"""Restoring a backup from the setup wizard, driven as a user would, on a real backup of a real
vault made in the test: the whole way to the restored vault's photos, a wrong passphrase (then
the recovery key), folders that are not backups, a destination that is not empty, and Cancel."""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard

from app.core.backup import MANIFEST_NAME, read_manifest
from app.core.backup.manifest import blob_path, stored_file
from app.core.vault import Vault
from app.ui.session import Session
from app.ui.wizard import PAGE_LOCATION, PAGE_RESTORE, SetupWizard
from app.workers.base import Job

from .conftest import FAST_KDF, PASSPHRASE

PHOTOS = 3


@dataclass(frozen=True)
class Backup:
    folder: Path
    recovery_key: str
    totp_secret: str


@pytest.fixture(scope="module")
def made_backup(tmp_path_factory, photo_dir) -> Backup:
    """A backup of a vault with an authenticator and three photos; restores only read it."""
    root = tmp_path_factory.mktemp("old-computer")
    vault, created = Vault.create(root / "vault", PASSPHRASE, enable_totp=True, kdf=FAST_KDF)
    with vault:
        report = vault.import_paths([photo_dir / f"photo0{n}.jpg" for n in range(PHOTOS)])
        assert len(report.imported) == PHOTOS
        (root / "usb").mkdir()
        vault.backup(root / "usb" / "Sanctum backup")
    return Backup(root / "usb" / "Sanctum backup", created.recovery_key, created.totp.secret)


@pytest.fixture
def wizard(qtbot, tmp_path):
    session = Session(tmp_path / "new" / "vault", kdf=FAST_KDF)
    wizard = SetupWizard(session, session.vault_path)
    qtbot.addWidget(wizard)
    wizard.show()
    yield wizard
    session.shutdown()
    session.idle.uninstall()


def _to_restore_page(wizard: SetupWizard, backup: Path) -> None:
    assert wizard.currentId() == PAGE_LOCATION
    wizard.location_page.restore_choice.click()
    assert wizard.location_page.isComplete()
    wizard.next()
    assert wizard.currentId() == PAGE_RESTORE
    wizard.restore_page.folder_edit.setText(str(backup))


def _restore_button(wizard: SetupWizard):
    button = wizard.button(QWizard.WizardButton.FinishButton)
    assert button.isVisible() and button.text() == "Restore"
    return button


def _partial(target: Path) -> Path:
    return target.with_name(f".{target.name}.sanctum-restore")


def test_restore_from_the_first_window_then_unlock_shows_every_photo(qtbot, tmp_path, made_backup):
    from app.ui.application import AppController, UnlockWindow

    target = tmp_path / "new" / "vault"
    controller = AppController(target, kdf=FAST_KDF)
    wizard = controller.start()
    assert isinstance(wizard, SetupWizard)
    assert wizard.location_page.create_choice.isChecked()  # the common case stays the default
    _to_restore_page(wizard, made_backup.folder)
    page = wizard.restore_page
    assert page.folder_note.text().startswith("✓ A Sanctum backup")
    for way_out in (QWizard.WizardButton.BackButton, QWizard.WizardButton.CancelButton):
        assert wizard.button(way_out).isVisible() and wizard.button(way_out).isEnabled()  # a last page too
    assert not _restore_button(wizard).isEnabled()  # no passphrase yet
    page.passphrase.setText(PASSPHRASE)
    with qtbot.waitSignal(wizard.vault_restored, timeout=60_000) as restored:
        _restore_button(wizard).click()
        assert page.progress.isVisible() and page.cancel_button.isVisible()
        assert not wizard.button(QWizard.WizardButton.BackButton).isEnabled()
    report = restored.args[0]
    assert report.photos == PHOTOS and report.problems == () and Path(report.vault) == target.absolute()
    listed = read_manifest(made_backup.folder)
    assert page.progress.value() == page.progress.maximum() == len(listed.files) + len(listed.blobs)
    assert not _partial(target).exists() and Vault.status(target).exists

    # The restored vault's unlock screen, with the authenticator code asked as usual.
    first = controller.unlock_window
    assert isinstance(first, UnlockWindow) and first.isVisible() and not wizard.isVisible()
    unlock = first.unlock_page
    assert f"Restored {PHOTOS} photos from the backup" in unlock.message.text()
    assert "authenticator" in unlock.message.text() and unlock.code.isVisible()
    assert unlock.path_label.text() == str(target.absolute())
    unlock.passphrase.setText(PASSPHRASE)
    unlock.code.setText(pyotp.TOTP(made_backup.totp_secret).now())
    with qtbot.waitSignal(controller.session.unlocked, timeout=20_000):
        unlock.unlock_button.click()
    window = controller.window
    qtbot.waitUntil(lambda: window.model.rowCount() == PHOTOS, timeout=20_000)
    qtbot.waitUntil(lambda: not controller.session.jobs.busy(), timeout=20_000)
    assert window.isVisible()
    window.close()
    window.deleteLater()
    controller.shutdown()
    controller.session.idle.uninstall()
    # shutdown() waited for every job: their queued `ended` signals are posted, and reach the
    # manager now, while it still exists.
    QApplication.processEvents()


def test_a_wrong_passphrase_is_said_then_the_recovery_key_restores(qtbot, wizard, tmp_path, made_backup):
    target = tmp_path / "new" / "vault"
    _to_restore_page(wizard, made_backup.folder)
    page = wizard.restore_page
    page.passphrase.setText("not the passphrase at all")
    _restore_button(wizard).click()
    qtbot.waitUntil(lambda: not page.working, timeout=30_000)
    assert "That passphrase does not open this backup" in page.status.text()
    assert page.status.property("role") == "error"
    assert not target.exists() and not _partial(target).exists()
    assert _restore_button(wizard).isEnabled() and wizard.isVisible()  # try again at once

    page.switch.click()
    assert page.recovery_key.isVisible() and not page.passphrase.isVisible()
    assert not _restore_button(wizard).isEnabled()
    page.recovery_key.setText(made_backup.recovery_key.lower().replace("-", " "))
    with qtbot.waitSignal(wizard.vault_restored, timeout=60_000) as restored:
        _restore_button(wizard).click()
    assert restored.args[0].photos == PHOTOS
    Vault.recover(target, made_backup.recovery_key).lock()


def test_a_folder_that_is_not_a_backup_is_said_at_once(qtbot, wizard, tmp_path, made_backup):
    _to_restore_page(wizard, tmp_path)
    page = wizard.restore_page
    page.passphrase.setText(PASSPHRASE)
    notes = {}
    photos = tmp_path / "holiday photos"
    photos.mkdir()
    (photos / "beach.jpg").write_bytes(b"\xff\xd8\xff")
    for name, folder in (("photos", photos), ("missing", tmp_path / "no such folder"),
                         ("drive", made_backup.folder.parent)):
        page.folder_edit.setText(str(folder))
        notes[name] = page.folder_note.text()
        assert not page.isComplete() and not _restore_button(wizard).isEnabled(), name
        assert page.folder_note.property("role") == "error"
    assert "not a Sanctum backup folder" in notes["photos"]
    assert "no folder there" in notes["missing"]
    assert "“Sanctum backup” inside it does: choose that one" in notes["drive"]

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / MANIFEST_NAME).write_text('{"format": "sanctum-backup", "version": 1, "files": ')
    page.folder_edit.setText(str(damaged))
    assert "manifest (sanctum-backup.json) is damaged" in page.folder_note.text()
    assert not _restore_button(wizard).isEnabled()
    page.folder_edit.setText(str(made_backup.folder))
    assert _restore_button(wizard).isEnabled()
    wizard.location_page.path_edit.setText(str(made_backup.folder / "vault"))  # as if chosen before Back
    page.initializePage()
    assert "cannot go inside its own backup folder" in page.folder_note.text()
    assert not _restore_button(wizard).isEnabled()
    assert not (tmp_path / "new").exists()


def test_a_destination_that_is_not_empty_is_refused_and_left_as_it_was(qtbot, wizard, tmp_path, made_backup):
    target = tmp_path / "new" / "vault"
    target.mkdir(parents=True)
    (target / ".hidden").write_text("someone's file")
    wizard.location_page.restore_choice.click()
    # A new vault may go beside hidden files; a restore refuses any file, as the core does.
    assert not wizard.location_page.isComplete()
    assert "not empty" in wizard.location_page.problem.text()
    wizard.location_page.create_choice.click()
    assert wizard.location_page.isComplete()

    (target / ".hidden").unlink()
    _to_restore_page(wizard, made_backup.folder)
    (target / "notes.txt").write_text("written after the first page")  # the folder filled meanwhile
    page = wizard.restore_page
    page.passphrase.setText(PASSPHRASE)
    _restore_button(wizard).click()
    qtbot.waitUntil(lambda: not page.working, timeout=30_000)
    assert "is not empty: restore into a new or empty folder" in page.status.text()
    assert [p.name for p in target.iterdir()] == ["notes.txt"] and not _partial(target).exists()


class _HoldLane(Job):
    """Occupies the one-thread "backup" lane until released, so that the restore queued behind it
    can be hooked before it starts."""

    lane = "backup"

    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def work(self) -> None:
        self.release.wait(20)


def test_cancel_stops_the_restore_and_leaves_no_vault_folder(qtbot, wizard, tmp_path, made_backup):
    target = tmp_path / "new" / "vault"
    _to_restore_page(wizard, made_backup.folder)
    page = wizard.restore_page
    page.passphrase.setText(PASSPHRASE)
    # The restore waits after its first file until Cancel has been clicked, so the click lands
    # while files are being written, whatever the machine's speed.
    clicked, first_file = threading.Event(), threading.Event()

    def hold(done: int, _total: int) -> None:  # on the worker thread (direct connection)
        if done >= 1 and not first_file.is_set():
            first_file.set()
            clicked.wait(20)

    lane = wizard.session.jobs.start(_HoldLane())
    _restore_button(wizard).click()
    page.job.signals.progress.connect(hold, Qt.ConnectionType.DirectConnection)
    lane.release.set()
    try:
        qtbot.waitUntil(first_file.is_set, timeout=30_000)
        assert _partial(target).is_dir()  # being written, hidden beside the target
        page.cancel_button.click()
        assert page.status.text() == "Cancelling…" and not page.cancel_button.isEnabled()
        wizard.reject()  # the wizard's own Cancel, while restoring, stops the restore, not the wizard
        assert wizard.isVisible()
    finally:
        clicked.set()
    qtbot.waitUntil(lambda: not page.working, timeout=30_000)
    assert page.status.text().startswith("Restore cancelled. Nothing was left in")
    assert not target.exists() and not _partial(target).exists()
    assert _restore_button(wizard).isEnabled() and not page.progress.isVisible()


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_damaged_backup_is_said_in_words_and_leaves_nothing(qtbot, wizard, tmp_path, made_backup):
    target = tmp_path / "new" / "vault"
    damaged = tmp_path / "damaged backup"
    shutil.copytree(made_backup.folder, damaged)
    manifest = read_manifest(damaged)
    _flip_byte(stored_file(damaged, manifest.files[manifest.database]))
    _to_restore_page(wizard, damaged)
    page = wizard.restore_page
    assert page.folder_note.text().startswith("✓")  # the list reads; the damage shows in restoring
    page.passphrase.setText(PASSPHRASE)
    _restore_button(wizard).click()
    qtbot.waitUntil(lambda: not page.working, timeout=30_000)
    assert "The backup's" in page.status.text() and "damaged" in page.status.text()
    assert not target.exists() and not _partial(target).exists()


def test_a_damaged_photo_in_the_backup_is_named_on_the_unlock_screen(qtbot, tmp_path, made_backup):
    """One blob fails its check: the others are restored, and the unlock screen says so."""
    from app.ui.application import AppController

    damaged = tmp_path / "damaged backup"
    shutil.copytree(made_backup.folder, damaged)
    _flip_byte(blob_path(damaged, sorted(read_manifest(damaged).blobs)[0]))
    controller = AppController(tmp_path / "new" / "vault", kdf=FAST_KDF)
    wizard = controller.start()
    _to_restore_page(wizard, damaged)
    wizard.restore_page.switch.click()
    wizard.restore_page.recovery_key.setText(made_backup.recovery_key)
    with qtbot.waitSignal(wizard.vault_restored, timeout=60_000) as restored:
        _restore_button(wizard).click()
    assert len(restored.args[0].problems) == 1 and restored.args[0].photos == PHOTOS
    note = controller.unlock_window.unlock_page.message.text()
    assert f"Restored {PHOTOS} photos" in note and "1 file was damaged in the backup" in note
    assert "recovery key" in note  # restored with the key: the way in without the passphrase
    controller.unlock_window.close()
    controller.shutdown()
    controller.session.idle.uninstall()
    # shutdown() waited for every job: their queued `ended` signals are posted, and reach the
    # manager now, while it still exists.
    QApplication.processEvents()


def test_a_vault_outside_the_default_folder_says_how_to_open_it(qtbot, wizard, tmp_path, made_backup,
                                                                monkeypatch):
    monkeypatch.setenv("SANCTUM_VAULT", str(tmp_path / "new" / "vault"))  # the default folder here
    _to_restore_page(wizard, made_backup.folder)
    assert "sanctum --vault" not in wizard.restore_page.target_note.text()
    wizard.back()
    wizard.location_page.path_edit.setText(str(tmp_path / "external drive" / "vault"))
    wizard.next()
    note = wizard.restore_page.target_note.text()
    assert "external drive/vault" in note and "sanctum --vault" in note
