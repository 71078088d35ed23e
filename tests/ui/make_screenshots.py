"""Screenshots for docs/screenshots/ (not a test): drives the real app on a real vault.

    xvfb-run -s "-screen 0 1400x900x24" python tests/ui/make_screenshots.py [OUT_DIR]

Uses the Kodak photos of the shared evaluation set (../shared/data/natural/kodak next to the
checkout) when present, else those in tests/data/photos.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyotp
from PIL import Image
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from app.core import crypto
from app.ui.application import AppController, apply_look
from app.ui.gallery import Roles
from app.ui.main_window import MainWindow
from app.ui.sidebar import Scope
from app.ui.wizard import SetupWizard

FAST_KDF = crypto.KdfParams.new(time_cost=1, memory_kib=8192, parallelism=1)
ROOT = Path(__file__).resolve().parents[2]


def kodak_sources() -> list[Path]:
    for folder in (ROOT.parent / "shared" / "data" / "natural" / "kodak", ROOT / "tests/data/photos"):
        files = sorted(folder.glob("kodim*.png"))
        if files:
            return files
    raise SystemExit("no Kodak photos found")


def make_jpegs(out: Path, scale: float = 1.0, year0: int = 18) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, src in enumerate(kodak_sources()):
        img = Image.open(src).convert("RGB")
        if scale != 1.0:
            img = img.resize((int(img.width * scale), int(img.height * scale)), Image.Resampling.LANCZOS)
        exif = Image.Exif()
        exif[0x8769] = {0x9003: f"20{year0 + n % 7}:{1 + n % 12:02d}:{1 + n:02d} 1{n % 10}:30:00"}
        target = out / f"{src.stem}.jpg"
        img.save(target, "JPEG", quality=90, exif=exif.tobytes())
        paths.append(target)
    return paths


def pump(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(cond, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError
        pump(20)


def save(widget: QWidget, out: Path, name: str) -> None:
    pump(150)
    pixmap = widget.window().grab()
    buf = io.BytesIO()
    pixmap.save(str(out / f"{name}.png"), "PNG")
    size = (out / f"{name}.png").stat().st_size
    if size > 480_000:  # keep each under 500 KB
        img = Image.open(out / f"{name}.png").convert("RGB")
        img = img.quantize(colors=200, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        img.save(out / f"{name}.png", optimize=True)
    print(f"{name}.png {(out / f'{name}.png').stat().st_size // 1024} KB")
    del buf


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="sanctum-shots-"))
    app = QApplication.instance() or QApplication(["sanctum"])
    app.setApplicationName("Sanctum")
    apply_look(app)
    try:
        vault_path = tmp / "vault"
        controller = AppController(vault_path, kdf=FAST_KDF)
        first = controller.start()
        assert isinstance(first, SetupWizard)
        wizard = first
        wizard.resize(760, 560)
        save(wizard, out, "wizard-1-welcome")
        wizard.next()
        wizard.passphrase_page.first.setText("juniper lantern quietly orbits")
        wizard.passphrase_page.second.setText("juniper lantern quietly orbits")
        save(wizard, out, "wizard-2-passphrase")
        wizard.next()
        wait_for(lambda: wizard.created is not None and wizard.currentId() == 2)
        secret = wizard.created.created.totp.secret
        wizard.totp_page.code.setText(pyotp.TOTP(secret).now())
        save(wizard, out, "wizard-3-authenticator")
        wizard.next()
        wizard.recovery_page.panel.qr_button.setChecked(True)
        save(wizard, out, "wizard-4-recovery-key")
        wizard.recovery_page.confirm_box.setChecked(True)
        wizard.next()
        wizard.accept()
        window: MainWindow = controller.window
        window.resize(1280, 800)
        wait_for(lambda: window.isVisible())
        pump(300)
        save(window, out, "gallery-empty")

        photos = make_jpegs(tmp / "photos")
        big = make_jpegs(tmp / "big", scale=4.0, year0=11)  # ~6 MP, so the import is slow enough to catch
        window.start_import([str(tmp / "photos")])
        wait_for(lambda: window.model.rowCount() == len(photos), 120)
        wait_for(lambda: not window.session.jobs.busy(), 60)
        job = window.start_import([str(tmp / "big")])
        wait_for(lambda: window.model.rowCount() >= len(photos) + 3, 120)
        pump(400)
        save(window, out, "import-in-progress")
        job.cancel()
        wait_for(lambda: not window.session.jobs.busy(), 60)
        bad = tmp / "bad"
        bad.mkdir()
        (bad / "notes.txt").write_text("not a photo")
        (bad / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)
        window.start_import([str(bad)])
        wait_for(lambda: window.problems.isVisible(), 30)
        window.gallery.scrollToTop()
        window.gallery.setCurrentIndex(window.proxy.index(1, 0))
        pump(800)
        save(window, out, "gallery")
        window.problems.hide()
        window.open_viewer(window.proxy.index(1, 0).data(Roles.PhotoId))
        wait_for(lambda: window.viewer.canvas.pixmap is not None, 30)
        save(window, out, "viewer")
        window.close_viewer()
        shoot_sharing(window, out, tmp)
        shoot_check_merged(window, out, tmp)
        shoot_scan_nothing_checked(window, out, tmp)
        shoot_leaks(window, out, tmp)
        shoot_watch(window, out, tmp)
        shoot_organise(window, out)
        shoot_settings(window, out)
        shoot_backup(window, out, tmp)
        shoot_restore(out, tmp)
        shoot_search(window, out)
        window.session.lock("manual")
        wait_for(lambda: window.session.state == "locked")
        save(window, out, "unlock")
        controller.shutdown()
        window.close()
        del big
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def shoot_sharing(window: MainWindow, out: Path, tmp: Path) -> None:
    """share-dialog.png, share-dialog-immunize.png, shared-view.png, inspect.png,
    inspect-matched.png and inspect-original.png (the Check dialog)."""
    from app.ui import check_dialog, share_dialog

    shares = tmp / "shared"
    targets = iter([shares / "for-alex.jpg", shares / "for-sam.png", shares / "for-jordan.jpg",
                    shares / "for-alex-2.webp"])
    share_dialog.dialogs.save_file = lambda *a, **k: str(next(targets))
    window.sidebar.select_scope(Scope("all"))

    def share(name: str, recipient: str, platform: str, fmt: str, shot: str | None = None,
              immunize: str | None = None) -> Path:
        window.gallery.clearSelection()
        window.search.setText(name)
        window.gallery.setCurrentIndex(window.proxy.index(0, 0))
        photo_id = window.proxy.index(0, 0).data(Roles.PhotoId)
        window.loader.request(photo_id)  # the dialog shows the gallery's thumbnail
        wait_for(lambda: window.loader.pixmap(photo_id) is not None, 30)
        window.search.setText("")
        dialog = window.share_photo()
        dialog.recipient.setText(recipient)
        dialog.platform.setCurrentText(platform)
        dialog.format.setCurrentIndex(dialog.format.findData(fmt))
        if immunize:
            dialog.immunize.setChecked(True)
            dialog.immunize_mode.setCurrentIndex(dialog.immunize_mode.findData(immunize))
        if shot:
            pump(200)
            save(dialog, out, shot)
        results = []
        dialog.shared.connect(results.append)
        dialog.save_button.click()
        wait_for(lambda: bool(results), 60)
        pump(100)
        dialog.accept()
        return Path(results[0].out)

    # kodim23: the core's watermark survives "75 % and JPEG 70" on it (not on every photo yet)
    alex = share("kodim23", "Alex", "WhatsApp", "JPEG", shot="share-dialog")
    share("kodim04", "Sam", "Signal", "PNG", shot="share-dialog-immunize", immunize="lossless")
    share("kodim19", "Jordan", "Email", "JPEG")
    share("kodim23", "Alex", "Instagram", "WEBP")
    window.sidebar.select_scope(Scope("shared"))
    window.shares_page.table.selectRow(1)
    wait_for(lambda: all(window.loader.pixmap(s.photo_id) is not None
                         for s in window.shares_model.shares if s.photo_id is not None), 30)
    pump(300)
    save(window, out, "shared-view")

    def inspect_repost(scale: float, quality: int, file_name: str, shot: str, framed: bool = False) -> None:
        """Alex's copy as a platform would re-post it (smaller, re-compressed, metadata gone;
        `framed`: mirrored and inside a screenshot of a post), dropped on the Check dialog."""
        img = Image.open(alex).convert("RGB")
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
        if framed:
            post = Image.new("RGB", (img.width + 40, img.height + 90), (245, 245, 245))
            post.paste(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (20, 60))
            img = post
        found = tmp / file_name
        img.save(found, "JPEG", quality=quality)
        dialog = window.open_check()
        results = []
        dialog.checked.connect(results.append)
        check_dialog.choose_image = lambda parent: str(found)
        dialog.choose_button.click()
        wait_for(lambda: bool(results), 60)
        pump(300)
        save(dialog, out, shot)
        dialog.reject()

    inspect_repost(0.75, 70, "found-online.jpg", "inspect")
    # small and heavily re-compressed: too damaged to decode, matched to the vault's shares
    inspect_repost(0.4, 60, "small-repost.jpg", "inspect-matched")
    # mirrored, a third of the size, framed: read only against the original in the vault
    inspect_repost(0.33, 60, "framed-repost.jpg", "inspect-original", framed=True)
    window.sidebar.select_scope(Scope("all"))


def shoot_check_merged(window: MainWindow, out: Path, tmp: Path) -> None:
    """check-merged.png: Sam's immunized PNG copy (shoot_sharing), edited after it was shared
    (a patch of the wall pasted over the hat's flower), checked in "Check an image": whose copy,
    and where it was changed."""
    edited = Image.open(tmp / "shared" / "for-sam.png").convert("RGB")
    edited.paste(edited.crop((20, 500, 130, 590)), (250, 160))
    found = tmp / "sam-reposted.png"
    edited.save(found)
    dialog = window.open_check()
    dialog.resize(1180, 720)
    results = []
    dialog.checked.connect(results.append)
    dialog.check(str(found))
    wait_for(lambda: bool(results), 120)
    pump(300)
    save(dialog, out, "check-merged")
    dialog.reject()


def shoot_scan_nothing_checked(window: MainWindow, out: Path, tmp: Path) -> None:
    """scan-nothing-checked.png: two addresses nobody answers at (closed ports on 127.0.0.1):
    the scan says that nothing could be checked, and why, in words."""
    import socket

    from app.core.leaks.fetch import FetchPolicy

    ports = []
    for _ in range(2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    window.fetch_policy = FetchPolicy(read_timeout=2, connect_timeout=2, retries=0, min_host_interval=0)
    dialog = window.open_scan()
    dialog.urls.setPlainText(f"http://127.0.0.1:{ports[0]}/photos/beach.jpg\nhttp://127.0.0.1:{ports[1]}/album")
    outcome = []
    dialog.scan_finished.connect(outcome.append)
    dialog.start_button.click()
    wait_for(lambda: bool(outcome) and dialog.job is None, 60)
    pump(300)
    save(dialog, out, "scan-nothing-checked")
    dialog.accept()


def shoot_leaks(window: MainWindow, out: Path, tmp: Path) -> None:
    """scan-dialog.png, takedown.png and leaks-view.png: a scan of a page on the test image host
    (127.0.0.1) and of a folder, finding a crop, a photo inside a screenshot and a re-posted
    protected copy; then a removal notice, and the Leaks view."""
    from PIL import ImageDraw

    sys.path.insert(0, str(ROOT))  # tests.leakhost
    from app.core.leaks.fetch import FetchPolicy
    from app.ui import takedown_dialog
    from tests.leakhost import ImageHost

    def jpeg(image: Image.Image, quality: int = 82) -> bytes:
        buf = io.BytesIO()
        image.convert("RGB").save(buf, "JPEG", quality=quality)
        return buf.getvalue()

    sources = {p.stem: p for p in kodak_sources()}
    parrots = Image.open(sources["kodim23"]).convert("RGB")
    crop = parrots.crop((int(parrots.width * 0.3), int(parrots.height * 0.15),
                         parrots.width, int(parrots.height * 0.9))).rotate(6, expand=False,
                                                                              resample=Image.Resampling.BICUBIC)
    # a "screenshot of a post": app chrome, a caption, and the photo scaled down inside it
    screen = Image.new("RGB", (720, 1280), (250, 250, 250))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 720, 110), fill=(30, 30, 60))
    draw.text((30, 45), "someone posted a photo", fill=(255, 255, 255))
    screen.paste(Image.open(sources["kodim04"]).convert("RGB").resize((512, 768)), (104, 200))
    draw.text((30, 1010), "look who this is", fill=(0, 0, 0))

    host = ImageHost().start()
    try:
        reposted = tmp / "found-online.jpg"  # the platform's copy of Alex's share (shoot_sharing)
        reposted_url, _ = host.upload(reposted.read_bytes())
        crop_url, _ = host.upload(jpeg(crop))
        page = host.add_page("thread-2291", f'<img src="{reposted_url}"><img src="{crop_url}">'
                                            f'<img src="{host.base}/i/removed-earlier.jpg">')
        folder = tmp / "Downloads"
        folder.mkdir()
        (folder / "Screenshot_2291.jpg").write_bytes(jpeg(screen))
        (folder / "notes.txt").write_text("not a photo")

        window.fetch_policy = FetchPolicy(read_timeout=2, connect_timeout=2, retries=0, min_host_interval=0)
        dialog = window.open_scan()
        dialog.urls.setPlainText(page)
        dialog.add_paths([str(folder)])
        pump(200)
        outcome = []
        dialog.scan_finished.connect(outcome.append)
        dialog.start_button.click()
        wait_for(lambda: bool(outcome) and dialog.job is None and dialog.evidence_job is None, 120)
        print("scan:", [(m.method, m.source.rsplit("/", 1)[-1]) for m in outcome[0].matches],
              [(e.path, e.reason) for e in outcome[0].errors])
        pump(300)
        save(dialog, out, "scan-dialog")

        # a removal notice for the re-posted share, from its result row
        row = next((r for r in dialog.rows if r.match.source == reposted_url), dialog.rows[0])
        row.request_button.click()
        request = window.leaks_controller.takedown_slot.dialog
        request.host_name.setText("ImageShare")
        request.abuse_email.setText("abuse@imageshare.example")
        request.name.setText("Dana Example")
        request.email.setText("dana@example.org")
        pump(200)
        save(request, out, "notice-kind")  # the kind of notice, picked from the sensitive flag
        changed = []
        request.changed.connect(changed.append)
        request.draft_button.click()
        wait_for(lambda: bool(changed) and request.job is None, 30)
        pump(200)
        save(request, out, "takedown")
        takedown_dialog.open_url = lambda url: True
        request.sent_button.click()
        wait_for(lambda: len(changed) == 2 and request.job is None, 30)
        request.reject()
        dialog.accept()

        window.sidebar.select_scope(Scope("leaks"))
        wait_for(lambda: window.leaks_model.rowCount() == len(outcome[0].matches), 30)
        crop_row = next(r for r in range(window.leaks_model.rowCount())
                        if window.leaks_model.match_at(r).source == crop_url)
        window.leaks_page.select_match(window.leaks_model.match_at(crop_row).id)
        wait_for(lambda: window.leaks_page.panel.evidence.found is not None, 30)
        wait_for(lambda: all(window.loader.pixmap(m.photo_id) is not None
                             for m in window.leaks_model.matches if m.photo_id is not None), 30)
        pump(300)
        save(window, out, "leaks-view")
        shoot_cases(window, out)
        window.sidebar.select_scope(Scope("all"))
    finally:
        host.stop()


def shoot_watch(window: MainWindow, out: Path, tmp: Path) -> None:
    """scan-watch.png, watch-notice.png and watched-places.png: a page scanned with "Watch these
    places" ticked, a later background check that finds a new copy on it (the banner: no photo, no
    address), and the Watched places dialog."""
    sys.path.insert(0, str(ROOT))  # tests.leakhost
    from app.core.leaks.fetch import FetchPolicy
    from tests.leakhost import ImageHost

    sources = {p.stem: p for p in kodak_sources()}

    def crop_of(stem: str) -> bytes:
        image = Image.open(sources[stem]).convert("RGB")
        buf = io.BytesIO()
        image.crop((0, 0, int(image.width * 0.7), int(image.height * 0.8))).save(buf, "JPEG", quality=80)
        return buf.getvalue()

    host = ImageHost().start()
    try:
        first_url, _ = host.upload(crop_of("kodim23"))
        page = host.add_page("profile-aa17", f'<img src="{first_url}">')
        window.fetch_policy = FetchPolicy(read_timeout=2, connect_timeout=2, retries=0, min_host_interval=0)
        dialog = window.open_scan()
        dialog.urls.setPlainText(page)
        dialog.watch_choice.watch.setChecked(True)
        dialog.watch_choice.every.setValue(6)
        pump(200)
        save(dialog, out, "scan-watch")
        outcome = []
        dialog.scan_finished.connect(outcome.append)
        dialog.start_button.click()
        wait_for(lambda: bool(outcome) and dialog.job is None and dialog.evidence_job is None, 120)
        dialog.accept()

        # Later, the page shows one more photo: the background check finds it.
        second_url, _ = host.upload(crop_of("kodim04"))
        host.add_page("profile-aa17", f'<img src="{first_url}"><img src="{second_url}">')
        window.sidebar.select_scope(Scope("all"))
        notified = []
        window.leaks_controller.watch_notice.notified.connect(notified.append)
        window.session.watch.check_all()
        wait_for(lambda: bool(notified) and window.session.watch.job is None, 120)
        pump(300)
        save(window, out, "watch-notice")
        window.watch_banner.show_button.click()
        window.leaks_page.watched_button.click()
        watch = window.leaks_controller.watch_slot.dialog
        wait_for(lambda: watch.table.rowCount() > 0, 30)
        pump(300)
        save(watch, out, "watched-places")
        watch.accept()
        window.sidebar.select_scope(Scope("all"))
    finally:
        host.stop()


def shoot_cases(window: MainWindow, out: Path) -> None:
    """cases-view.png, notice-editor.png and notice-delisting.png: a site whose TAKE IT DOWN
    notice was sent 49 hours ago (overdue, re-checked, escalation next), the test host's case
    with the request sent from the scan dialog, and the notice editor on that one."""
    from datetime import datetime, timedelta

    from app.core import db
    from app.core.leaks.notices import Sender

    vault = window.session.vault
    some_photo = next(m.photo_id for m in window.leaks_model.matches if m.photo_id is not None)
    now = datetime.now()
    db.LeakMatch.create(source="https://cdn.pics-board.example/u/8812/img_0042.jpg",
                        found_on="https://pics-board.example/t/8812", photo=some_photo, method="pdq", score=0.97,
                        first_seen=now - timedelta(days=1), last_seen=now - timedelta(days=1))
    # The test host's case has the removal request sent from the scan dialog just now (a
    # follow-up in 7 days); the other site gets a TAKE IT DOWN notice sent 49 hours ago.
    board = next(c for c in vault.list_cases() if c.host == "pics-board.example")
    sent = vault.draft_notice(board.id, "take-it-down", Sender("Dana Example", "dana@example.org", "Dana Example"))
    vault.mark_notice_sent(sent.id, sent_at=now - timedelta(hours=49))
    page = window.leaks_page.cases
    window.sidebar.select_scope(Scope("leaks"))
    checked = []
    page.checked.connect(checked.append)
    window.leaks_page.show_cases()
    # The overdue case is re-checked when the tab opens (perhaps before `checked` was connected).
    wait_for(lambda: not page._busy and page.model.rowCount() == 2
             and (bool(checked) or any(c.checked_at for c in page.model.cases)), 60)
    pump(300)
    page.select_case(page.model.cases[0].id)
    pump(200)
    save(window, out, "cases-view")
    local = next(c for c in page.model.cases if c.host == "127.0.0.1")
    page.select_case(local.id)
    page.panel.notice_button.click()
    editor = window.leaks_controller.notice_slot.dialog
    editor.resize(1180, 760)
    editor.kind.setCurrentIndex(editor.kind.findData("take-it-down"))
    editor.fields["name"].setText("Dana Example")
    editor.fields["email"].setText("dana@example.org")
    pump(200)
    save(editor, out, "notice-editor")  # the signature still missing: "I sent it" refused
    editor.kind.setCurrentIndex(editor.kind.findData("search-delisting"))
    editor.fields["signature"].setText("Dana Example")
    editor.fields["country"].setText("Germany")
    pump(200)
    save(editor, out, "notice-delisting")
    editor.reject()


def shoot_organise(window: MainWindow, out: Path) -> None:
    """tags.png (categories in the sidebar, the gallery filtered), people.png, sensitive.png (a
    Kodak landscape marked sensitive by hand: blurred in the gallery)."""
    from app.ui.sidebar import COUNT_ROLE

    window.organiser.request(force=True)
    wait_for(lambda: not window.organiser.running and not window.session.jobs.busy("vault-write"), 300)
    window.organiser.refresh_summary()
    wait_for(lambda: bool(window.sidebar_model.category_items["animals"].data(COUNT_ROLE)), 60)
    best = max(window.sidebar_model.category_items.items(), key=lambda kv: kv[1].data(COUNT_ROLE) or 0)[0]
    window.sidebar.select_scope(Scope("tag", tag=best))
    wait_for(lambda: window.proxy.rowCount() > 0, 30)
    pump(1200)
    save(window, out, "tags")
    window.sidebar.select_scope(Scope("people"))
    wait_for(lambda: window.people_model.rowCount() > 0, 60)
    pump(500)
    save(window, out, "people")
    window.sidebar.select_scope(Scope("all"))
    landscape = next((p.id for p in window.model.photos if p.filename.startswith(("kodim22", "kodim13", "kodim16"))),
                     window.model.photos[0].id)
    job = window.set_sensitive([landscape], True)
    wait_for(lambda: job.done_event.is_set(), 30)
    pump(300)
    row = window.proxy.mapFromSource(window.model.index(window.model.row_of(landscape), 0))
    window.gallery.scrollTo(row)
    window.gallery.setCurrentIndex(row)
    wait_for(lambda: window.loader.is_blurred(landscape), 30)
    pump(800)
    save(window, out, "sensitive")


def shoot_settings(window: MainWindow, out: Path) -> None:
    """Settings: the top with the Panic lock section, then scrolled to "Passphrase and recovery"."""
    from PySide6.QtWidgets import QScrollArea

    from app.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.session, window)
    dialog.show()
    dialog.adjustSize()
    save(dialog, out, "settings-panic")
    dialog.findChild(QScrollArea).ensureWidgetVisible(dialog.findChild(QWidget, "keysSection"))
    save(dialog, out, "settings")
    dialog.reject()


def shoot_backup(window: MainWindow, out: Path, tmp: Path) -> None:
    """settings-backup.png: Settings > Backup after a backup and a check of it."""
    from app.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.session, window)
    dialog.show()
    section = dialog.backup_section
    (tmp / "USB drive").mkdir()
    section.set_folder(str(tmp / "USB drive" / "Sanctum backup"))
    section.automatic.setChecked(True)
    section.back_up_button.click()
    wait_for(lambda: window.session.backups.job is None and "Backed up" in section.status.text(), 120)
    section.verify_button.click()
    wait_for(lambda: window.session.backups.job is None and "checked" in section.status.text(), 120)
    from PySide6.QtWidgets import QScrollArea

    dialog.findChild(QScrollArea).ensureWidgetVisible(section, 0, 0)  # the sections scroll
    save(dialog, out, "settings-backup")
    dialog.reject()


def shoot_restore(out: Path, tmp: Path) -> None:
    """wizard-restore.png: the first-run wizard on a new computer, restoring the backup that
    shoot_backup made: the folder recognised, the passphrase typed."""
    from app.ui.session import Session

    target = tmp / "new computer" / "vault"
    previous = os.environ.get("SANCTUM_VAULT")
    os.environ["SANCTUM_VAULT"] = str(target)  # the new computer's default folder, as most people keep it
    session = Session(target, kdf=FAST_KDF)
    wizard = SetupWizard(session, target)
    wizard.resize(760, 560)
    wizard.show()
    wizard.location_page.restore_choice.click()
    wizard.next()
    wizard.restore_page.folder_edit.setText(str(tmp / "USB drive" / "Sanctum backup"))
    wizard.restore_page.passphrase.setText("juniper lantern quietly orbits")
    save(wizard, out, "wizard-restore")
    wizard.reject()
    session.shutdown()
    session.idle.uninstall()
    if previous is None:
        del os.environ["SANCTUM_VAULT"]
    else:
        os.environ["SANCTUM_VAULT"] = previous


def shoot_search(window: MainWindow, out: Path) -> None:
    """search-scoped.png: two words typed while a tag is shown; the search looks through the
    whole vault (it says so, with the choice to narrow it to the tag), and both words must match."""
    from app.ui.sidebar import COUNT_ROLE

    items = window.sidebar_model.category_items
    scope_tag = max(items, key=lambda term: items[term].data(COUNT_ROLE) or 0)
    window.sidebar.select_scope(Scope("tag", tag=scope_tag))
    wait_for(lambda: window.proxy.rowCount() > 0, 30)
    in_scope = set(window.proxy.photo_ids())
    details = window.session.vault.photo_details([p.id for p in window.model.photos])
    outside = next(p for p in window.model.photos
                   if p.id not in in_scope and any(c != scope_tag for c in details[p.id].categories))
    word = next(c for c in details[outside.id].categories if c != scope_tag).split()[0]
    window.search.setText(f"{word} {outside.taken_at.year}")
    wait_for(lambda: outside.id in window.proxy.photo_ids(), 30)
    window.gallery.clearSelection()
    pump(1200)
    save(window, out, "search-scoped")
    window.search.clear()
    window.sidebar.select_scope(Scope("all"))


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    main()
