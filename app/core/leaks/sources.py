"""What a scan looks at: local files and folders, image URLs, and web pages.

A page URL is fetched once and its images are collected from `<img src/srcset>`, `<picture>`
sources, `og:image` / `twitter:image` meta tags and simple CSS `background-image: url(...)`;
only images on the same site are followed, and at most `max_images_per_page` of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

MAX_IMAGES_PER_PAGE = 60
_CSS_URL = re.compile(r"""background(?:-image)?\s*:[^;{}]*?url\(\s*['"]?([^'")\s]+)['"]?\s*\)""", re.I)


@dataclass(frozen=True)
class Candidate:
    """One image to check: a local path or a URL, and where it was found."""

    location: str
    found_on: str | None = None  # the page that linked it, if any

    @property
    def is_url(self) -> bool:
        return self.location.startswith(("http://", "https://"))


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def local_candidates(path: Path) -> list[Candidate]:
    if path.is_dir():
        return [
            Candidate(str(p)) for p in sorted(path.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ]
    return [Candidate(str(path))]


class _ImageCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.base: str | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        if tag == "img":
            self._add(a.get("src"))
            self._add(a.get("data-src"))
            self._add_srcset(a.get("srcset"))
        elif tag == "source":
            self._add_srcset(a.get("srcset"))
        elif tag == "meta" and a.get("property", a.get("name", "")).lower() in (
            "og:image", "og:image:url", "og:image:secure_url", "twitter:image"
        ):
            self._add(a.get("content"))
        elif tag == "link" and a.get("rel", "").lower() == "image_src":
            self._add(a.get("href"))
        if a.get("style"):
            self.urls.extend(_CSS_URL.findall(a["style"]))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(_CSS_URL.findall(data))

    def _add(self, url: str | None) -> None:
        if url and not url.startswith("data:"):
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


def _site(host: str) -> str:
    """example.com for www.example.com and img.example.com: a simple same-site rule."""
    labels = host.lower().split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 else host.lower()


def images_on_page(html: str, page_url: str, max_images: int = MAX_IMAGES_PER_PAGE) -> list[str]:
    """Absolute URLs of the images a page shows, same site only, in page order, deduplicated."""
    collector = _ImageCollector()
    try:
        collector.feed(html)
        collector.close()
    except Exception:  # a broken page still yields what was parsed before the damage
        pass
    base = urljoin(page_url, collector.base) if collector.base else page_url
    page_site = _site(urlsplit(page_url).hostname or "")
    seen: set[str] = set()
    found: list[str] = []
    for raw in collector.urls:
        absolute = urljoin(base, raw)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        if _site(parts.hostname) != page_site:
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
