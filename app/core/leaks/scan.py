"""A leak scan: sources in, findings and per-source problems out. Nothing is lost: every
source either yields its images' results or a problem with a reason."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from .. import imaging
from ..errors import ImageTooLarge, SanctumError, UnsupportedImage
from ..progress import Progress
from .capture import (
    Capture,
    PageSnapshot,
    file_capture,
    http_capture,
    not_modified,
    page_snapshot,
    signature_state,
)
from .crawl import PageOptions, Render, read_site
from .fetch import CacheEntry, Fetched, Fetcher
from .matcher import Matcher, MatchResult
from .sources import Candidate, is_url, local_candidates, looks_like_html

EVIDENCE_SIDE = 480
# What checking a found image costs, in bytes per pixel, by how Pillow decodes it (measured on
# 36-100 MP images through the whole match, docs/benchmarks.md): a JPEG is decoded reduced by
# libjpeg (a progressive one still holds all its coefficients), a PNG, GIF or TIFF in full and
# then reduced, a WebP through libwebp's own full-size canvas as well.
_BYTES_PER_PIXEL = {"jpeg": 1.0, "progressive jpeg": 3.5, "webp": 16.0, "heic": 8.0, "heif": 8.0, "avif": 8.0}
_BYTES_PER_PIXEL_OTHER = 5.0
# A found image is checked only while that stays under this, judged from its header before
# anything is decoded: a hostile page can serve a 95 KB PNG that declares 100 MP, which took
# 1.7 GB to match. Caps that follow: PNG 53 MP, WebP 16 MP, progressive JPEG 76 MP (the import
# cap is 200 MP).
MAX_CANDIDATE_BYTES = 256 * 2**20
# Bytes being decoded at once across the scan's workers: four large images together would need
# gigabytes; another waits for room.
DECODE_BUDGET_BYTES = 512 * 2**20
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    source: str  # image URL or file path
    found_on: str | None  # the page it was on
    match: MatchResult
    evidence: bytes  # small JPEG of the found image, kept (encrypted) as evidence
    capture: Capture | None = None  # what this look saw: hash of the bytes, HTTP status, times


@dataclass(frozen=True)
class SourceProblem:
    source: str
    reason: str


@dataclass
class ScanReport:
    scanned: int = 0
    findings: list[Finding] = field(default_factory=list)
    errors: list[SourceProblem] = field(default_factory=list)
    cancelled: bool = False
    # The pages the user's sources expanded from, as fetched, by their address: the vault keeps
    # those that showed a found copy (capture_store).
    pages: dict[str, PageSnapshot] = field(default_factory=dict)
    # Every image checked to the end, by its address or path: the SHA-256 of the bytes looked at
    # ("" when an unchanged image was answered from the session's cache). The watch list keeps it.
    checked: dict[str, str] = field(default_factory=dict)
    skipped: int = 0  # sources and images the caller's `skip` left out


class ScanCache:
    """Remembers validators per URL so unchanged images are not downloaded and matched again.

    In memory only: the default lives for one scan, the vault keeps one for its session. Never
    stored: validators replayed in a later session would let a host recognise the user."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[CacheEntry, list[Finding]]] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> tuple[CacheEntry, list[Finding]] | None:
        with self._lock:
            return self._entries.get(url)

    def put(self, url: str, entry: CacheEntry, findings: list[Finding]) -> None:
        # Without the evidence images: the vault keeps those (encrypted) with the matches.
        light = [dataclasses.replace(finding, evidence=b"") for finding in findings]
        with self._lock:
            self._entries[url] = (entry, light)

    def forget_photo(self, photo_id: int) -> None:
        """Drop the entries whose findings name a deleted photo: a later scan would otherwise
        skip the unchanged image and report a match with a photo that no longer exists."""
        with self._lock:
            self._entries = {url: (entry, findings) for url, (entry, findings) in self._entries.items()
                             if all(finding.match.photo_id != photo_id for finding in findings)}


def run_scan(
    sources: Iterable[str],
    matcher: Matcher,
    *,
    fetcher: Fetcher | None = None,
    cache: ScanCache | None = None,
    progress: Progress = lambda done, total: None,
    cancel: threading.Event | None = None,
    workers: int = 4,
    pages: PageOptions | None = None,
    skip: Callable[[Candidate], bool] | None = None,
) -> ScanReport:
    """Check `sources` for vault photos. `skip`, when given, is asked about each source and each
    image found before anything is fetched for it: True leaves it out (the watch list passes one
    that knows what earlier checks looked at); every ordinary scan passes none."""
    cancel = cancel or threading.Event()
    pages = pages or PageOptions()
    cache = cache or ScanCache()
    report = ScanReport()
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher()
    lock = threading.Lock()
    budget = _DecodeBudget(DECODE_BUDGET_BYTES)
    try:
        candidates, prefetched = _expand(list(sources), fetcher, cache, report, cancel, pages, skip)
        if skip is not None:
            kept = [candidate for candidate in candidates if not skip(candidate)]
            report.skipped += len(candidates) - len(kept)
            candidates = kept
        total = len(candidates)
        done = 0
        progress(0, total)

        def check(candidate: Candidate) -> None:
            nonlocal done
            if cancel.is_set():
                return
            try:
                findings, sha256 = _check_candidate(candidate, matcher, fetcher, cache, cancel, prefetched, budget)
                with lock:
                    report.findings.extend(findings)
                    report.checked[candidate.location] = sha256
                    report.scanned += 1
            except Exception as exc:  # noqa: BLE001 - one item's failure, whatever it is, is that item's error
                if not isinstance(exc, (SanctumError, OSError)):
                    # Unexpected: keep the type for a bug report, never the content or the address.
                    log.warning("checking a scanned image failed: %s", type(exc).__name__)
                with lock:
                    report.errors.append(SourceProblem(candidate.location, _reason(exc)))
            finally:
                with lock:
                    done += 1
                    progress(done, total)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sanctum-scan") as pool:
            list(pool.map(check, candidates))
    finally:
        if own_fetcher:
            fetcher.close()
    report.cancelled = cancel.is_set()
    return report


def _expand(sources: list[str], fetcher: Fetcher, cache: ScanCache, report: ScanReport,
            cancel: threading.Event, pages: PageOptions, skip: Callable[[Candidate], bool] | None = None
            ) -> tuple[list[Candidate], dict[str, Fetched]]:
    """Turn sources into image candidates. URLs are fetched here once: a page contributes its
    images (each then checked and reported on its own), and with `pages.depth` those of its next
    pages and links; an image keeps its downloaded bytes."""
    candidates: list[Candidate] = []
    prefetched: dict[str, Fetched] = {}
    with contextlib.ExitStack() as resources:
        render = _browser(resources, fetcher) if pages.browser else None
        for source in sources:
            if cancel.is_set():
                break
            if skip is not None and skip(Candidate(source)):  # an image address looked at before
                report.skipped += 1
                continue
            try:
                found, fetched = _expand_one(source, fetcher, cache, cancel, pages, render, report)
            except Exception as exc:  # noqa: BLE001 - one source's failure, whatever it is, is that source's error
                if not isinstance(exc, (SanctumError, OSError)):
                    log.warning("reading a scan source failed: %s", type(exc).__name__)
                report.errors.append(SourceProblem(source, _reason(exc)))
                continue
            if fetched is not None:
                prefetched[source] = fetched
            candidates.extend(found)
    return candidates, prefetched


def _browser(resources: contextlib.ExitStack, fetcher: Fetcher) -> Render:
    """One headless browser for the scan's pages, started at the first page that needs it (a
    scan of files and image addresses never starts one)."""
    from .browser import PageRenderer

    renderer: list[PageRenderer] = []

    def render(url: str, cancel: threading.Event | None) -> str:
        if not renderer:
            renderer.append(resources.enter_context(PageRenderer(fetcher)))
        return renderer[0].render(url, cancel).html

    return render


def _expand_one(source: str, fetcher: Fetcher, cache: ScanCache, cancel: threading.Event, pages: PageOptions,
                render: Render | None, report: ScanReport) -> tuple[list[Candidate], Fetched | None]:
    if not is_url(source):
        path = Path(source).expanduser()
        if not path.exists():
            raise SanctumError("no such file or folder")
        return local_candidates(path), None  # an unreadable folder raises PermissionError here
    cached = cache.get(source)
    fetched = fetcher.get(source, cached[0] if cached else None, cancel)
    content = fetched.content or b""
    if fetched.status == 304 or imaging.sniff_kind(content[:32]) is not None or not looks_like_html(
            content, fetched.content_type):
        return [Candidate(source)], fetched
    site = read_site(source, fetched, fetcher, pages, cancel, render)
    report.errors.extend(SourceProblem(page, f"a linked page could not be read: {why}") for page, why in site.problems)
    candidates: list[Candidate] = []
    seen: set[str] = set()
    for page in site.pages:
        report.pages[page.url] = page_snapshot(page.fetched, page.url)
        for url in page.images:
            if url not in seen:  # an image shown on several pages is checked once, on the first
                seen.add(url)
                candidates.append(Candidate(url, page.url, origin=source))
    if not candidates:
        raise SanctumError("a web page with no images" if len(site.pages) == 1
                           else f"no images on any of the {len(site.pages)} pages read")
    return candidates, None


def _check_candidate(candidate: Candidate, matcher: Matcher, fetcher: Fetcher, cache: ScanCache,
                     cancel: threading.Event, prefetched: dict[str, Fetched], budget: _DecodeBudget
                     ) -> tuple[list[Finding], str]:
    """The findings of one image and the SHA-256 of the bytes looked at ("" when the session's
    cache answered for an unchanged image)."""
    if not candidate.is_url:
        path = Path(candidate.location)
        if path.stat().st_size > imaging.MAX_FILE_BYTES:  # never read a huge file into memory
            raise ImageTooLarge(f"the file is larger than {imaging.MAX_FILE_BYTES // 2**20} MB")
        data = path.read_bytes()
        return (_findings(candidate, data, matcher, budget, lambda signature: file_capture(path, data, signature)),
                hashlib.sha256(data).hexdigest())
    cached = cache.get(candidate.location)
    # An image found on a page may reach only the networks the page the user typed is on.
    fetched = prefetched.pop(candidate.location, None) or fetcher.get(
        candidate.location, cached[0] if cached else None, cancel, origin=candidate.origin or candidate.found_on)
    if fetched.status == 304 and cached:
        # Unchanged since this session hashed it: the same findings, this look's own facts.
        return [dataclasses.replace(finding, capture=not_modified(finding.capture, fetched))
                if finding.capture else finding for finding in cached[1]], ""
    data = fetched.content or b""
    if imaging.sniff_kind(data[:32]) is None and looks_like_html(data, fetched.content_type):
        raise UnsupportedImage("a web page, not an image (a login or error page?)")
    findings = _findings(candidate, data, matcher, budget,
                         lambda signature: http_capture(fetched, data, candidate.location, signature))
    if fetched.etag or fetched.last_modified:
        cache.put(candidate.location, CacheEntry(fetched.etag, fetched.last_modified), findings)
    return findings, hashlib.sha256(data).hexdigest()


class _DecodeBudget:
    """Bounds the bytes the scan's workers spend decoding at once."""

    def __init__(self, limit: int):
        self.limit = limit
        self._in_use = 0
        self._room = threading.Condition()

    @contextlib.contextmanager
    def hold(self, cost: int) -> Iterator[None]:
        cost = min(cost, self.limit)
        with self._room:
            self._room.wait_for(lambda: self._in_use + cost <= self.limit)
            self._in_use += cost
        try:
            yield
        finally:
            with self._room:
                self._in_use -= cost
                self._room.notify_all()


@dataclass(frozen=True)
class _Header:
    kind: str  # "jpeg", "progressive jpeg", "png", ...
    width: int
    height: int

    @property
    def cost(self) -> int:
        """Bytes it takes to check this image (see _BYTES_PER_PIXEL)."""
        return int(self.width * self.height * _BYTES_PER_PIXEL.get(self.kind, _BYTES_PER_PIXEL_OTHER))


def _header(data: bytes) -> _Header | None:
    """Format and size from the image's header (nothing decoded); None when it has none."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = (image.format or "").lower()
            if kind == "jpeg" and image.info.get("progressive"):
                kind = "progressive jpeg"
            return _Header(kind, *image.size)
    except Exception:  # noqa: BLE001 - not an image: decode() says why, in words
        return None


def _findings(candidate: Candidate, data: bytes, matcher: Matcher, budget: _DecodeBudget,
              capture: Callable[[str], Capture]) -> list[Finding]:
    header = _header(data)
    if header is not None and header.cost > MAX_CANDIDATE_BYTES:
        most = MAX_CANDIDATE_BYTES / _BYTES_PER_PIXEL.get(header.kind, _BYTES_PER_PIXEL_OTHER)
        raise ImageTooLarge(
            f"too large to check ({header.width:,} × {header.height:,} pixels; a found "
            f"{header.kind.upper()} image is checked up to {most / 1e6:.0f} megapixels)")
    with budget.hold(header.cost if header else 0):
        checked = matcher.check(data)
        if not checked.results:
            return []
        evidence = _evidence(checked.picture)
        signing_public = matcher.keys.signing_public if matcher.keys is not None else None
        signature = signature_state(data, signing_public, {m.share_id for m in checked.results if m.share_id})
    facts = capture(signature)
    return [Finding(candidate.location, candidate.found_on, m, evidence, facts) for m in checked.results]


def _evidence(picture: Image.Image) -> bytes:
    """A small JPEG of the picture the matcher decoded (already upright, like the frame the
    match region is given in, and already reduced): the image is not decoded a second time."""
    thumb = picture.copy()
    thumb.thumbnail((EVIDENCE_SIDE, EVIDENCE_SIDE))
    out = io.BytesIO()
    thumb.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SanctumError):
        return str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    # Not an error the core raises on purpose: its text may hold anything (even a path).
    return f"could not be checked (an unexpected {type(exc).__name__})"

