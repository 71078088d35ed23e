"""The watch list on a real vault and the real test host: places re-checked fetch only image
addresses not looked at before, read only changed files, and report only copies not recorded
before. Times are explicit (`now=`), the host counts every request."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

from app.core.leaks import watch
from app.core.leaks.crawl import PageOptions
from app.core.leaks.errors import WatchError

from .conftest import PHOTOS
from .test_cli import sanctum
from .test_leaks import fetcher, host, jpeg, photo, stocked_vault  # noqa: F401 - fixtures

T0 = datetime(2026, 12, 7, 9, 0)


def _path(url: str) -> str:
    return urlsplit(url).path


def test_add_list_remove(vault, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    page = vault.watch_place("https://forum.example/thread/1", PageOptions(depth=1, max_pages=5), 6, now=T0)
    files = vault.watch_place(str(folder), now=T0)
    listed = vault.list_watched()
    assert [(p.id, p.source, p.kind) for p in listed] == [
        (page.id, "https://forum.example/thread/1", watch.PlaceKind.WEB),
        (files.id, str(folder), watch.PlaceKind.FILES)]
    assert listed[0].pages == PageOptions(depth=1, max_pages=5) and listed[0].every_hours == 6
    assert listed[0].checked_at is None and listed[0].is_due(T0) and listed[0].last_result is None
    # Watching it again changes its options, not the list.
    again = vault.watch_place("https://forum.example/thread/1", PageOptions(browser=True), 12, now=T0)
    assert again.id == page.id and len(vault.list_watched()) == 2
    assert vault.list_watched()[0].pages == PageOptions(browser=True)
    vault.unwatch_place(page.id)
    assert [p.id for p in vault.list_watched()] == [files.id]
    with pytest.raises(WatchError, match="No watched place"):
        vault.unwatch_place(page.id)
    with pytest.raises(WatchError, match="no such file"):
        vault.watch_place(str(tmp_path / "missing"))
    with pytest.raises(WatchError, match="every"):
        vault.watch_place("https://forum.example/", every_hours=0)


def test_a_watched_page_fetches_only_images_not_looked_at_before(stocked_vault, host, fetcher):  # noqa: F811
    vault, ids = stocked_vault
    parrots = photo("kodim23.png")
    crop_url, _ = host.upload(jpeg(parrots.crop((0, 0, parrots.width * 2 // 3, parrots.height))))
    cat_url, _ = host.upload(jpeg(photo("cat.jpg")))
    page = host.add_page("profile", f'<html><body><img src="{crop_url}"><img src="{cat_url}"></body></html>')
    place = vault.watch_place(page, every_hours=24, now=T0)

    first = vault.scan_watched(now=T0, fetcher=fetcher)
    assert [(m.source, m.photo_id, m.found_on) for m in first.new_matches] == [(crop_url, ids["parrots"], page)]
    assert first.new == [first.new_matches[0].id]
    assert first.results[0].scanned == 2 and first.results[0].skipped == 0
    assert host.hits[_path(crop_url)] == host.hits[_path(cat_url)] == 1 and host.hits["/page/profile"] == 1
    listed = vault.list_watched()[0]
    assert listed.checked_at == T0 and listed.remembered == 2 and listed.last_result.new == first.new

    # Not due yet: nothing is fetched.
    early = vault.scan_watched(now=T0 + timedelta(hours=23), fetcher=fetcher)
    assert early.results == [] and host.hits["/page/profile"] == 1

    # Due: the page is fetched again, no image already looked at is, nothing is new.
    second = vault.scan_watched(now=T0 + timedelta(hours=24), fetcher=fetcher)
    assert host.hits["/page/profile"] == 2
    assert host.hits[_path(crop_url)] == host.hits[_path(cat_url)] == 1
    assert second.new == [] and second.results[0].scanned == 0 and second.results[0].skipped == 2

    # A new image on the page (and the old one under a changed address) is fetched and reported new.
    horses_url, _ = host.upload(jpeg(photo("horses.jpg").resize((420, 278)), 70))
    moved = crop_url + "?v=2"
    host.add_page("profile", f'<html><body><img src="{moved}"><img src="{cat_url}">'
                             f'<img src="{horses_url}"></body></html>')
    third = vault.scan_watched([place.id], due_only=False, now=T0 + timedelta(hours=25), fetcher=fetcher)
    assert sorted((m.source, m.photo_id) for m in third.new_matches) == sorted(
        [(horses_url, ids["horses"]), (moved, ids["parrots"])])
    assert host.hits[_path(horses_url)] == 1 and host.hits[_path(cat_url)] == 1
    assert host.hits[_path(crop_url)] == 2  # once more, under its new address
    assert third.results[0].scanned == 2 and third.results[0].skipped == 1

    # A full re-check looks at everything again; the copies are known, so nothing is new.
    full = vault.scan_watched(due_only=False, full=True, now=T0 + timedelta(hours=26), fetcher=fetcher)
    assert full.results[0].scanned == 3 and full.new == [] and full.results[0].changed == 0
    assert {m.source for m in full.scan.matches} == {moved, horses_url}
    assert host.hits[_path(cat_url)] == 2


def test_a_watched_image_address_is_not_downloaded_again(stocked_vault, host, fetcher):  # noqa: F811
    vault, ids = stocked_vault
    url, _ = host.upload(jpeg(photo("dog.jpg"), 70))
    vault.watch_place(url, now=T0)
    first = vault.scan_watched(now=T0, fetcher=fetcher)
    assert [m.photo_id for m in first.new_matches] == [ids["dog"]]
    second = vault.scan_watched(due_only=False, now=T0 + timedelta(hours=1), fetcher=fetcher)
    assert host.hits[_path(url)] == 1 and second.new == [] and second.results[0].skipped == 1


def test_a_watched_folder_reads_only_changed_files(stocked_vault, tmp_path):  # noqa: F811
    vault, ids = stocked_vault
    folder = tmp_path / "downloads"
    folder.mkdir()
    copy = folder / "IMG_2211.jpg"
    copy.write_bytes(jpeg(photo("dog.jpg").resize((320, 240)), 70))
    shutil.copy(PHOTOS / "cat.jpg", folder / "cat.jpg")
    (folder / "notes.txt").write_text("not an image")
    vault.watch_place(str(folder), every_hours=1, now=T0)

    first = vault.scan_watched(now=T0)
    assert [(m.source, m.photo_id) for m in first.new_matches] == [(str(copy), ids["dog"])]
    assert first.results[0].scanned == 2 and first.results[0].errors == 1  # the text file, said once

    second = vault.scan_watched(now=T0 + timedelta(hours=1))
    assert second.results[0].scanned == 0 and second.results[0].skipped == 3 and second.new == []

    # A changed file is read again; its copy is known, so it is not new. A new file is read.
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    (folder / "later.jpg").write_bytes(jpeg(photo("kodim23.png").resize((384, 256)), 75))
    third = vault.scan_watched(now=T0 + timedelta(hours=2))
    assert third.results[0].scanned == 2 and third.results[0].skipped == 2
    assert [(m.source, m.photo_id) for m in third.new_matches] == [(str(folder / "later.jpg"), ids["parrots"])]


def test_a_stopped_check_stays_due(stocked_vault, host, fetcher):  # noqa: F811
    import threading

    vault, _ = stocked_vault
    url, _ = host.upload(jpeg(photo("dog.jpg"), 70))
    vault.watch_place(url, now=T0)
    cancel = threading.Event()
    cancel.set()
    outcome = vault.scan_watched(now=T0, fetcher=fetcher, cancel=cancel)
    assert outcome.scan.cancelled and vault.list_watched()[0].checked_at is None


def test_cli_watch_and_scan_watched(stocked_vault, host):  # noqa: F811
    vault, ids = stocked_vault
    horses_url, _ = host.upload(jpeg(photo("horses.jpg").resize((420, 278)), 70))
    page = host.add_page("wall", f'<html><body><img src="{horses_url}"></body></html>')
    vault_path = vault.path
    vault.lock()

    added = json.loads(sanctum("watch", "add", page, "--depth", "1", "--max-pages", "3", "--every", "6",
                               "--json", vault=vault_path).stdout)
    assert added["source"] == page and added["depth"] == 1 and added["max_pages"] == 3
    assert added["every_hours"] == 6 and added["checked_at"] is None
    listed = json.loads(sanctum("watch", "list", "--json", vault=vault_path).stdout)
    assert [p["id"] for p in listed["places"]] == [added["id"]]

    first = json.loads(sanctum("scan", "--watched", "--json", vault=vault_path).stdout)
    assert [(m["photo_id"], m["source"], m["found_on"]) for m in first["matches"]] == [
        (ids["horses"], horses_url, page)]
    assert first["new"] == [first["matches"][0]["id"]] and first["errors"] == []
    assert first["places"][0]["place_id"] == added["id"] and first["places"][0]["scanned"] == 1

    # Not due again for six hours: a scheduler's next run checks nothing, and says so with exit 0.
    second = sanctum("scan", "--watched", "--json", vault=vault_path)
    assert json.loads(second.stdout) == {"scanned": 0, "errors": [], "matches": [], "new": [], "places": []}
    forced = json.loads(sanctum("scan", "--watched", "--all", "--json", vault=vault_path).stdout)
    assert forced["new"] == [] and forced["places"][0]["skipped"] == 1 and host.hits[_path(horses_url)] == 1

    text = sanctum("scan", "--watched", "--all", vault=vault_path).stdout
    assert "no new copy" in text
    assert sanctum("watch", "remove", str(added["id"]), vault=vault_path).returncode == 0
    assert json.loads(sanctum("watch", "list", "--json", vault=vault_path).stdout) == {"places": []}
    missing = sanctum("watch", "remove", str(added["id"]), vault=vault_path, check=False)
    assert missing.returncode != 0 and "No watched place" in missing.stderr
    both = sanctum("scan", page, "--watched", vault=vault_path, check=False)
    assert both.returncode == 2


def test_what_a_place_remembers_is_bounded(stocked_vault, host, fetcher, monkeypatch):  # noqa: F811
    vault, _ = stocked_vault
    monkeypatch.setattr(watch, "MAX_CHECKED", 2)
    urls = [host.upload(jpeg(photo(name).resize((200, 150)), 70))[0] for name in ("cat.jpg", "dog.jpg", "horses.jpg")]
    page = host.add_page("three", "".join(f'<img src="{url}">' for url in urls))
    vault.watch_place(page, now=T0)
    vault.scan_watched(now=T0, fetcher=fetcher)
    assert vault.list_watched()[0].remembered == 2
    again = vault.scan_watched(due_only=False, now=T0 + timedelta(hours=1), fetcher=fetcher)
    assert again.results[0].scanned == 1 and again.results[0].skipped == 2
    assert sum(host.hits[_path(url)] for url in urls) == 4
