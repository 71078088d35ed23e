"""The immunizer in the app: the Check dialog on immunized, tampered, plain and broken files,
the jobs behind it, and the Share dialog's immunize option — real photos, a real vault in
tmp_path and the real immunizer core (photos downscaled to ~256 px to keep it quick)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from app.core import fingerprint
from app.core.errors import UnsupportedImage
from app.core.immunizer import Mode, Verdict, immunize
from app.ui import dialogs
from app.ui.check_dialog import CheckDialog
from app.ui.check_words import key_fingerprint
from app.workers.immunize_jobs import CheckJob, CheckResult, ImmunizeFileJob, VerifiedImage, VerifyImageJob
from app.workers.manager import JobManager

from .conftest import DATA, FAST_KDF, PASSPHRASE
from .test_sharing_ui import _drop_file, _import, _open_share_dialog

EDGE = 256


@pytest.fixture(scope="module")
def small_photo(tmp_path_factory) -> Path:
    """A real photo (Kodak parrots) shrunk to 256 px on its long side, as PNG."""
    out = tmp_path_factory.mktemp("immunizer") / "parrots.png"
    img = Image.open(DATA / "photos" / "kodim23.png").convert("RGB")
    img.thumbnail((EDGE, EDGE), Image.Resampling.LANCZOS)
    img.save(out, "PNG")
    return out


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _tamper(src: Path, dst: Path) -> tuple[int, int, int, int]:
    """Copy-move: paste a block of the photo over another part of it. Returns the box."""
    img = Image.open(src).convert("RGB")
    w, h = img.size
    box = (w // 2, h // 4, w // 2 + w // 4, h // 4 + h // 3)
    block = img.crop((8, 8, 8 + box[2] - box[0], 8 + box[3] - box[1]))
    img.paste(block, box[:2])
    img.save(dst, "PNG")
    return box


def _run(qtbot, manager: JobManager, job) -> list:
    """Start a job and wait for it; returns [(outcome, value)]."""
    seen: list = []
    job.signals.finished.connect(lambda r: seen.append(("finished", r)))
    job.signals.failed.connect(lambda e: seen.append(("failed", e)))
    job.signals.cancelled.connect(lambda: seen.append(("cancelled", None)))
    with qtbot.waitSignal(job.signals.ended, timeout=120_000):
        manager.start(job)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    return seen


@pytest.fixture
def open_vault(tmp_path):
    from app.core.vault import Vault

    vault, _ = Vault.create(tmp_path / "vault", PASSPHRASE, enable_totp=False, kdf=FAST_KDF)
    yield vault
    vault.lock()


# --- the jobs --------------------------------------------------------------------------------------


def test_immunize_file_job_writes_a_png_that_verifies(qtbot, open_vault, small_photo, tmp_path):
    manager = JobManager()
    out = tmp_path / "out" / "immunized.png"
    out.parent.mkdir()
    [(outcome, made)] = _run(qtbot, manager, ImmunizeFileJob(open_vault, small_photo, out, Mode.LOSSLESS))
    assert outcome == "finished", made
    assert Path(made.path) == out and made.mode is Mode.LOSSLESS
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == Image.open(small_photo).size == (made.width, made.height)
    assert [p.name for p in out.parent.iterdir()] == ["immunized.png"]  # no temporary file left

    [(outcome, verified)] = _run(qtbot, manager, VerifyImageJob(out, open_vault))
    assert outcome == "finished", verified
    assert isinstance(verified, VerifiedImage)
    res = verified.result
    assert res.verdict is Verdict.AUTHENTIC and res.mode is Mode.LOSSLESS
    assert res.signature_valid and verified.signed_by_this_vault
    assert bytes(res.signer) == open_vault.signing_public_key()
    assert not res.mask.any()
    if res.bit_exact:  # lossless: the photo before immunizing comes back exactly
        assert np.array_equal(res.recovered, _pixels(small_photo))
    assert (verified.suspect.width(), verified.suspect.height()) == Image.open(out).size

    # tampered: the verdict says so, the mask covers the pasted block
    tampered = tmp_path / "tampered.png"
    x0, y0, x1, y1 = _tamper(out, tampered)
    [(outcome, verified)] = _run(qtbot, manager, VerifyImageJob(tampered, open_vault))
    assert outcome == "finished", verified
    res = verified.result
    assert res.verdict is Verdict.TAMPERED
    assert res.mask.shape == _pixels(tampered).shape[:2]
    assert res.mask[y0:y1, x0:x1].mean() > 0.5
    assert 0 < res.tampered_fraction < 0.5

    # the Check dialog's job reads the marks and runs the same check, in one go
    [(outcome, checked)] = _run(qtbot, manager, CheckJob(open_vault, tampered))
    assert outcome == "finished", checked
    assert isinstance(checked, CheckResult) and checked.file_format == "PNG"
    assert checked.share is None and checked.report.share_id is None  # immunized, but never shared
    assert checked.verified.result.verdict is Verdict.TAMPERED and checked.verified.signed_by_this_vault

    # a plain photo carries nothing; without a vault the job still verifies
    [(outcome, verified)] = _run(qtbot, manager, VerifyImageJob(small_photo))
    assert outcome == "finished", verified
    assert verified.result.verdict is Verdict.NOT_IMMUNIZED and not verified.signed_by_this_vault


def test_jobs_refuse_broken_files(qtbot, open_vault, small_photo, tmp_path):
    manager = JobManager()
    truncated = tmp_path / "truncated.png"
    data = small_photo.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "notes.jpg"
    garbage.write_text("not a photo at all")
    for path in (truncated, garbage):
        [(outcome, exc)] = _run(qtbot, manager, VerifyImageJob(path, open_vault))
        assert outcome == "failed" and isinstance(exc, UnsupportedImage), exc
    out = tmp_path / "never.png"
    [(outcome, exc)] = _run(qtbot, manager, ImmunizeFileJob(open_vault, truncated, out, "robust"))
    assert outcome == "failed" and isinstance(exc, UnsupportedImage)
    assert not out.exists()


def test_cancel_stops_the_jobs_and_writes_nothing(qtbot, open_vault, tmp_path):
    manager = JobManager()
    photo = tmp_path / "parrots-full.png"  # full size: the core runs long enough to be stopped
    Image.open(DATA / "photos" / "kodim23.png").convert("RGB").save(photo)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    job = ImmunizeFileJob(open_vault, photo, out_dir / "immunized.png", Mode.LOSSLESS)
    # Cancel from the worker thread as soon as the core reports progress.
    job.signals.progress.connect(lambda done, total: done > 0 and job.cancel(), Qt.ConnectionType.DirectConnection)
    [(outcome, _)] = _run(qtbot, manager, job)
    assert outcome == "cancelled"
    assert list(out_dir.iterdir()) == []  # neither the PNG nor a temporary file

    job = VerifyImageJob(photo, open_vault)
    job.signals.progress.connect(lambda done, total: done > 0 and job.cancel(), Qt.ConnectionType.DirectConnection)
    [(outcome, _)] = _run(qtbot, manager, job)
    assert outcome == "cancelled"

    # the Check dialog's one job stops between the marks and the immunizer, or inside the latter
    check = CheckJob(open_vault, photo)
    check.signals.progress.connect(lambda done, total: done > 0 and check.cancel(), Qt.ConnectionType.DirectConnection)
    [(outcome, _)] = _run(qtbot, manager, check)
    assert outcome == "cancelled"


# --- the verify dialog ---------------------------------------------------------------------------


@pytest.fixture
def immunized(qtbot, unlocked, small_photo, tmp_path):
    """The unlocked window, and the small photo immunized (lossless) with the vault's key."""
    session, window, _made = unlocked
    out = tmp_path / "parrots-immunized.png"
    job = ImmunizeFileJob(session.vault, small_photo, out, Mode.LOSSLESS)
    with qtbot.waitSignal(job.signals.finished, timeout=120_000):
        session.jobs.start(job)
    qtbot.waitUntil(lambda: not session.jobs.busy(), timeout=5000)
    return session, window, out


def _check(qtbot, window, path: Path) -> tuple[CheckDialog, CheckResult]:
    dialog = window.open_check()
    assert dialog is not None and dialog.isVisible()
    with qtbot.waitSignal(dialog.checked, timeout=120_000) as blocker:
        dialog.check(str(path))
        assert dialog.progress_box.isVisible() and not dialog.save_recovered_button.isEnabled()
    assert not dialog.progress_box.isVisible()
    return dialog, blocker.args[0]


def test_check_dialog_on_a_tampered_immunized_file(qtbot, immunized, tmp_path, monkeypatch):
    session, window, out = immunized
    tampered = tmp_path / "found-online.png"
    _tamper(out, tampered)
    assert window.check_action.isEnabled()
    window.check_action.trigger()
    dialog = window.shares_controller.check_slot.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.headline.text() == "Nothing checked yet"
    with qtbot.waitSignal(dialog.checked, timeout=120_000):
        _drop_file(dialog, tampered)
    text = dialog.result_text()
    # not a share, but immunized by this vault: altered, and where
    assert dialog.headline.text() == "An immunized photo, altered after it was immunized"
    assert "Altered: Yes: about " in text and "marked in red" in text
    assert "“Before the change” shows what was there." in text
    assert "Signed by this vault's key" in text
    assert dialog.banner.property("verdict") == "altered"
    assert "Fragile mark" not in text  # immunization supersedes it
    # one canvas, three pictures: it opens on the changed areas
    size = Image.open(tampered).size
    assert dialog.current_view() == 1 and "Changed areas marked in red" in dialog.view_note.text()
    marked = dialog.canvas.pixmap.toImage()
    assert (marked.width(), marked.height()) == size
    dialog.view_buttons[0].click()
    assert dialog.canvas.pixmap.toImage() != marked  # as found: no red
    dialog.view_buttons[2].click()
    assert (dialog.canvas.pixmap.width(), dialog.canvas.pixmap.height()) == size
    assert tampered.name in dialog.view_note.text() and "×" in dialog.view_note.text()

    # save the recovered photo (the suffix is added) and the mask
    assert dialog.save_recovered_button.isEnabled() and dialog.save_mask_button.isEnabled()
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(tmp_path / "saved" / "recovered"))
    (tmp_path / "saved").mkdir()
    with qtbot.waitSignal(dialog.saved, timeout=30_000) as blocker:
        dialog.save_recovered_button.click()
    assert blocker.args[0] == str(tmp_path / "saved" / "recovered.png")
    with Image.open(tmp_path / "saved" / "recovered.png") as img:
        assert img.format == "PNG" and img.size == size and img.mode == "RGB"
    qtbot.waitUntil(lambda: dialog.save_job is None, timeout=5000)
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(tmp_path / "saved" / "mask.png"))
    with qtbot.waitSignal(dialog.saved, timeout=30_000):
        dialog.save_mask_button.click()
    with Image.open(tmp_path / "saved" / "mask.png") as img:
        assert img.size == size and img.mode == "L"
        assert np.array_equal(np.asarray(img) > 0, dialog.result.verified.result.mask)
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["mask.png", "recovered.png"]
    qtbot.waitUntil(lambda: dialog.save_job is None, timeout=5000)

    # locking closes the dialog and drops the pictures
    window.lock_action.trigger()
    assert not dialog.isVisible() and dialog.canvas.pixmap is None and dialog.result is None
    assert window.shares_controller.check_slot.dialog is None
    qtbot.waitUntil(lambda: session.state == "locked", timeout=20_000)


def test_check_dialog_authentic_plain_and_other_key(qtbot, immunized, small_photo, tmp_path):
    session, window, out = immunized
    dialog, checked = _check(qtbot, window, out)
    assert dialog.headline.text() == "An immunized photo, untouched since it was immunized"
    text = dialog.result_text()
    assert "Immunization: Immunized for files kept intact" in text
    assert "Altered: No: untouched since it was immunized" in text
    assert "Signed by this vault's key" in text
    assert "only PNG copies carry one" not in text  # it is a PNG, and immunized
    assert dialog.save_mask_button.isEnabled()
    assert dialog.view_buttons[1].isVisible() and dialog.current_view() == 0

    # a photo that was never immunized: said plainly, nothing to save, no views to pick
    dialog, checked = _check(qtbot, window, small_photo)
    assert checked.verified.result.verdict is Verdict.NOT_IMMUNIZED
    assert dialog.headline.text() == "Not one of your shares"
    text = dialog.result_text()
    assert "Immunization: None" in text and "Altered: Cannot tell" in text
    # a plain PNG: the fragile mark's absence is not explained by its format
    assert "Fragile mark: None in this PNG" in text and "only PNG copies carry one" not in text
    assert dialog.canvas.pixmap is not None
    assert not any(button.isVisible() for button in dialog.view_buttons.values())
    assert not dialog.save_recovered_button.isEnabled() and not dialog.save_mask_button.isEnabled()
    assert not dialog.save_recovered_button.isVisible() and not dialog.save_mask_button.isVisible()

    # immunized by someone else's key: honest about what a valid signature proves
    other_key = fingerprint.new_signing_key()
    other = tmp_path / "other.png"
    Image.fromarray(immunize(_pixels(small_photo), Mode.LOSSLESS, signing_private=other_key)).save(other)
    dialog, checked = _check(qtbot, window, other)
    assert checked.verified.result.verdict is Verdict.AUTHENTIC and not checked.verified.signed_by_this_vault
    public = fingerprint.public_key_of(other_key)
    text = dialog.result_text()
    assert f"Signed by another key (fingerprint {key_fingerprint(public)})" in text
    assert "consistent with its own immunization data" in text
    dialog.reject()
    assert window.shares_controller.check_slot.dialog is None


def test_check_dialog_on_a_robust_copy_recompressed_by_a_platform(qtbot, unlocked, tmp_path):
    """Robust mode (needs ~512 px to carry its data): a JPEG re-compression is not tampering."""
    session, window, _made = unlocked
    src = tmp_path / "parrots-512.png"
    img = Image.open(DATA / "photos" / "kodim23.png").convert("RGB")
    img.thumbnail((512, 512), Image.Resampling.LANCZOS)
    img.save(src)
    out = tmp_path / "robust.png"
    job = ImmunizeFileJob(session.vault, src, out, "robust")
    with qtbot.waitSignal(job.signals.finished, timeout=120_000):
        session.jobs.start(job)
    qtbot.waitUntil(lambda: not session.jobs.busy(), timeout=5000)
    posted = tmp_path / "posted.jpg"
    Image.open(out).convert("RGB").save(posted, "JPEG", quality=85)
    dialog, checked = _check(qtbot, window, posted)
    res = checked.verified.result
    assert res.mode is Mode.ROBUST
    assert res.verdict is Verdict.AUTHENTIC, res.to_json()
    assert dialog.headline.text() == "An immunized photo, untouched since it was immunized"
    text = dialog.result_text()
    assert "social networks" in text and "re-compression and resizing by a platform are not changes" in text
    assert "Signed by this vault's key" in text
    assert "Fragile mark: None (only PNG copies carry one)" not in text
    dialog.reject()


def test_check_dialog_reports_broken_files_and_keeps_working(qtbot, immunized, tmp_path):
    session, window, out = immunized
    truncated = tmp_path / "truncated.png"
    data = out.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    garbage = tmp_path / "photo.jpg"
    garbage.write_bytes(b"<!doctype html><html>a web page, saved as .jpg</html>")
    dialog = window.open_check()
    for path, words in ((truncated, "truncated"), (garbage, "web page")):
        with qtbot.waitSignal(dialog.check_failed, timeout=30_000) as blocker:
            dialog.check(str(path))
        assert isinstance(blocker.args[0], UnsupportedImage)
        assert dialog.headline.text() == "Not a supported image"
        assert words in dialog.summary.text()
        assert dialog.banner.property("verdict") == "error"
        assert not dialog.progress_box.isVisible()
        assert not dialog.save_recovered_button.isEnabled() and not dialog.save_mask_button.isEnabled()
    assert dialog.isVisible()
    # a folder is refused at once; a good file afterwards still works
    assert dialog.check(str(tmp_path)) is None
    assert dialog.headline.text() == "That is a folder"
    with qtbot.waitSignal(dialog.checked, timeout=120_000):
        dialog.check(str(out))
    assert dialog.headline.text() == "An immunized photo, untouched since it was immunized"
    # a path handed to the main window opens (or reuses) the dialog and checks it
    with qtbot.waitSignal(dialog.check_failed, timeout=30_000):
        assert window.open_check(str(truncated)) is dialog
    dialog.reject()


# --- the share dialog's option ----------------------------------------------------------------------


def test_share_dialog_immunize_option_reaches_share_options(qtbot, unlocked, photo_dir, tmp_path, monkeypatch):
    from app.ui import share_dialog

    session, window, _made = unlocked
    _import(qtbot, window, sorted(photo_dir.glob("*.jpg"))[:1])
    window.gallery.setCurrentIndex(window.proxy.index(0, 0))
    dialog = _open_share_dialog(window)
    assert not dialog.immunize.isChecked() and dialog.options().immunize is None
    assert not dialog.immunize_mode.isEnabled()
    assert "saved as PNG" in dialog.immunize_help.text()
    dialog.format.setCurrentIndex(dialog.format.findData("WEBP"))
    dialog.immunize.setChecked(True)
    assert dialog.options().immunize == "lossless"  # the first choice: files kept intact
    assert dialog.options().output_format == "PNG" and not dialog.format.isEnabled()
    dialog.immunize_mode.setCurrentIndex(dialog.immunize_mode.findData("robust"))
    assert "Social networks" in dialog.immunize_mode.currentText()
    assert dialog.options().immunize == "robust"
    dialog.immunize.setChecked(False)
    assert dialog.options().immunize is None
    assert dialog.options().output_format == "WEBP" and dialog.format.isEnabled()  # the choice comes back

    # end to end: an immunized protected copy verifies as untouched, signed by this vault
    dialog.immunize.setChecked(True)
    assert dialog.options().immunize == "robust"  # the mode chosen before is kept
    dialog.immunize_mode.setCurrentIndex(dialog.immunize_mode.findData("lossless"))
    assert any("immunization" in line for line in dialog.embedded_lines)
    qtbot.keyClicks(dialog.recipient, "Alex")
    monkeypatch.setattr(share_dialog.dialogs, "save_file", lambda *a, **k: str(tmp_path / "for-alex.jpg"))
    with qtbot.waitSignal(dialog.shared, timeout=120_000) as blocker:
        dialog.save_button.click()
        assert not dialog.immunize.isEnabled() and not dialog.immunize_mode.isEnabled()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=5000)
    outcome = blocker.args[0]
    assert outcome.out.endswith(".png") and Image.open(outcome.out).format == "PNG"
    assert outcome.share.options["immunize"] == "lossless"
    dialog.accept()
    check, checked = _check(qtbot, window, Path(outcome.out))
    assert checked.verified.result.verdict is Verdict.AUTHENTIC and checked.verified.signed_by_this_vault
    assert check.headline.text() == "Your copy for Alex"
    assert "only PNG copies carry one" not in check.result_text()

    # the same copy, altered after it was shared: one verdict says whose copy, and where it changed
    tampered = tmp_path / "posted-after-editing.png"
    _tamper(Path(outcome.out), tampered)
    check, checked = _check(qtbot, window, tampered)
    assert checked.share is not None and checked.share.share_id == outcome.share.share_id
    assert checked.verified.result.verdict is Verdict.TAMPERED
    assert check.headline.text() == "Your copy for Alex, altered after it was shared"
    assert check.banner.property("verdict") == "altered"
    text = check.result_text()
    assert "You shared it with Alex" in text and "Shared with: Alex" in text
    assert "Altered: Yes: about " in text and "marked in red" in text
    assert "Fragile mark" not in text
    assert check.current_view() == 1 and check.save_mask_button.isEnabled()
    check.reject()


def test_cancel_stops_an_immunized_share(qtbot, unlocked, tmp_path, monkeypatch):
    """Immunizing a photo for sharing takes seconds: Cancel is there and stops it, leaving no
    file and no record of a share. (How soon it stops is measured by bench/immunizer_cancel.py.)"""
    from app.ui import share_dialog

    session, window, _made = unlocked
    big = tmp_path / "parrots-large.png"
    Image.open(DATA / "photos" / "kodim23.png").convert("RGB").resize((1536, 1024)).save(big)
    _import(qtbot, window, [big])
    window.gallery.setCurrentIndex(window.proxy.index(0, 0))
    dialog = _open_share_dialog(window)
    dialog.immunize.setChecked(True)
    dialog.immunize_mode.setCurrentIndex(dialog.immunize_mode.findData("robust"))
    qtbot.keyClicks(dialog.recipient, "Alex")
    target = tmp_path / "for-alex.png"
    monkeypatch.setattr(share_dialog.dialogs, "save_file", lambda *a, **k: str(target))
    dialog.save_button.click()
    job = dialog.job
    assert job is not None and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)  # the immunizer is under way
    assert dialog.job is job
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.cancel_button.isEnabled() and dialog.progress_label.text() == "Stopping…"
    qtbot.waitUntil(lambda: dialog.job is None, timeout=30_000)  # a hang guard, not a speed bar
    assert job.outcome == "cancelled"
    assert "no copy was written" in dialog.error.text() and dialog.isVisible()
    assert not target.exists() and session.vault.list_shares() == []
    assert dialog.save_button.isEnabled() and dialog.cancel_button.isEnabled()
    dialog.cancel_button.click()  # now it closes the dialog
    assert not dialog.isVisible()
