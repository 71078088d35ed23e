"""Pages that build their images with JavaScript, read through a real headless browser.

Needs Chromium, Chrome or Edge (CI installs Debian's Chromium with scripts/browser.sh); skipped
without one. The page, its script and its JSON come from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from app.core.leaks import fetch
from app.core.leaks.browser import PageRenderer, find_browser
from app.core.leaks.errors import BrowserUnavailable
from app.core.leaks.fetch import Fetcher
from app.core.leaks.page_reader import read_page

from .loopback_host import LoopbackHost, QuietHandler

needs_browser = pytest.mark.skipif(find_browser() is None, reason="no Chromium, Chrome or Edge installed")

GALLERY = b"""<!doctype html><html><body><div id="gallery">loading...</div>
<script src="/app.js"></script></body></html>"""
# The images exist only after the script ran: fetched as JSON, added as <img>, one of them lazily
# (its address in data-src, copied to src when it scrolls into view).
SCRIPT = b"""fetch('/api/photos').then(r => r.json()).then(photos => {
  const gallery = document.getElementById('gallery');
  gallery.textContent = '';
  for (const p of photos) { const img = document.createElement('img'); img.src = p; gallery.appendChild(img); }
  const spacer = document.createElement('div'); spacer.style.height = '5000px'; gallery.appendChild(spacer);
  const lazy = document.createElement('img'); lazy.dataset.late = '/i/late.jpg'; gallery.appendChild(lazy);
  new IntersectionObserver(entries => entries.forEach(e => {
    if (e.isIntersecting) e.target.src = e.target.dataset.late; })).observe(lazy);
  fetch(window.PRIVATE_PAGE).catch(() => {});
});"""


class _JsSite(QuietHandler):
    requests: list[str] = []
    private_page = ""


    def do_GET(self):
        type(self).requests.append(self.path)
        gallery = GALLERY.replace(b"<script src", b"<script>PRIVATE_PAGE = '%s';</script><script src"
                                  % type(self).private_page.encode())
        routes = {"/": (gallery, "text/html"), "/app.js": (SCRIPT, "application/javascript"),
                  "/api/photos": (json.dumps(["/i/a.jpg", "/i/b.jpg"]).encode(), "application/json")}
        body, kind = routes.get(self.path, (b"not here", "text/plain"))
        self._send(200 if self.path in routes else 404, body, kind)


class _PrivateSite(QuietHandler):
    requests: list[str] = []

    def do_GET(self):
        type(self).requests.append(self.path)
        self._send(200, b"the router's settings", "text/html")


@pytest.fixture
def js_site():
    # The site is "public" (see _public_loopback); 127.0.0.2 stands for the user's own network.
    private = LoopbackHost(_PrivateSite, address="127.0.0.2").start()
    _JsSite.requests, _PrivateSite.requests = [], []
    _JsSite.private_page = f"{private.base}/settings"
    host = LoopbackHost(_JsSite).start()
    yield host
    host.stop()
    private.stop()


def _public_loopback(address):
    return fetch.PUBLIC if str(address) == "127.0.0.1" else fetch.network_of(address)


@needs_browser
def test_images_built_by_scripts_are_read(js_site):
    page_url = f"{js_site.base}/"
    assert read_page(GALLERY.decode(), page_url).images == []  # without the browser: nothing
    with Fetcher(network_of=_public_loopback) as fetcher, PageRenderer(fetcher) as renderer:
        rendered = renderer.render(page_url)
    images = read_page(rendered.html, page_url).images
    assert images == [f"{js_site.base}/i/a.jpg", f"{js_site.base}/i/b.jpg", f"{js_site.base}/i/late.jpg"]
    # The browser's requests went through Sanctum's fetcher: the page, its script and its data,
    # never the pictures themselves (the scan fetches those once, itself).
    assert sorted(set(_JsSite.requests)) == ["/", "/api/photos", "/app.js"]
    # The page's script tried the user's own network: the fetcher's guard refused it.
    assert _PrivateSite.requests == []


def test_no_browser_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SANCTUM_BROWSER", str(tmp_path / "no-such-browser"))
    assert find_browser() is None
    with pytest.raises(BrowserUnavailable, match="Chromium, Chrome or Edge"), Fetcher() as fetcher:
        with PageRenderer(fetcher):
            pass
