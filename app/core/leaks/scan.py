"""A leak scan: sources in, findings and per-source problems out. Nothing is lost: every
source either yields its images' results or a problem with a reason."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from .. import imaging
from ..errors import ImageTooLarge, SanctumError, UnsupportedImage
from ..progress import Progress
from .fetch import CacheEntry, Fetched, Fetcher
from .matcher import Matcher, MatchResult
from .sources import MAX_PAGE_BYTES, Candidate, images_on_page, is_url, local_candidates, looks_like_html

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
) -> ScanReport:
    cancel = cancel or threading.Event()
    cache = cache or ScanCache()
    report = ScanReport()
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher()
    lock = threading.Lock()
    budget = _DecodeBudget(DECODE_BUDGET_BYTES)
    try:
        candidates, prefetched = _expand(list(sources), fetcher, cache, report, cancel)
        total = len(candidates)
        done = 0
        progress(0, total)

        def check(candidate: Candidate) -> None:
            nonlocal done
            if cancel.is_set():
                return
            try:
                findings = _check_candidate(candidate, matcher, fetcher, cache, cancel, prefetched, budget)
                with lock:
                    report.findings.extend(findings)
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
            cancel: threading.Event) -> tuple[list[Candidate], dict[str, Fetched]]:
    """Turn sources into image candidates. URLs are fetched here once: a page contributes its
    images (each then checked and reported on its own), an image keeps its downloaded bytes."""
    candidates: list[Candidate] = []
    prefetched: dict[str, Fetched] = {}
    for source in sources:
        if cancel.is_set():
            break
        try:
            found, fetched = _expand_one(source, fetcher, cache, cancel)
        except Exception as exc:  # noqa: BLE001 - one source's failure, whatever it is, is that source's error
            if not isinstance(exc, (SanctumError, OSError)):
                log.warning("reading a scan source failed: %s", type(exc).__name__)
            report.errors.append(SourceProblem(source, _reason(exc)))
            continue
        if fetched is not None:
            prefetched[source] = fetched
        candidates.extend(found)
    return candidates, prefetched


def _expand_one(source: str, fetcher: Fetcher, cache: ScanCache, cancel: threading.Event
                ) -> tuple[list[Candidate], Fetched | None]:
    if not is_url(source):
        path = Path(source).expanduser()
        if not path.exists():
            raise SanctumError("no such file or folder")
        return local_candidates(path), None  # an unreadable folder raises PermissionError here
    cached = cache.get(source)
    fetched = fetcher.get(source, cached[0] if cached else None, cancel)
    content = fetched.content or b""
    if fetched.status != 304 and imaging.sniff_kind(content[:32]) is None and looks_like_html(
            content, fetched.content_type):
        # Only what the parser will read is decoded (a page may be up to the 25 MB fetch cap).
        page_images = images_on_page(content[:MAX_PAGE_BYTES].decode("utf-8", "replace"), fetched.url)
        if not page_images:
            raise SanctumError("a web page with no images on this site")
        return [Candidate(url, source) for url in page_images], None
    return [Candidate(source)], fetched


def _check_candidate(candidate: Candidate, matcher: Matcher, fetcher: Fetcher, cache: ScanCache,
                     cancel: threading.Event, prefetched: dict[str, Fetched], budget: _DecodeBudget
                     ) -> list[Finding]:
    if not candidate.is_url:
        path = Path(candidate.location)
        if path.stat().st_size > imaging.MAX_FILE_BYTES:  # never read a huge file into memory
            raise ImageTooLarge(f"the file is larger than {imaging.MAX_FILE_BYTES // 2**20} MB")
        return _findings(candidate, path.read_bytes(), matcher, budget)
    cached = cache.get(candidate.location)
    # An image found on a page may reach only the networks the page the user typed is on.
    fetched = prefetched.pop(candidate.location, None) or fetcher.get(
        candidate.location, cached[0] if cached else None, cancel, origin=candidate.found_on)
    if fetched.status == 304 and cached:
        return cached[1]
    data = fetched.content or b""
    if imaging.sniff_kind(data[:32]) is None and looks_like_html(data, fetched.content_type):
        raise UnsupportedImage("a web page, not an image (a login or error page?)")
    findings = _findings(candidate, data, matcher, budget)
    if fetched.etag or fetched.last_modified:
        cache.put(candidate.location, CacheEntry(fetched.etag, fetched.last_modified), findings)
    return findings


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


def _findings(candidate: Candidate, data: bytes, matcher: Matcher, budget: _DecodeBudget) -> list[Finding]:
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
    return [Finding(candidate.location, candidate.found_on, m, evidence) for m in checked.results]


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

