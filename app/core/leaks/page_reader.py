"""What a web page shows and where it leads: image addresses, its next pages, same-site links.

Images come from everywhere a real page puts them: `<img>` with its lazy-loading attributes
(`data-src`, `data-lazy-src`, `data-original`, …) and the largest `srcset` candidate,
`<picture>` sources, `<noscript>` fallbacks (libxml2 parses their content as elements),
`<a href>` to an image file (the full-size copy behind a thumbnail), `og:image` /
`twitter:image`, `link rel=image_src`, video posters, CSS backgrounds, JSON-LD (`image`,
`contentUrl`, `thumbnailUrl`) and image addresses inside inline JSON or scripts. Images may be
on any host (large sites serve them from a CDN); the fetcher's guard keeps them off the private
networks the page itself is not on.

Links: `rel=next`, a link whose text or label says "next", and numbered page links form the
page's pagination; other links on the same site (by the public-suffix list) are the ones a scan
with depth follows.

Pages come from hosts that may be hostile, so reading one is bounded: libxml2's HTML parser
(lxml) works in linear time and caps nesting depth, the page is read up to `MAX_PAGE_BYTES`,
at most `MAX_URLS_SEEN` addresses are collected, JSON-LD blocks are parsed up to
`MAX_JSON_BYTES`, and CSS and scripts are scanned by splitting on one character class and
`str.find`, never with a backtracking regex. Python's own html.parser (3.11) is quadratic on
inputs such as "<a" repeated (100 KB: 21 s), and a regex with a lazy gap before "url(" took
9 s on 86 KB of "background:", inside one C call that held the GIL and froze the GUI.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from ipaddress import ip_address
from urllib.parse import urljoin, urlsplit

import lxml.etree
from publicsuffixlist import PublicSuffixList

MAX_IMAGES_PER_PAGE = 60
MAX_PAGE_BYTES = 4 * 1024 * 1024  # many times the HTML of a real gallery page; the rest is ignored
MAX_URLS_SEEN = 5000  # addresses collected from one page before deduplication
MAX_JSON_BYTES = 512 * 1024  # one JSON-LD block; a real one is a few KB
MAX_LINKS_PER_PAGE = 200  # same-site links kept for a deeper scan

# Where lazy-loading scripts keep the real address until the image scrolls into view
# (lazysizes, jQuery lazyload, WordPress, Jetpack, zoom plugins, …).
_IMAGE_ATTRIBUTES = (
    "src", "data-src", "data-lazy-src", "data-original", "data-lazy", "data-url", "data-full",
    "data-full-src", "data-fullsrc", "data-large", "data-large-file", "data-orig-file",
    "data-zoom-image", "data-hi-res-src", "data-echo", "data-image", "data-actualsrc",
)
_SRCSET_ATTRIBUTES = ("srcset", "data-srcset", "data-lazy-srcset")
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif", ".bmp", ".tif", ".tiff", ".jfif")
_META_IMAGE = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
_JSON_LD_IMAGE_KEYS = ("image", "contentUrl", "thumbnailUrl", "thumbnail", "associatedMedia")
_NEXT_WORDS = ("next", "next page", "older", "older posts", "more", "suivant", "weiter",
               "siguiente", "›", "»", "→", ">", ">>")
_DECLARATION_END = re.compile(r"[;{}]")  # a single character class: linear
_SCRIPT_TOKEN_END = re.compile(r"[\s\"'<>(),;\[\]{}|^`]")  # the same: splitting is linear
_BACKGROUND_PROPERTIES = ("background", "background-image")


@dataclass(frozen=True)
class PageLinks:
    """What one page offers a scan, as absolute http(s) addresses in page order."""

    images: list[str]      # any host, at most the page's image budget
    next_pages: list[str]  # its pagination: "next" first, then numbered pages (same site)
    links: list[str]       # other pages on the same site, for a scan with depth


def read_page(html: str, page_url: str, max_images: int = MAX_IMAGES_PER_PAGE) -> PageLinks:
    """The images, pagination and same-site links of a page (see the module's docstring)."""
    collector = _Collector()
    root = _parse(html)
    if root is not None:
        for element in root.iter(lxml.etree.Element):
            if collector.full:
                break
            collector.element(element)
    base = urljoin(page_url, collector.base) if collector.base else page_url
    page_site = site_of(urlsplit(page_url).hostname or "")
    current = page_url.split("#", 1)[0]

    def same_site(urls: list[str], limit: int) -> list[str]:
        return [u for u in _absolute(urls, base, limit + 1) if site_of(urlsplit(u).hostname or "") == page_site
                and u != current][:limit]

    next_pages = same_site(collector.next_pages, MAX_LINKS_PER_PAGE)
    links = [u for u in same_site(collector.links, MAX_LINKS_PER_PAGE) if u not in next_pages]
    return PageLinks(_absolute(collector.images, base, max_images), next_pages, links)


def images_on_page(html: str, page_url: str, max_images: int = MAX_IMAGES_PER_PAGE) -> list[str]:
    """Absolute URLs of the images a page shows, in page order, deduplicated."""
    return read_page(html, page_url, max_images).images


def looks_like_html(content: bytes, content_type: str) -> bool:
    if "html" in content_type.lower():
        return True
    head = content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def _parse(html: str) -> lxml.etree._Element | None:
    data = html.encode("utf-8", "replace")[:MAX_PAGE_BYTES]
    if not data.strip():
        return None
    # recover: a broken page still yields what can be read; no_network: never fetch a DTD.
    parser = lxml.etree.HTMLParser(encoding="utf-8", recover=True, no_network=True,
                                   remove_comments=True, remove_pis=True, huge_tree=False)
    try:
        return lxml.etree.fromstring(data, parser)
    except lxml.etree.LxmlError:
        return None


def _absolute(raw_urls: list[str], base: str, limit: int) -> list[str]:
    seen: set[str] = set()
    found: list[str] = []
    for raw in raw_urls:
        try:
            absolute = urljoin(base, raw)
            parts = urlsplit(absolute)
        except ValueError:  # "http://[::1" and the like
            continue
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        absolute = absolute.split("#", 1)[0]
        if absolute not in seen:
            seen.add(absolute)
            found.append(absolute)
            if len(found) >= limit:
                break
    return found


class _Collector:
    """Addresses found in a parsed page, at most MAX_URLS_SEEN of them in all."""

    def __init__(self) -> None:
        self.images: list[str] = []
        self.next_pages: list[str] = []
        self.links: list[str] = []
        self.base: str | None = None
        self._count = 0

    @property
    def full(self) -> bool:
        return self._count >= MAX_URLS_SEEN

    def element(self, element: lxml.etree._Element) -> None:
        tag = str(element.tag).lower()
        a = element.attrib
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a.get("href")
        elif tag in ("img", "source"):
            for name in _IMAGE_ATTRIBUTES if tag == "img" else ("src", "data-src"):
                self._add(self.images, a.get(name))
            for name in _SRCSET_ATTRIBUTES:
                self._add(self.images, largest_in_srcset(a.get(name)))
        elif tag == "video":
            self._add(self.images, a.get("poster"))
        elif tag == "meta" and (a.get("property") or a.get("name") or "").lower() in _META_IMAGE:
            self._add(self.images, a.get("content"))
        elif tag in ("a", "link"):
            self._link(element, tag)
        elif tag == "style" and element.text:
            for url in css_image_urls(element.text):
                self._add(self.images, url)
        elif tag == "script" and element.text:
            self._script(a.get("type") or "", element.text)
        if a.get("style"):
            for url in css_image_urls(a.get("style")):
                self._add(self.images, url)

    def _link(self, element: lxml.etree._Element, tag: str) -> None:
        href = element.attrib.get("href")
        rel = (element.attrib.get("rel") or "").lower().split()
        if not href:
            return
        if "image_src" in rel:
            self._add(self.images, href)
        elif "next" in rel:
            self._add(self.next_pages, href)
        elif tag == "a":
            if looks_like_image_address(href):
                self._add(self.images, href)
            elif _is_pagination(element):
                self._add(self.next_pages, href)
            else:
                self._add(self.links, href)

    def _script(self, kind: str, text: str) -> None:
        if kind.strip().lower() == "application/ld+json":
            for url in json_ld_image_urls(text):
                self._add(self.images, url)
        else:
            for url in script_image_urls(text):
                self._add(self.images, url)

    def _add(self, bucket: list[str], url: str | None) -> None:
        if url and not self.full and not url.startswith("data:"):
            bucket.append(url.strip())
            self._count += 1


def _is_pagination(anchor: lxml.etree._Element) -> bool:
    """A "next" link (by its text, label or class) or a numbered page link ("2", "3", …)."""
    text = " ".join("".join(anchor.itertext()).split()).lower()[:40]
    if text.isdigit() and len(text) <= 4:
        return True
    label = (anchor.attrib.get("aria-label") or anchor.attrib.get("title") or "").lower()
    classes = (anchor.attrib.get("class") or "").lower().split()
    return (text in _NEXT_WORDS or text.startswith("next") or label.startswith("next")
            or any(c == "next" or c.endswith("-next") or c.startswith("next-") for c in classes))


def largest_in_srcset(srcset: str | None) -> str | None:
    """The largest candidate of "a.jpg 1x, b.jpg 2x" or "a.jpg 480w, b.jpg 800w": the one most
    likely to be a full-size copy."""
    if not srcset:
        return None
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
    return best


def looks_like_image_address(url: str) -> bool:
    """Whether an address's path ends in an image file's extension."""
    path = url.split("#", 1)[0].split("?", 1)[0].lower()
    return path.endswith(_IMAGE_EXTENSIONS)


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


def json_ld_image_urls(text: str) -> list[str]:
    """Image addresses in a JSON-LD block: the values of `image`, `contentUrl`, `thumbnailUrl`
    (a string, a list, or an ImageObject with `url` / `contentUrl`), anywhere in the document."""
    if len(text) > MAX_JSON_BYTES:
        return []
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return []
    found: list[str] = []
    stack: list[tuple[object, bool]] = [(document, False)]
    while stack and len(found) < MAX_URLS_SEEN:  # iterative: a deep document cannot overflow
        value, is_image = stack.pop()
        if isinstance(value, str):
            if is_image:
                found.append(value)
        elif isinstance(value, list):
            stack.extend((item, is_image) for item in reversed(value))
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                stack.append((item, key in _JSON_LD_IMAGE_KEYS or (is_image and key == "url")))
    return found


def script_image_urls(text: str) -> list[str]:
    """Absolute image addresses written inside a script or inline JSON (`"https:\\/\\/…jpg"`
    included). Linear: the text is split on one character class, each piece checked once."""
    found: list[str] = []
    for token in _SCRIPT_TOKEN_END.split(text[:MAX_PAGE_BYTES]):
        if "//" not in token and "\\/\\/" not in token:
            continue
        token = token.replace("\\/", "/").replace("\\u002F", "/").replace("\\u002f", "/")
        start = token.find("http")
        url = token[start:] if start != -1 else ""
        if not url.startswith(("http://", "https://")):
            continue
        if looks_like_image_address(url):
            found.append(url)
            if len(found) >= MAX_URLS_SEEN:
                break
    return found


@cache
def _public_suffixes() -> PublicSuffixList:
    # The list ships inside the publicsuffixlist package; nothing is downloaded.
    return PublicSuffixList()


def site_of(host: str) -> str:
    """The registrable domain ("site") of a host by the public-suffix list: example.co.uk for
    img.example.co.uk; alice.github.io and bob.github.io are different sites. An IP address is
    its own site, and so is a name with no registrable part (localhost)."""
    host = host.lower().rstrip(".")
    try:
        return ip_address(host.strip("[]")).compressed
    except ValueError:
        pass
    return _public_suffixes().privatesuffix(host) or host
