"""What a scan looks at: local files and folders, image URLs, and web pages.

A page URL is fetched once and its images are collected from `<img src/srcset>`, `<picture>`
sources, `og:image` / `twitter:image` meta tags and CSS `background(-image): url(...)`; only
images on the same site (by the public-suffix list) are followed, and at most
`max_images_per_page` of them.

Pages come from hosts that may be hostile, so reading one is bounded: libxml2's HTML parser
(lxml) works in linear time and caps nesting depth, the page is read up to `MAX_PAGE_BYTES`,
at most `MAX_URLS_SEEN` addresses are collected, and CSS is scanned with `str.find`, never a
backtracking regex. Python's own html.parser (3.11) is quadratic on inputs such as "<a" repeated
(100 KB: 21 s), and a regex with a lazy gap before "url(" took 9 s on 86 KB of "background:",
inside one C call that held the GIL and so froze the GUI and its auto-lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.etree
from publicsuffixlist import PublicSuffixList

from ..urls import is_url

MAX_IMAGES_PER_PAGE = 60
MAX_PAGE_BYTES = 4 * 1024 * 1024  # many times the HTML of a real gallery page; the rest is ignored
MAX_URLS_SEEN = 5000  # image addresses collected from one page before deduplication
_DECLARATION_END = re.compile(r"[;{}]")  # a single character class: linear
_BACKGROUND_PROPERTIES = ("background", "background-image")
_META_IMAGE = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image")


@dataclass(frozen=True)
class Candidate:
    """One image to check: a local path or a URL, and where it was found."""

    location: str
    found_on: str | None = None  # the page that linked it, if any

    @property
    def is_url(self) -> bool:
        return is_url(self.location)


def local_candidates(path: Path) -> list[Candidate]:
    if path.is_dir():
        return [
            Candidate(str(p)) for p in sorted(path.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ]
    return [Candidate(str(path))]


def css_image_urls(css: str) -> list[str]:
    """The url(...) values of `background` and `background-image` declarations.

    Linear in the length of `css`: declarations are split on one character class, and each
    url( is matched to the next ")" with str.find, the scan resuming after it."""
    found: list[str] = []
    for declaration in _DECLARATION_END.split(css):
        name, colon, value = declaration.partition(":")
        if colon and name.strip().lower() in _BACKGROUND_PROPERTIES:
            found.extend(_css_urls(value))
    return found


def _css_urls(value: str) -> list[str]:
    lower = value.lower()
    urls: list[str] = []
    position = 0
    while (start := lower.find("url(", position)) != -1:
        end = value.find(")", start + 4)
        if end == -1:
            break  # no closing parenthesis anywhere after: nothing more can match
        inner = value[start + 4 : end].strip()
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
            inner = inner[1:-1].strip()
        if inner and not any(char.isspace() for char in inner):
            urls.append(inner)
        position = end + 1
    return urls


class _ImageCollector:
    """Image addresses of a parsed page, in page order, at most MAX_URLS_SEEN of them."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.base: str | None = None

    @property
    def full(self) -> bool:
        return len(self.urls) >= MAX_URLS_SEEN

    def element(self, tag: str, a: lxml.etree._Attrib, text: str | None) -> None:
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a.get("href")
        if tag == "img":
            self._add(a.get("src"))
            self._add(a.get("data-src"))
            self._add_srcset(a.get("srcset"))
        elif tag == "source":
            self._add_srcset(a.get("srcset"))
        elif tag == "meta" and (a.get("property") or a.get("name") or "").lower() in _META_IMAGE:
            self._add(a.get("content"))
        elif tag == "link" and (a.get("rel") or "").lower() == "image_src":
            self._add(a.get("href"))
        elif tag == "style" and text:
            for url in css_image_urls(text):
                self._add(url)
        if a.get("style"):
            for url in css_image_urls(a.get("style")):
                self._add(url)

    def _add(self, url: str | None) -> None:
        if url and not self.full and not url.startswith("data:"):
            self.urls.append(url.strip())

    def _add_srcset(self, srcset: str | None) -> None:
        # "a.jpg 1x, b.jpg 2x" or "a.jpg 480w, b.jpg 800w": take the largest candidate, the
        # one most likely to be a full-size copy.
        if not srcset:
            return
        best, best_size = None, -1.0
        for item in srcset.split(","):
            parts = item.strip().split()
            if not parts:
                continue
            size = 1.0
            if len(parts) > 1:
                try:
                    size = float(parts[1][:-1])
                except ValueError:
                    size = 1.0
            if size > best_size:
                best, best_size = parts[0], size
        self._add(best)


@cache
def _public_suffixes() -> PublicSuffixList:
    # The list ships inside the publicsuffixlist package; nothing is downloaded.
    return PublicSuffixList()


def _site(host: str) -> str:
    """The registrable domain ("site") of a host by the public-suffix list: example.co.uk for
    img.example.co.uk; alice.github.io and bob.github.io are different sites. An IP address is
    its own site, and so is a name with no registrable part (localhost)."""
    host = host.lower().rstrip(".")
    try:
        return ip_address(host.strip("[]")).compressed
    except ValueError:
        pass
    return _public_suffixes().privatesuffix(host) or host


def images_on_page(html: str, page_url: str, max_images: int = MAX_IMAGES_PER_PAGE) -> list[str]:
    """Absolute URLs of the images a page shows, same site only, in page order, deduplicated."""
    collector = _ImageCollector()
    data = html.encode("utf-8", "replace")[:MAX_PAGE_BYTES]
    # recover: a broken page still yields what can be read; no_network: never fetch a DTD.
    parser = lxml.etree.HTMLParser(encoding="utf-8", recover=True, no_network=True,
                                   remove_comments=True, remove_pis=True, huge_tree=False)
    try:
        root = lxml.etree.fromstring(data, parser) if data.strip() else None
    except lxml.etree.LxmlError:
        root = None
    if root is not None:
        for element in root.iter(lxml.etree.Element):
            if collector.full:
                break
            collector.element(str(element.tag).lower(), element.attrib, element.text)
    base = urljoin(page_url, collector.base) if collector.base else page_url
    page_site = _site(urlsplit(page_url).hostname or "")
    seen: set[str] = set()
    found: list[str] = []
    for raw in collector.urls:
        try:
            absolute = urljoin(base, raw)
            parts = urlsplit(absolute)
            hostname = parts.hostname
        except ValueError:  # "http://[::1" and the like
            continue
        if parts.scheme not in ("http", "https") or not hostname:
            continue
        if _site(hostname) != page_site:
            continue
        absolute = absolute.split("#", 1)[0]
        if absolute not in seen:
            seen.add(absolute)
            found.append(absolute)
        if len(found) >= max_images:
            break
    return found


def looks_like_html(content: bytes, content_type: str) -> bool:
    if "html" in content_type.lower():
        return True
    head = content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head
