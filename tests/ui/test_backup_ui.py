"""Settings > Backup driven as a user would: choose a folder, Back up now (progress, then the last
backup time), Verify (a damaged backup is named), and the automatic backup, which waits for a
folder that holds this vault's backup and never starts a first one by itself."""

from __future__ import annotations

from app.core.backup import read_manifest
from app.core.backup.manifest import blob_path
from app.ui import settings as prefs
from app.ui.settings_dialog import SettingsDialog


def _section(qtbot, session, window):
    dialog = SettingsDialog(session, window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog, dialog.backup_section


def test_back_up_now_then_verify_from_settings(qtbot, unlocked, photo_dir, tmp_path):
    session, window, _ = unlocked
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.start_import([str(photo_dir / "photo00.jpg"), str(photo_dir / "photo01.jpg")])
    dialog, section = _section(qtbot, session, window)
    assert not section.back_up_button.isEnabled() and section.last.text() == "No backup made yet."
    (tmp_path / "usb").mkdir()
    dest = tmp_path / "usb" / "sanctum"
    section.set_folder(str(dest))
    assert section.back_up_button.isEnabled()

    progress = []
    session.backups.progress.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(session.backups.running_changed, timeout=60_000,
                          check_params_cb=lambda running: not running):
        section.back_up_button.click()
        assert section.stop_button.isVisible() and not section.back_up_button.isEnabled()
    assert "Backed up 2 photos" in section.status.text()
    assert section.last.text().startswith("Last backup: ") and progress[-1][0] == progress[-1][1] == 6
    assert prefs.read(prefs.BACKUP_FOLDER) == str(dest) and prefs.read(prefs.BACKUP_LAST)

    with qtbot.waitSignal(session.backups.running_changed, timeout=60_000,
                          check_params_cb=lambda running: not running):
        section.verify_button.click()
    assert section.status.text().startswith("Backup checked, no problem found: all 6 encrypted files")

    name = sorted(read_manifest(dest).blobs)[2]
    data = bytearray(blob_path(dest, name).read_bytes())
    data[300] ^= 0x04
    blob_path(dest, name).write_bytes(bytes(data))
    with qtbot.waitSignal(session.backups.running_changed, timeout=60_000,
                          check_params_cb=lambda running: not running):
        section.verify_button.click()
    assert "1 problem" in section.status.text() and name in section.status.text()
    dialog.reject()


def test_automatic_backup_only_into_an_existing_backup_of_this_vault(qtbot, unlocked, tmp_path):
    session, window, _ = unlocked
    dialog, section = _section(qtbot, session, window)
    dest = tmp_path / "drive" / "backup"
    section.set_folder(str(dest))
    section.automatic.setChecked(True)
    assert prefs.read(prefs.BACKUP_AUTOMATIC) is True
    # Not connected (no backup there yet): nothing is created, the status says it waits.
    with qtbot.waitSignal(session.backups.running_changed, timeout=30_000,
                          check_params_cb=lambda running: not running):
        assert session.backups.check_automatic() is not None
    assert "waiting for the backup folder" in section.status.text() and not dest.exists()
    (tmp_path / "drive").mkdir()  # plugged in

    with qtbot.waitSignal(session.backups.running_changed, timeout=60_000,
                          check_params_cb=lambda running: not running):
        section.back_up_button.click()
    assert session.backups.check_automatic() is None  # just backed up: not due for an hour
    prefs.write(prefs.BACKUP_LAST, "2020-01-01T00:00:00+00:00")
    with qtbot.waitSignal(session.backups.running_changed, timeout=60_000,
                          check_params_cb=lambda running: not running):
        assert session.backups.check_automatic() is not None
    assert read_manifest(dest).generation == 2 and "Backed up 0 photos" in section.status.text()
    dialog.reject()
