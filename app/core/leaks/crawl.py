"""Reading a typed web address as a site: the page, its next pages, and links up to a depth.

Depth 0 (the default) reads the page typed and nothing else. From depth 1, the page's
pagination ("next", numbered pages: a thread's page 2, 3, …) is followed as the same page
continued, without using up depth, and other links on the same site (by the public-suffix list)
are followed up to `depth` clicks away; pagination comes first. At most `max_pages` pages are
read per typed address, the first included. Each page may be run in a headless browser first
(`browser`), for pages that build their images with JavaScript.

Every request made here carries the typed address as its origin, so a page deep in a site can
lead the fetcher to no network the typed address is not on.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import FetchCancelled, FetchError

if TYPE_CHECKING:  # light to import: the command line reads PageOptions for its arguments
    from .fetch import Fetched, Fetcher

MAX_DEPTH = 5
MAX_PAGES_LIMIT = 500


@dataclass(frozen=True)
class PageOptions:
    """How far a scan reads from each web page the user typed."""

    depth: int = 0         # 0: that page only; n: same-site links up to n clicks away
    max_pages: int = 20    # pages read per typed address, the first included
    browser: bool = False  # run each page's scripts in an installed browser before reading it

    def __post_init__(self) -> None:
        if not 0 <= self.depth <= MAX_DEPTH:
            raise ValueError(f"depth must be between 0 and {MAX_DEPTH}")
        if not 1 <= self.max_pages <= MAX_PAGES_LIMIT:
            raise ValueError(f"the page budget must be between 1 and {MAX_PAGES_LIMIT}")


@dataclass(frozen=True)
class PageRead:
    """One page read: its address, the bytes fetched (kept as evidence), the images it shows."""

    url: str
    fetched: Fetched
    images: list[str]


@dataclass
class SiteRead:
    pages: list[PageRead] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (page, why it was not read)


# (url, cancel) -> the document after the page's scripts ran; see browser.PageRenderer.render
Render = Callable[[str, threading.Event | None], str]


def read_site(source: str, first: Fetched, fetcher: Fetcher, options: PageOptions,
              cancel: threading.Event | None = None, render: Render | None = None) -> SiteRead:
    """The pages reached from `source` (already fetched as `first`) within `options`."""
    from .page_reader import MAX_PAGE_BYTES, looks_like_html, read_page

    site = SiteRead()
    queue: deque[tuple[str, Fetched | None, int]] = deque([(source, first, options.depth)])
    seen = {source, first.url}
    while queue and len(site.pages) < options.max_pages:
        if cancel is not None and cancel.is_set():
            raise FetchCancelled()
        url, fetched, depth_left = queue.popleft()
        try:
            if fetched is None:
                fetched = fetcher.get(url, cancel=cancel, origin=source)
                if not looks_like_html(fetched.content or b"", fetched.content_type):
                    continue  # a file the site links to, not a page
            html = (fetched.content or b"")[:MAX_PAGE_BYTES].decode("utf-8", "replace")
            if render is not None:
                html = render(fetched.url, cancel)
        except FetchCancelled:
            raise
        except FetchError as exc:
            site.problems.append((url, str(exc)))
            continue
        links = read_page(html, fetched.url)
        site.pages.append(PageRead(url, fetched, links.images))
        if options.depth == 0:
            continue
        # Pagination continues the page (first, and without using up depth); links go deeper.
        for next_page in reversed(links.next_pages):
            if next_page not in seen:
                seen.add(next_page)
                queue.appendleft((next_page, None, depth_left))
        if depth_left > 0:
            for link in links.links:
                if link not in seen:
                    seen.add(link)
                    queue.append((link, None, depth_left - 1))
    return site
