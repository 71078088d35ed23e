"""Leak scans and removal requests: scanning, the matches with their evidence pictures, drafting,
sending and rechecking a removal request."""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QImage

from app.core.errors import PhotoNotFound, SanctumError
from app.core.vault import FileProblem, LeakMatchInfo, ScanOutcome, ShareInfo, TakedownInfo, Vault

from .base import Job, JobSignals
from .pictures import NOTHING_REVEALED, RevealState, blurred_image, sensitive_ids

if TYPE_CHECKING:  # the scan stack (OpenCV, httpx) loads only when a scan runs
    from app.core.leaks.crawl import PageOptions
    from app.core.leaks.fetch import FetchPolicy


def _fetcher_for(policy: FetchPolicy | None):
    """A fetcher made (and closed) on the worker thread; None lets the core use its defaults."""
    if policy is None:
        return contextlib.nullcontext(None)
    from app.core.leaks.fetch import Fetcher

    return Fetcher(policy)


class ScanJob(Job):
    """Look for vault photos in files, folders, image URLs and pages (seconds to minutes).

    On the vault-write lane: it writes match rows. Cancelling stops between images; the matches
    found until then are recorded and returned (`ScanOutcome.cancelled` says it stopped early).
    `policy` sets the HTTP limits (tests use short timeouts against a host on 127.0.0.1).
    With `watch_every` (hours) the sources join the watch list first and this scan is their first
    check, so what it looks at is remembered and the next check fetches only what is new.
    """

    lane = "vault-write"
    title = "Scanning for leaks"

    def __init__(self, vault: Vault, sources: list[str], policy: FetchPolicy | None = None,
                 pages: PageOptions | None = None, watch_every: float | None = None):
        super().__init__(vault)
        self.sources = tuple(str(s) for s in sources)
        self.policy = policy
        self.pages = pages
        self.watch_every = watch_every

    def work(self) -> ScanOutcome:
        with _fetcher_for(self.policy) as fetcher:
            if self.watch_every is None:
                return self.vault.scan(list(self.sources), progress=self.report_progress,
                                       cancel=self.cancel_event, fetcher=fetcher, pages=self.pages)
            return self._watch_and_scan(fetcher)

    def _watch_and_scan(self, fetcher) -> ScanOutcome:
        ids, refused = [], []
        for source in self.sources:
            try:
                ids.append(self.vault.watch_place(source, self.pages, self.watch_every).id)
            except SanctumError as exc:  # a place that cannot be watched is that place's problem
                refused.append(FileProblem(source, str(exc)))
        # A full check: the user asked for this scan, so it looks at every image, as a plain scan
        # would, even at a place watched before; what it looks at is remembered for the next.
        scan = self.vault.scan_watched(ids, due_only=False, full=True, progress=self.report_progress,
                                       cancel=self.cancel_event, fetcher=fetcher).scan if ids else ScanOutcome(
            0, [], [], False)
        return dataclasses.replace(scan, errors=refused + scan.errors)


@dataclass(frozen=True)
class MatchList:
    matches: list[LeakMatchInfo]
    takedowns: list[TakedownInfo]  # every removal request, newest first
    shares: dict[str, ShareInfo]  # share ID -> record, for matches that name a share


def _shares_of(vault: Vault, matches: list[LeakMatchInfo]) -> dict[str, ShareInfo]:
    shares: dict[str, ShareInfo] = {}
    for share_id in {m.share_id for m in matches if m.share_id}:
        share = vault.find_share(share_id)
        if share is not None:
            shares[share_id] = share
    return shares


def match_list(vault: Vault) -> MatchList:
    """What the Leaks view lists (run as `CallJob(vault, match_list, vault)`)."""
    matches = vault.list_matches()
    return MatchList(matches, vault.list_takedowns(), _shares_of(vault, matches))


@dataclass(frozen=True)
class MatchEvidence:
    """What a match row shows: the vault photo and the found copy, decoded for display."""

    match: LeakMatchInfo
    photo: QImage | None  # the vault photo's large thumbnail; None once the photo is deleted
    found: QImage | None  # the small copy of the found image kept as evidence
    share: ShareInfo | None


class EvidenceSignals(JobSignals):
    loaded = Signal(object)  # list[MatchEvidence], a few at a time


class EvidenceJob(Job):
    """Decrypt and decode both pictures of each match; hands them over a few at a time."""

    def __init__(self, vault: Vault, matches: list[LeakMatchInfo], reveal: RevealState = NOTHING_REVEALED):
        super().__init__(vault)
        self.matches = list(matches)
        self.reveal = reveal

    def make_signals(self) -> EvidenceSignals:
        return EvidenceSignals()

    def work(self) -> int:
        batch: list[MatchEvidence] = []
        shares: dict[str, ShareInfo | None] = {}
        flagged = sensitive_ids(self.vault, [m.photo_id for m in self.matches])
        for match in self.matches:
            self.check_cancelled()
            photo = found = None
            # A copy of a sensitive photo is as sensitive as the photo: both stay blurred.
            blur = match.photo_id in flagged and not self.reveal.shows(match.photo_id)
            if match.photo_id is not None:
                try:
                    data = self.vault.read_thumbnail(match.photo_id, "large")
                    photo = blurred_image(data) if blur else QImage.fromData(data)
                except PhotoNotFound:
                    photo = None
            evidence = self.vault.match_evidence(match.id)
            if evidence:
                found = blurred_image(evidence) if blur else QImage.fromData(evidence)
            share = None
            if match.share_id:
                if match.share_id not in shares:
                    shares[match.share_id] = self.vault.find_share(match.share_id)
                share = shares[match.share_id]
            batch.append(MatchEvidence(match, photo if photo is None or not photo.isNull() else None,
                                       found if found is None or not found.isNull() else None, share))
            if len(batch) >= 4:
                self.signals.loaded.emit(batch)
                batch = []
        if batch:
            self.signals.loaded.emit(batch)
        return len(self.matches)


class _TakedownStepJob(Job):
    """One step of a removal request, with a fetcher made on the worker thread."""

    lane = "vault-write"
    cancellable = False  # one short request, bounded by the fetch timeouts

    def __init__(self, vault: Vault, takedown_id: int, policy: FetchPolicy | None = None):
        super().__init__(vault)
        self.takedown_id = takedown_id
        self.policy = policy

    def step(self, fetcher) -> TakedownInfo:  # pragma: no cover - abstract
        raise NotImplementedError

    def work(self) -> TakedownInfo:
        with _fetcher_for(self.policy) as fetcher:
            return self.step(fetcher)


class SendTakedownJob(_TakedownStepJob):
    """Request the deletion link / call the API, or record that the user sent the notice.

    A refusal is recorded by the core as "failed" with its reason, and raised (→ `failed`)."""

    def step(self, fetcher) -> TakedownInfo:
        return self.vault.send_takedown(self.takedown_id, fetcher)


class RecheckTakedownJob(_TakedownStepJob):
    """Look at the found address again: gone, or no longer the photo, marks it removed."""

    def step(self, fetcher) -> TakedownInfo:
        return self.vault.recheck_takedown(self.takedown_id, fetcher)


@dataclass(frozen=True)
class HashExport:
    photo_id: int
    hashes: dict  # the core's export: PDQ + MD5, never the photo


def hash_export(vault: Vault, photo_id: int) -> HashExport:
    """A photo's hashes for the user to save (run as `CallJob(vault, hash_export, vault, photo_id)`)."""
    return HashExport(photo_id, vault.hash_export(photo_id))


