"""Pages that build their images with JavaScript, read through a real browser.

A headless Chromium, Chrome or Edge already installed on the computer runs the page (driven by
Playwright); Sanctum then reads the document the scripts built, as it reads a plain page. No
browser is downloaded: when none is found, `BrowserUnavailable` says so.

The browser never touches the network itself. Every request it makes is answered by the scan's
own `Fetcher`, with its guard (no private networks the typed page is not on), size caps,
deadlines and per-host pacing; pictures, media and fonts are not fetched at all (the scan
fetches the images it finds itself, once), nor is anything but a GET. Whatever escapes
interception (WebSockets, for one) is sent to a proxy address that does not exist, and service
workers are blocked. A page's scripts therefore see no more of the user's network than the scan
does, and a hostile page costs at most `RENDER_BUDGET` seconds.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BrowserUnavailable, FetchCancelled, FetchError

if TYPE_CHECKING:  # light to import: the scan dialog asks find_browser() whether to offer it
    from .fetch import Fetcher

RENDER_BUDGET = 30.0  # seconds for one page: load, scripts, scrolling for lazy images
SETTLE_SECONDS = 1.5  # quiet network time after which a page counts as built
SCROLL_STEPS = 4  # lazy loaders fill images as they scroll into view
_NOT_FETCHED = ("image", "media", "font", "stylesheet", "websocket", "manifest", "other")
_NOWHERE_PROXY = "http://127.0.0.1:9"  # the discard port: anything not intercepted goes nowhere

_EXECUTABLE_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                     "chrome", "microsoft-edge", "microsoft-edge-stable", "msedge")
_WINDOWS_PATHS = (r"Google\Chrome\Application\chrome.exe", r"Microsoft\Edge\Application\msedge.exe",
                  r"Chromium\Application\chrome.exe")
_MAC_PATHS = ("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
              "/Applications/Chromium.app/Contents/MacOS/Chromium",
              "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge")


def find_browser() -> Path | None:
    """An installed Chromium, Chrome or Edge, or None. `$SANCTUM_BROWSER` names one explicitly."""
    explicit = os.environ.get("SANCTUM_BROWSER")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    for name in _EXECUTABLE_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    candidates: list[Path] = []
    if sys.platform == "win32":
        for root in (os.environ.get("PROGRAMFILES"), os.environ.get("PROGRAMFILES(X86)"),
                     os.environ.get("LOCALAPPDATA")):
            if root:
                candidates += [Path(root) / relative for relative in _WINDOWS_PATHS]
    elif sys.platform == "darwin":
        candidates = [Path(p) for p in _MAC_PATHS]
    return next((p for p in candidates if p.is_file()), None)


@dataclass(frozen=True)
class RenderedPage:
    url: str   # the address rendered
    html: str  # the document as the page's scripts left it


class PageRenderer:
    """One headless browser for a scan's pages: `with PageRenderer(fetcher) as r: r.render(url)`.
    Not thread-safe: one renderer per thread (Playwright's synchronous API is bound to it)."""

    def __init__(self, fetcher: Fetcher, executable: Path | None = None, budget: float = RENDER_BUDGET):
        self._fetcher = fetcher
        self._executable = executable or find_browser()
        self._budget = budget
        self._playwright = None
        self._browser = None

    def __enter__(self) -> PageRenderer:
        if self._executable is None:
            raise BrowserUnavailable(
                "No Chromium, Chrome or Edge was found. Install one of them to read pages that "
                "build their images with JavaScript (or set SANCTUM_BROWSER to its program file).")
        try:
            from playwright.sync_api import Error as PlaywrightError
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise BrowserUnavailable("The browser driver (Playwright) is not installed.") from None
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=str(self._executable), headless=True,
                proxy={"server": _NOWHERE_PROXY}, args=["--disable-background-networking"])
        except PlaywrightError as exc:
            self._playwright.stop()
            raise BrowserUnavailable(f"The browser at {self._executable} did not start "
                                     f"({str(exc).splitlines()[0][:200]}).") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()

    def render(self, url: str, cancel: threading.Event | None = None) -> RenderedPage:
        """The page at `url` after its scripts ran and it was scrolled to the end."""
        from playwright.sync_api import Error as PlaywrightError

        deadline = time.monotonic() + self._budget
        context = self._browser.new_context(service_workers="block", accept_downloads=False,
                                            java_script_enabled=True)
        try:
            page = context.new_page()
            page.route("**/*", lambda route: self._answer(route, url, cancel, deadline))
            try:
                page.goto(url, wait_until="load", timeout=self._budget * 1000)
                for _ in range(SCROLL_STEPS):
                    _check(cancel)
                    page.evaluate("window.scrollTo(0, document.body ? document.body.scrollHeight : 0)")
                    self._settle(page, deadline)
            except PlaywrightError as exc:
                if cancel is not None and cancel.is_set():
                    raise FetchCancelled() from None
                if "Timeout" not in type(exc).__name__ and "timeout" not in str(exc).lower():
                    raise FetchError(f"the browser could not open the page ({str(exc).splitlines()[0][:160]})"
                                     ) from None
                # Out of time: what the scripts built so far is still worth reading.
            return RenderedPage(url, page.content())
        finally:
            context.close()

    def _settle(self, page, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            page.wait_for_load_state("networkidle", timeout=min(remaining, SETTLE_SECONDS * 4) * 1000)
        except Exception:  # noqa: BLE001 - a page that never goes quiet is read as it is
            pass
        page.wait_for_timeout(min(SETTLE_SECONDS, max(remaining, 0)) * 200)

    def _answer(self, route, page_url: str, cancel: threading.Event | None, deadline: float) -> None:
        request = route.request
        if (request.method != "GET" or request.resource_type in _NOT_FETCHED
                or time.monotonic() > deadline or (cancel is not None and cancel.is_set())):
            route.abort()
            return
        try:
            fetched = self._fetcher.get(request.url, cancel=cancel, origin=page_url)
        except FetchError:
            route.abort()
            return
        route.fulfill(status=fetched.status if fetched.status != 304 else 200,
                      content_type=fetched.content_type or None, body=fetched.content or b"")


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise FetchCancelled()
