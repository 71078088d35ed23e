"""Scanning hostile pages and hosts: a page or a server that misbehaves on purpose costs the
scan no more than a normal one, ends no more than its own item, cannot lead the fetcher into
the user's own network, and cannot recognise the user from one scan to the next."""

from __future__ import annotations

import io
import ipaddress
import json
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from app.core.leaks import fetch, page_reader
from app.core.leaks.fetch import BlockedAddress, Fetcher, FetchError, FetchPolicy
from app.core.leaks.page_reader import css_image_urls, images_on_page, read_page

from .conftest import PHOTOS
from .hostile_host import HostileHost

# --- item 13: pages are read in linear time, with caps -------------------------------------------

# Each is 100 KB or more. Before: the CSS regex took 9 s on 86 KB of "background:", and Python's
# html.parser 21 s on 100 KB of "<a", 18 s on "<!--" repeated (one C call holding the GIL).
HOSTILE_PAGES = {
    "style attribute of background: without url": '<div style="' + "background:" * 10_000 + '">',
    "style element of background: without url": "<style>" + "background:" * 10_000 + "</style>",
    "unclosed url( in a background": "<style>x{background: " + "url(url(" * 20_000 + "}</style>",
    "unclosed start tags": "<a" * 100_000,
    "unclosed end tags": "</" * 100_000,
    "unclosed comments": "<!--" * 50_000,
    "processing instructions": "<?" * 100_000,
    "deep nesting": "<div>" * 100_000,
    "many attributes": "<img " + "a=b " * 50_000,
    "a script of http: without an end": "<script>" + "http://" * 20_000 + "</script>",
    "a script of escaped slashes": "<script>" + "https:\\/\\/a" * 20_000 + ".jpg</script>",
    "deeply nested JSON-LD": '<script type="application/ld+json">' + '{"image":[' * 20_000 + "</script>",
    "many pagination links": '<a href="/p">1</a>' * 10_000,
}


@pytest.mark.parametrize("name", list(HOSTILE_PAGES))
def test_hostile_page_is_parsed_in_linear_time(name):
    html = HOSTILE_PAGES[name]
    assert len(html) >= 100_000
    started = time.perf_counter()
    images_on_page(html, "https://www.site.example/p")
    # A guard against the quadratic cases (seconds to tens of seconds before), not a benchmark.
    assert time.perf_counter() - started < 1.0


def test_images_after_hostile_css_are_still_found():
    html = ('<div style="' + "background:" * 10_000 + ' background-image: url(a.jpg)"></div>'
            "<style>" + "background: red;" * 5_000 + ".x{background:#fff url('b.png') no-repeat}</style>"
            '<img src="c.jpg">')
    started = time.perf_counter()
    urls = images_on_page(html, "https://site.example/p/")
    assert time.perf_counter() - started < 1.0  # a guard against a quadratic scan, as above
    assert urls == ["https://site.example/p/a.jpg", "https://site.example/p/b.png", "https://site.example/p/c.jpg"]


def test_css_scanner_reads_background_urls_only():
    css = """.a { background: #000 url( "one.jpg" ) no-repeat; color: red }
             .b { background-image:url(two.webp) } .c { list-style-image: url(no.png) }
             .d { BACKGROUND-IMAGE: URL('three.png') } .e { background: url(bad url.jpg) }"""
    assert css_image_urls(css) == ["one.jpg", "two.webp", "three.png"]


def test_a_page_costs_at_most_its_caps(monkeypatch):
    # Addresses beyond MAX_URLS_SEEN and bytes beyond MAX_PAGE_BYTES are not read at all.
    monkeypatch.setattr(page_reader, "MAX_URLS_SEEN", 100)
    many = "".join(f'<a href="https://site.example/{i}">{i}</a>' for i in range(200)) + '<img src="mine.jpg">'
    assert images_on_page(many, "https://site.example/") == []
    monkeypatch.setattr(page_reader, "MAX_PAGE_BYTES", 10_000)
    late = '<img src="early.jpg">' + " " * 20_000 + '<img src="late.jpg">'
    assert images_on_page(late, "https://site.example/") == ["https://site.example/early.jpg"]


def test_same_site_follows_the_public_suffix_list():
    # Images may be anywhere (a CDN); the links a deeper scan follows stay on the page's site.
    page = "https://alice.github.io/gallery"
    html = """<a href="https://alice.github.io/2">next</a><a href="https://bob.github.io/b">b</a>
              <a href="https://img.alice.github.io/c">c</a>"""
    assert read_page(html, page).next_pages == ["https://alice.github.io/2"]
    assert read_page(html, page).links == ["https://img.alice.github.io/c"]
    # A country-code second level: example.co.uk, not "co.uk", is the site.
    html = '<a href="https://cdn.example.co.uk/a">a</a><a href="https://other.co.uk/b">b</a>'
    assert read_page(html, "https://www.example.co.uk/").links == ["https://cdn.example.co.uk/a"]
    # An IP address is its own site: 10.0.0.2 is not "0.2", shared with 10.1.0.2.
    html = '<a href="http://10.0.0.2/a">a</a><a href="http://10.1.0.2/b">b</a><a href="http://[::1]/c">c</a>'
    assert read_page(html, "http://10.0.0.2/").links == ["http://10.0.0.2/a"]


# --- hosts: fixtures ---------------------------------------------------------------------------

FAST = FetchPolicy(read_timeout=1.0, connect_timeout=1.0, total_timeout=2.0, retries=1, backoff=0.05,
                   min_host_interval=0.0, max_bytes=5 * 2**20)


@pytest.fixture
def hostile():
    server = HostileHost().start()
    yield server
    server.stop()


@pytest.fixture
def hostile6():
    server = HostileHost("::1").start()
    yield server
    server.stop()


@pytest.fixture
def horses_vault(vault):
    vault.import_paths([PHOTOS / "horses.jpg"])
    return vault, vault.list_photos()[0].id


def horses_jpeg(side: int = 500) -> bytes:
    image = Image.open(PHOTOS / "horses.jpg").convert("RGB")
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# --- item 14: one item's failure is that item's error; the scan goes on ------------------------

def test_redirect_to_file_and_broken_gzip_are_item_errors(horses_vault, hostile):
    vault, horses = horses_vault
    hostile.images["horses.jpg"] = horses_jpeg()
    hostile.redirects["/to-file.jpg"] = "file:///etc/passwd"
    good = f"{hostile.base}/i/horses.jpg"
    sources = [f"{hostile.base}/to-file.jpg", f"{hostile.base}/bad-gzip.jpg", good]
    with Fetcher(FAST) as fetcher:
        outcome = vault.scan(sources, fetcher=fetcher)
    assert [(m.source, m.photo_id) for m in outcome.matches] == [(good, horses)]
    reasons = {e.path: e.reason for e in outcome.errors}
    assert "not a web address" in reasons[sources[0]]
    assert "compression is broken" in reasons[sources[1]]


def test_cli_scan_survives_hostile_sources(horses_vault, hostile):
    vault, horses = horses_vault
    hostile.images["horses.jpg"] = horses_jpeg()
    hostile.redirects["/to-file.jpg"] = "file:///etc/passwd"
    hostile.pages["p"] = '<img src="/to-file.jpg"><img src="/bad-gzip.jpg"><img src="/i/horses.jpg">'
    vault_path = vault.path
    vault.lock()
    from .test_cli import sanctum

    result = sanctum("scan", f"{hostile.base}/page/p", f"{hostile.base}/bad-gzip.jpg", "--json",
                     vault=vault_path)
    report = json.loads(result.stdout)
    assert "Traceback" not in result.stderr
    assert [(m["source"], m["photo_id"]) for m in report["matches"]] == [(f"{hostile.base}/i/horses.jpg", horses)]
    assert sorted(e["source"] for e in report["errors"]) == sorted(
        [f"{hostile.base}/to-file.jpg", f"{hostile.base}/bad-gzip.jpg", f"{hostile.base}/bad-gzip.jpg"])


# --- item 15: one deadline per request; cancel ends a fetch -------------------------------------
# The time bounds below tell "the deadline or the cancel ended it" from "the server's 30-60 s did":
# wide on purpose (a loaded machine is not a failure); they are not speed claims.

def test_trickled_headers_end_at_the_deadline(hostile):
    with Fetcher(FAST) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchError, match="too slow"):
            fetcher.get(f"{hostile.base}/trickle.jpg")
        elapsed = time.monotonic() - started
    # total_timeout is 2 s; before, the read timeout never fired and the fetch ran as long as
    # the server trickled (60 s here).
    assert 1.9 <= elapsed < 20


def test_cancel_ends_a_trickling_fetch(hostile):
    patient = FetchPolicy(read_timeout=30.0, connect_timeout=5.0, total_timeout=60.0, retries=0,
                          min_host_interval=0.0)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with Fetcher(patient) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchError, match="cancelled"):
            fetcher.get(f"{hostile.base}/trickle.jpg", cancel=cancel)
        assert time.monotonic() - started < 10  # cancelled at 0.5 s; the read timeout is 30 s


@pytest.fixture
def unanswered_port():
    """A port on 127.0.0.1 whose accept queue is full: a new connection hangs in its handshake
    (Linux drops the SYN; other systems may refuse it at once)."""
    if sys.platform != "linux":
        pytest.skip("relies on Linux dropping connections to a full accept queue")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    queued = socket.create_connection(("127.0.0.1", port), timeout=1)
    yield port
    queued.close()
    server.close()


def test_cancel_ends_a_hanging_connect(unanswered_port):
    patient = FetchPolicy(read_timeout=30.0, connect_timeout=30.0, total_timeout=60.0, retries=0,
                          min_host_interval=0.0)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with Fetcher(patient) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchError, match="cancelled"):
            fetcher.get(f"http://127.0.0.1:{unanswered_port}/a.jpg", cancel=cancel)
        assert time.monotonic() - started < 10  # cancelled at 0.5 s; the connect timeout is 30 s


def test_a_hanging_connect_ends_at_the_deadline(unanswered_port):
    short = FetchPolicy(read_timeout=30.0, connect_timeout=30.0, total_timeout=1.0, retries=0,
                        min_host_interval=0.0)
    with Fetcher(short) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchError, match="too slow"):
            fetcher.get(f"http://127.0.0.1:{unanswered_port}/a.jpg")
        assert time.monotonic() - started < 10  # the deadline is 1 s; the connect timeout 30 s


# --- item 16: a public page may not lead into the user's own network --------------------------

LOOPBACK_V4 = ipaddress.ip_address("127.0.0.1")


def pretend_127_0_0_1_is_public(address):
    """127.0.0.1 plays a public host; ::1 stays what it is (loopback). No other address is used."""
    return fetch.PUBLIC if address == LOOPBACK_V4 else fetch.network_of(address)


def test_public_page_cannot_redirect_into_loopback(horses_vault, hostile, hostile6):
    vault, _ = horses_vault
    hostile6.images["horses.jpg"] = horses_jpeg()
    inside = f"{hostile6.base}/i/horses.jpg"
    hostile.redirects["/a.jpg"] = inside
    hostile.pages["p"] = '<img src="/a.jpg">'
    with Fetcher(FAST, network_of=pretend_127_0_0_1_is_public) as fetcher:
        with pytest.raises(BlockedAddress, match="loopback"):
            fetcher.get(f"{hostile.base}/a.jpg")
        outcome = vault.scan([f"{hostile.base}/page/p"], fetcher=fetcher)
    assert outcome.matches == []
    assert [e.path for e in outcome.errors] == [f"{hostile.base}/a.jpg"]
    assert "may not lead Sanctum there" in outcome.errors[0].reason
    assert hostile6.requests == []  # the loopback server was never asked


def test_typed_loopback_source_may_load_loopback_images(horses_vault, hostile, hostile6):
    vault, horses = horses_vault
    hostile6.images["horses.jpg"] = horses_jpeg()
    hostile6.redirects["/a.jpg"] = "/i/horses.jpg"
    hostile6.pages["p"] = '<img src="/a.jpg">'
    with Fetcher(FAST, network_of=pretend_127_0_0_1_is_public) as fetcher:
        outcome = vault.scan([f"{hostile6.base}/page/p"], fetcher=fetcher)
        assert [(m.source, m.photo_id) for m in outcome.matches] == [(f"{hostile6.base}/a.jpg", horses)]
        # A typed source that redirects elsewhere in loopback is still the user's own choice.
        hostile.redirects["/b.jpg"] = f"{hostile6.base}/i/horses.jpg"
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(f"{hostile.base}/b.jpg").content == hostile6.images["horses.jpg"]


@pytest.mark.parametrize(("address", "network"), [
    ("127.0.0.1", fetch.LOOPBACK), ("::1", fetch.LOOPBACK), ("::ffff:127.0.0.1", fetch.LOOPBACK),
    ("192.168.1.5", fetch.PRIVATE), ("10.0.0.1", fetch.PRIVATE), ("100.64.0.1", fetch.PRIVATE),
    ("fd00::1", fetch.PRIVATE), ("169.254.169.254", fetch.LINK_LOCAL), ("fe80::1", fetch.LINK_LOCAL),
    ("0.0.0.0", fetch.SPECIAL), ("224.0.0.1", fetch.SPECIAL), ("93.184.215.14", fetch.PUBLIC),
])
def test_addresses_are_classified(address, network):
    # Classification only: nothing connects to these.
    assert fetch.network_of(ipaddress.ip_address(address)) == network


def test_only_public_and_the_typed_sources_networks_are_allowed():
    with Fetcher(FAST) as fetcher:
        assert fetcher.allowed_networks("http://127.0.0.1:9/page") == {fetch.PUBLIC, fetch.LOOPBACK}
        assert fetcher.allowed_networks("http://[::1]:9/") == {fetch.PUBLIC, fetch.LOOPBACK}
        assert fetcher.allowed_networks("http://192.168.1.5/") == {fetch.PUBLIC, fetch.PRIVATE}
        assert fetcher.allowed_networks("http://0.0.0.0/") == {fetch.PUBLIC}


# --- item 18: only 404 / 410, or another image, means removed -----------------------------------

def test_recheck_calls_removed_only_what_is_gone_or_replaced(horses_vault, hostile):
    from app.core.leaks.takedown import Requester, TakedownContact

    vault, horses = horses_vault
    hostile.images["horses.jpg"] = horses_jpeg()
    path = "/i/horses.jpg"
    with Fetcher(FAST) as fetcher:
        match = vault.scan([f"{hostile.base}{path}"], fetcher=fetcher).matches[0]
        request = vault.draft_takedown(match.id, TakedownContact(abuse_email="abuse@example.org"),
                                       Requester("R", "r@example.org"))

        def recheck():
            return vault.recheck_takedown(request.id, fetcher)

        for status in (403, 429, 401, 451, 500):
            hostile.statuses[path] = status
            checked = recheck()
            assert checked.status == "drafted", status
            assert checked.detail.startswith("could not check") and f"HTTP {status}" in checked.detail
        del hostile.statuses[path]
        hostile.pages["login"] = "<!doctype html><html><body>Sign in to continue</body></html>"
        hostile.redirects[path] = "/page/login"  # a login wall answered with 200
        checked = recheck()
        assert checked.status == "drafted" and checked.detail.startswith("could not check")
        del hostile.redirects[path]
        assert recheck().detail == "still online"
        # Showing another image (a placeholder) at the same address: removed, checked by content.
        cat = Image.open(PHOTOS / "cat.jpg").convert("RGB")
        out = io.BytesIO()
        cat.save(out, "JPEG")
        hostile.images["horses.jpg"] = out.getvalue()
        assert recheck().status == "removed"
    assert vault.list_matches()[0].status == "removed"


@pytest.mark.parametrize("status", [404, 410])
def test_recheck_calls_404_and_410_removed(horses_vault, hostile, status):
    from app.core.leaks.takedown import Requester, TakedownContact

    vault, _ = horses_vault
    hostile.images["horses.jpg"] = horses_jpeg()
    with Fetcher(FAST) as fetcher:
        match = vault.scan([f"{hostile.base}/i/horses.jpg"], fetcher=fetcher).matches[0]
        request = vault.draft_takedown(match.id, TakedownContact(abuse_email="abuse@example.org"),
                                       Requester("R", "r@example.org"))
        hostile.statuses["/i/horses.jpg"] = status
        checked = vault.recheck_takedown(request.id, fetcher)
    assert (checked.status, checked.detail) == ("removed", "the address no longer serves the image")


# --- item 19: nothing that tells a host "this is the same Sanctum user" --------------------------

def test_requests_look_like_a_browser_and_validators_stay_in_the_session(horses_vault, hostile):
    from app.core.vault import Vault

    from .conftest import PASSPHRASE

    vault, horses = horses_vault
    hostile.images["horses.jpg"] = horses_jpeg()
    url = f"{hostile.base}/i/horses.jpg"
    with Fetcher(FAST) as fetcher:
        vault.scan([url], fetcher=fetcher)
        vault.scan([url], fetcher=fetcher)  # same session: a cheap revalidation is fine
    sent = [headers for path, headers in hostile.requests if path == "/i/horses.jpg"]
    assert sent[0]["user-agent"].startswith("Mozilla/5.0 (") and "Chrome/" in sent[0]["user-agent"]
    assert not any(word in sent[0]["user-agent"].lower() for word in ("sanctum", "leak", "python", "httpx"))
    assert "if-none-match" not in sent[0] and sent[1]["if-none-match"] == '"v1"'

    path = vault.path
    vault.lock()
    with Vault.unlock(path, PASSPHRASE) as again, Fetcher(FAST) as fetcher:
        outcome = again.scan([url], fetcher=fetcher)
        assert [m.photo_id for m in outcome.matches] == [horses]
    third = [headers for p, headers in hostile.requests if p == "/i/horses.jpg"][2]
    # A new session replays nothing the host handed out before.
    assert "if-none-match" not in third and "if-modified-since" not in third


def test_migration_drops_stored_validators(vault):
    from app.core import db
    from app.core.vault import Vault

    from .conftest import PASSPHRASE

    # A vault as version 4 left it: validators of a scanned image stored in urlcache.
    db.database.execute_sql("CREATE TABLE IF NOT EXISTS urlcache (id INTEGER PRIMARY KEY, url TEXT UNIQUE, "
                            "etag TEXT, last_modified TEXT, findings TEXT, checked_at DATETIME)")
    db.database.execute_sql("INSERT INTO urlcache (url, etag, last_modified, findings, checked_at) VALUES "
                            "('https://host.example/a.jpg', '\"tracking-id-42\"', 'Mon, 07 Dec 2026 04:00:00 GMT', "
                            "'[]', '2026-12-07 04:00:00')")
    db.put_setting(db.SCHEMA_VERSION_KEY, "4")
    vault.lock()
    with Vault.unlock(vault.path, PASSPHRASE):
        assert db.schema_version(db.database.obj) == db.CURRENT_SCHEMA
        tables = {row[0] for row in db.database.execute_sql("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "urlcache" not in tables


# --- item 17: a found image's decode is bounded before it starts --------------------------------

def write_png(path, width: int, height: int, row: bytes, color_type: int, bit_depth: int = 8) -> None:
    """A valid PNG whose rows are all `row`, written without ever holding its pixels: a 100 MP
    one is a few kilobytes, as a hostile page would serve it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    packer = zlib.compressobj(1)
    line = b"\x00" + row  # filter type 0
    idat = b"".join(packer.compress(line) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


PEAK_SCRIPT = """
import json, sys
from app.core.leaks.matcher import Matcher
from app.core.leaks.scan import run_scan

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

# A forked child starts with its parent's high-water mark: reset it (Linux 4.0+) first.
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")
before = status("VmRSS")
report = run_scan([sys.argv[1]], Matcher([]))
print(json.dumps({"scanned": report.scanned, "errors": [e.reason for e in report.errors],
                  "refused": bool(report.errors), "extra_mb": status("VmHWM") - before}))
"""


def scan_peak(path) -> dict:
    """Scan one file in a fresh interpreter; its peak memory above what it had before (Linux)."""
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(path)], capture_output=True, text=True,
                            cwd=root, timeout=120, check=True)
    return json.loads(result.stdout)


@pytest.mark.skipif(sys.platform != "linux", reason="reads and resets the peak RSS in /proc")
def test_a_100_megapixel_png_is_refused_from_its_header(tmp_path):
    bomb = tmp_path / "bomb.png"
    write_png(bomb, 10_000, 10_000, b"\x00" * 1250, color_type=0, bit_depth=1)
    assert bomb.stat().st_size < 100_000
    outcome = scan_peak(bomb)
    assert outcome["scanned"] == 0 and "too large to check" in outcome["errors"][0]
    # Before: decoded and matched, ~1.7 GB at peak. Now nothing is decoded.
    assert outcome["extra_mb"] < 64


@pytest.mark.skipif(sys.platform != "linux", reason="reads and resets the peak RSS in /proc")
def test_a_large_png_is_matched_on_a_reduced_decode(tmp_path):
    large = tmp_path / "large.png"
    write_png(large, 6_000, 5_000, bytes([200, 120, 40]) * 6_000, color_type=2)  # 30 MP
    outcome = scan_peak(large)
    assert outcome == {**outcome, "scanned": 1, "errors": []}
    # Before: ~520 MB (the cascade's copies at full size); now the decode and a reduced copy.
    assert outcome["extra_mb"] < 300


def test_a_large_png_copy_is_still_found(horses_vault, tmp_path):
    vault, horses = horses_vault
    big = Image.open(PHOTOS / "horses.jpg").convert("RGB")
    big = big.resize((4_800, round(4_800 * big.height / big.width)), Image.Resampling.BILINEAR)
    path = tmp_path / "big.png"
    big.save(path, compress_level=1)
    outcome = vault.scan([str(path)])
    assert [(m.photo_id, m.found_size) for m in outcome.matches] == [(horses, big.size)]


# --- the guarded connection carries TLS too (most real hosts are https) --------------------------

def test_https_fetch_and_deadline_over_tls(horses_vault):
    from .hostile_host import tls_pair

    vault, horses = horses_vault
    server_tls, client_tls = tls_pair()
    secure = HostileHost(tls=server_tls).start()
    try:
        secure.images["horses.jpg"] = horses_jpeg()
        with Fetcher(FAST, ssl_context=client_tls) as fetcher:
            outcome = vault.scan([f"{secure.base}/i/horses.jpg"], fetcher=fetcher)
            assert [m.photo_id for m in outcome.matches] == [horses] and outcome.errors == []
            started = time.monotonic()
            with pytest.raises(FetchError, match="too slow"):
                fetcher.get(f"{secure.base}/trickle.jpg")
            assert time.monotonic() - started < 20  # the 2 s deadline, not the server's 60 s
        with Fetcher(FAST) as untrusting, pytest.raises(FetchError, match="certificate is not valid"):
            untrusting.get(f"{secure.base}/i/horses.jpg")  # a certificate no CA vouches for
    finally:
        secure.stop()


def test_a_source_that_cannot_even_be_named_is_its_own_error(horses_vault, tmp_path):
    vault, horses = horses_vault
    good = tmp_path / "copy.jpg"
    good.write_bytes(horses_jpeg())
    too_long = "x" * 5000 + ".jpg"  # os.stat raises "File name too long", which exists() passes on
    outcome = vault.scan([too_long, str(good)])
    assert [(m.source, m.photo_id) for m in outcome.matches] == [(str(good), horses)]
    assert [e.path for e in outcome.errors] == [too_long]
