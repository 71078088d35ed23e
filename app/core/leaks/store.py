"""What leak scans found, kept in the vault's DB: scanning, the found copies, their evidence.

`LeakStore` belongs to one open `Vault` (the facade delegates `scan`, `list_matches`, ...): it
builds the matcher from the vault's stored fingerprints, local features and shares, and records
what a scan finds.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .. import db
from ..db import LeakMatch, PhotoFingerprint, Share
from ..errors import SanctumError
from ..vault.records import (
    FileProblem,
    LeakMatchInfo,
    Progress,
    ScanOutcome,
    as_datetime,
    leak_info,
    local_now,
    no_progress,
)
from . import capture_store
from .matcher import Matcher, ShareReference, VaultReference

if TYPE_CHECKING:
    from ..vault import Vault
    from .crawl import PageOptions
    from .feature_index import FeatureIndex
    from .fetch import Fetcher
    from .scan import ScanCache, ScanReport
    from .sources import Candidate


class LeakStore:
    """Leak scans of one open vault, and the scan cache of its session."""

    def __init__(self, vault: Vault):
        self._vault = vault
        # What scans of this session fetched: ETag / Last-Modified validators and what was found
        # with them, so a re-scan of unchanged images costs one short request. Memory only, and
        # gone with the session: validators replayed across sessions would let a host recognise the
        # user, like a cookie (db migration 5 dropped the ones older versions stored).
        self._scan_cache: ScanCache | None = None
        # Every photo's local features, searchable: loaded at the session's first scan, then
        # kept in step with the DB (feature_store.synced) instead of rebuilt for each matcher.
        self._feature_index: FeatureIndex | None = None
        self._index_lock = threading.Lock()

    def forget_photo(self, photo_id: int) -> None:
        """A deleted photo leaves the scan cache (it would point a later scan at nothing) and
        the feature index (it is never a candidate again)."""
        if self._scan_cache is not None:
            self._scan_cache.forget_photo(photo_id)
        if self._feature_index is not None:
            self._feature_index.remove([photo_id])

    def feature_index(self, progress: Progress = no_progress, cancel: threading.Event | None = None
                      ) -> FeatureIndex:
        """The session's feature index, brought up to date with the DB."""
        from . import feature_store

        self._vault._require_open()
        with self._index_lock:
            self._feature_index = feature_store.synced(self._feature_index, progress, cancel)
            return self._feature_index

    def rebuild_feature_index(self, progress: Progress = no_progress, cancel: threading.Event | None = None
                              ) -> int:
        """Train the vocabulary again on the vault as it is and rebuild the index; returns
        how many photos it holds."""
        from . import feature_store

        self._vault._require_open()
        with self._index_lock:
            self._feature_index = feature_store.rebuild(progress, cancel)
            return len(self._feature_index)

    def build_matcher(self) -> Matcher:
        """A matcher over every vault photo and shared copy (built once per scan)."""
        self._vault._require_open()
        index = self.feature_index()
        # Local features come from the index; references carry the PDQ fingerprints only.
        references = [VaultReference(row.photo_id, bytes(row.pdq), row.pdq_quality, None)
                      for row in PhotoFingerprint.select()]
        shares = [ShareReference(row.share_id, row.photo_id, bytes(row.pdq)) for row in Share.select()]
        # A page often shows one photo several times: decrypt and rebuild its share pixels once.
        return Matcher(references, shares, self._vault.share_keys(), share_sources=functools.lru_cache(maxsize=2)(
            self._vault.share_sources), feature_index=index)

    def scan(
        self,
        sources: Sequence[str],
        progress: Progress = no_progress,
        cancel: threading.Event | None = None,
        fetcher: Fetcher | None = None,
        pages: PageOptions | None = None,
    ) -> ScanOutcome:
        """Look for vault photos in files, folders, image URLs and pages (read as far as `pages`
        says); record what is found.

        A copy already recorded (same source, same photo) is updated, not duplicated."""
        report = self.run(sources, progress, cancel, fetcher, pages)
        return self.record(report)[0]

    def run(self, sources: Sequence[str], progress: Progress = no_progress, cancel: threading.Event | None = None,
            fetcher: Fetcher | None = None, pages: PageOptions | None = None,
            skip: Callable[[Candidate], bool] | None = None, matcher: Matcher | None = None) -> ScanReport:
        """A scan with this session's cache, nothing recorded yet (`record` does that)."""
        from .scan import ScanCache, run_scan

        if self._scan_cache is None:
            self._scan_cache = ScanCache()
        return run_scan(sources, matcher or self.build_matcher(), fetcher=fetcher, cache=self._scan_cache,
                        progress=progress, cancel=cancel, pages=pages, skip=skip)

    def record(self, report: ScanReport) -> tuple[ScanOutcome, list[int]]:
        """Keep what a scan found; also says which copies were not recorded before (their ids)."""
        now = local_now()
        new: list[int] = []
        recorded: list[LeakMatchInfo] = []
        page_ids: dict[str, int] = {}  # one capture per page per scan, shared by its copies
        for finding in report.findings:
            match = finding.match
            page = report.pages.get(finding.found_on) if finding.found_on else None
            if page is not None and finding.found_on not in page_ids:
                with db.database.atomic():
                    page_ids[finding.found_on] = capture_store.store_page(page)
            # Seen when it was fetched (the capture's clock), not when the scan finished.
            seen = finding.capture.fetched_at.astimezone().replace(tzinfo=None) if finding.capture else now
            with db.database.atomic():
                row = (LeakMatch.select().where((LeakMatch.source == finding.source)
                                                & (LeakMatch.photo == match.photo_id)).first())
                if row is None:
                    row = LeakMatch.create(
                        source=finding.source, found_on=finding.found_on, photo=match.photo_id,
                        share_id=match.share_id, method=match.method, score=match.score,
                        pdq_distance=match.pdq_distance, inliers=match.inliers,
                        region=json.dumps(match.region) if match.region else None, detail=match.detail,
                        found_width=match.found_size[0] if match.found_size else None,
                        found_height=match.found_size[1] if match.found_size else None,
                        first_seen=seen, last_seen=seen, evidence=finding.evidence or None,
                    )
                    new.append(row.id)
                else:
                    row.last_seen = max(as_datetime(row.last_seen), seen)
                    row.save()
                if finding.capture is not None:
                    capture_store.record_capture(row.id, finding.capture, page_ids.get(finding.found_on or ""))
            recorded.append(leak_info(row))
        return ScanOutcome(report.scanned, [FileProblem(e.source, e.reason) for e in report.errors],
                           recorded, report.cancelled), new

    def list_matches(self) -> list[LeakMatchInfo]:
        self._vault._require_open()
        return [leak_info(row) for row in LeakMatch.select().order_by(LeakMatch.last_seen.desc())]

    def dismiss_match(self, match_id: int) -> None:
        """The user says a found image is not their photo: keep the record, marked dismissed."""
        self._vault._require_open()
        if LeakMatch.update(status="dismissed").where(LeakMatch.id == match_id).execute() != 1:
            raise SanctumError(f"No found copy with id {match_id}.")

    def match_evidence(self, match_id: int) -> bytes | None:
        row = LeakMatch.get_or_none(LeakMatch.id == match_id)
        return bytes(row.evidence) if row and row.evidence else None
